"""Re-embedding a PostgreSQL store: the new index's vectors only, resumable after an
interruption, never two embedders' vectors side by side, and the CLI on a Postgres URL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
from langchain_core.embeddings import Embeddings

from langmem.embeddings import HashingEmbeddings
from langmem.errors import IndexMismatchError
from langmem.stores import PostgresStore
from langmem.stores._pg_identity import Identity
from tests.cli._support import run, seed_text


class Counting(Embeddings):
    """Hashing embeddings that count the texts they embed, and fail after ``fail_after``."""

    def __init__(self, dims: int, fail_after: int | None = None, salt: str = "") -> None:
        self.inner = HashingEmbeddings(dims)
        self.model_id = f"counting-{salt}{dims}"
        self.texts: list[str] = []
        self.fail_after = fail_after

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.fail_after is not None and len(self.texts) >= self.fail_after:
            raise RuntimeError("the embedding service went away")
        self.texts += texts
        return self.inner.embed_documents([t + self.model_id for t in texts])

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text + self.model_id)


def _index(embed: Any, dims: int, fields: list[str] | None = None) -> Any:
    return {"dims": dims, "embed": embed, "fields": fields or ["text"]}


@pytest.fixture()
def old(pg_database: str) -> Iterator[PostgresStore]:
    store = PostgresStore.from_url(pg_database, index=_index(HashingEmbeddings(16), 16))
    for i in range(20):
        store.put(("n", str(i % 2)), f"k{i}", {"text": f"note {i} kiwi", "tags": ["a", f"t{i}"]})
    store.put(("n",), "plain", {"text": "never indexed"}, index=False)
    try:
        yield store
    finally:
        store.close()


def _vectors(url: str) -> dict[tuple[str, str, str], tuple[str, list[float]]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT prefix, key, field_name, lm_text, embedding::real[] FROM store_vectors"
        ).fetchall()
    return {(p, k, f): (t, list(e)) for p, k, f, t, e in rows}


def _recorded(url: str) -> tuple[str, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT identity, generation FROM langmem_index").fetchone()
    assert row is not None
    return row[0], row[1]


def _stage_size(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM langmem_reembed").fetchone()
    return int(row[0]) if row else 0


def test_new_dims_replace_every_vector_and_stale_handles_are_refused(
    old: PostgresStore, pg_database: str
) -> None:
    before = _vectors(pg_database)
    worker = PostgresStore.from_url(pg_database, index=_index(HashingEmbeddings(16), 16))
    new = Counting(24)
    seen: list[tuple[int, int]] = []
    assert old.reembed(_index(new, 24), batch_size=6, progress=lambda *a: seen.append(a)) == 20
    assert seen == [(0, 20), (6, 20), (12, 20), (18, 20), (20, 20)]
    after = _vectors(pg_database)
    assert sorted(after) == sorted(before) and len(after) == 20  # the same rows, "plain" none
    for (text, vector), (old_text, _) in zip(after.values(), (before[k] for k in after)):
        assert text == old_text
        expected = np.float32(new.embed_documents([text])[0])
        assert np.array_equal(np.float32(vector), expected)
    identity = Identity.parse(_recorded(pg_database)[0])
    assert (identity.embedder, identity.dims, _recorded(pg_database)[1]) == ("counting-24", 24, 1)
    assert _stage_size(pg_database) == 0
    with psycopg.connect(pg_database) as conn:  # the vector indexes are back, for 24 dims
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes")}
    assert {"store_vectors_embedding_idx", "store_vectors_lm_cover_idx"} <= indexes
    # the handle that re-embedded now searches and writes with the new index
    assert old.search(("n",), query="note 3 kiwi", limit=1)[0].key == "k3"
    old.put(("n",), "new", {"text": "fresh kiwi"})
    assert len(_vectors(pg_database)[("n", "new", "text")][1]) == 24
    # another process's handle with the old index is refused, reading and writing alike
    with pytest.raises(IndexMismatchError, match="re-embedded by another handle"):
        worker.search(("n",), query="kiwi")
    with pytest.raises(IndexMismatchError):
        worker.put(("n",), "stale", {"text": "written with the old model"})
    with pytest.raises(IndexMismatchError):
        worker.explain(("n",), "kiwi")
    assert worker.get(("n",), "stale") is None  # nothing written
    assert worker.get(("n", "1"), "k1") is not None  # reads without vectors still work
    worker.close()
    with pytest.raises(IndexMismatchError, match="is indexed with"):
        PostgresStore.from_url(pg_database, index=_index(HashingEmbeddings(16), 16))
    again = PostgresStore.from_url(pg_database, index=_index(Counting(24), 24))
    assert again.search(("n",), query="note 3 kiwi", limit=1)[0].key == "k3"
    again.close()


def test_same_dims_other_model_and_new_fields(old: PostgresStore, pg_database: str) -> None:
    other = Counting(16, salt="b")
    assert old.reembed(_index(other, 16)) == 20  # same dims: no change of column type
    assert {t for t, _ in _vectors(pg_database).values()} == {f"note {i} kiwi" for i in range(20)}
    assert sorted(set(other.texts)) == sorted(f"note {i} kiwi" for i in range(20))
    # new fields: texts come from each value at them; the unindexed item stays unindexed
    # 20 texts, 20 distinct tags and the tag "a" that every item has
    assert old.reembed(_index(other, 16, ["text", "tags[*]"])) == 41
    assert len(_vectors(pg_database)) == 60
    keys = sorted(_vectors(pg_database))
    assert ("n.1", "k1", "tags[*].1") in keys and not [k for k in keys if k[1] == "plain"]
    assert _recorded(pg_database)[1] == 2
    hit = old.search(("n",), query="t7", limit=1)[0]
    assert hit.key == "k7"


def test_an_interrupted_run_changes_nothing_and_resumes(
    old: PostgresStore, pg_database: str
) -> None:
    before = _vectors(pg_database)
    failing = Counting(24, fail_after=8)
    with pytest.raises(RuntimeError, match="went away"):
        old.reembed(_index(failing, 24), batch_size=4)
    assert _vectors(pg_database) == before  # the store is untouched...
    assert Identity.parse(_recorded(pg_database)[0]).dims == 16
    assert old.search(("n",), query="note 3 kiwi", limit=1)[0].key == "k3"  # ...and serves
    assert _stage_size(pg_database) == 8  # two batches were kept
    old.put(("n", "0"), "k2", {"text": "changed kiwi"})  # a staged text changes meanwhile
    resumed = Counting(24)
    assert old.reembed(_index(resumed, 24), batch_size=4) == 20
    assert len(resumed.texts) == 13  # 12 never staged + the changed one
    assert "changed kiwi" in resumed.texts
    assert _vectors(pg_database)[("n.0", "k2", "text")][0] == "changed kiwi"
    # another target starts over
    fresh = Counting(32, fail_after=4)
    with pytest.raises(RuntimeError):
        old.reembed(_index(fresh, 32), batch_size=4)
    final = Counting(8)
    assert old.reembed(_index(final, 8), batch_size=50) == 20 and len(final.texts) == 20


def test_writes_wait_for_the_swap_and_texts_written_meanwhile_are_embedded(
    old: PostgresStore, pg_database: str
) -> None:
    new = Counting(24)
    # a write in flight holds the shared lock: the swap waits for it
    writer = psycopg.connect(pg_database)
    writer.execute("SELECT langmem_index_check(%s, true)", (old._identity.text(),))  # type: ignore[union-attr]
    writer.execute(
        "INSERT INTO store (prefix, key, value) VALUES ('n', 'late', '{\"text\": \"late kiwi\"}')"
    )
    writer.execute(
        "INSERT INTO store_vectors (prefix, key, field_name, embedding, lm_text)"
        " VALUES ('n', 'late', 'text', %s::vector, 'late kiwi')",
        (str(HashingEmbeddings(16).embed_documents(["late kiwi"])[0]),),
    )
    done: list[int] = []
    thread = threading.Thread(target=lambda: done.append(old.reembed(_index(new, 24))))
    thread.start()
    time.sleep(1.0)
    assert not done and thread.is_alive()  # staged, then waiting for the writer
    writer.commit()
    writer.close()
    thread.join(30)
    assert done == [21]  # the late text was embedded inside the swap
    vector = _vectors(pg_database)[("n", "late", "text")][1]
    assert np.array_equal(np.float32(vector), np.float32(new.embed_documents(["late kiwi"])[0]))


def test_async_search_of_a_stale_handle_is_refused(old: PostgresStore, pg_database: str) -> None:
    import asyncio

    stale = PostgresStore.from_url(  # without setup(): it looks the check up on first use
        pg_database, index=_index(HashingEmbeddings(16), 16), setup=False
    )
    old.reembed(_index(Counting(16, salt="c"), 16))
    with pytest.raises(IndexMismatchError):
        asyncio.run(stale.asearch(("n",), query="kiwi"))
    stale.close()


def test_cli_reembeds_a_postgres_store(pg_database: str) -> None:
    url = f"{pg_database}?embed=hashing"
    assert run("memories", "import", "-", "--store", url, input=seed_text()).exit_code == 0
    result = run("store", "reembed", "--embed", "hashing", "--dims", "32", "--store", pg_database)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "reembedded": 3,
        "index": {"embeddings": "langmem-hashing-32", "dims": 32, "fields": ["$"], "generation": 1},
    }
    # a URL without ?embed opens the store with the index it records
    hit = run("memories", "search", "Berlin marathon", "--limit", "1", "--store", pg_database)
    assert hit.exit_code == 0, hit.stderr
    assert '"key":"b1"' in hit.stdout
    assert run("memories", "export", "--store", pg_database).stdout == seed_text()
    info = json.loads(run("store", "info", "--store", pg_database).stdout)
    assert info["index"]["dims"] == 32 and info["index"]["generation"] == 1
    stale = run("memories", "search", "x", "--store", f"{pg_database}?embed=hashing&dims=384")
    assert stale.exit_code == 1
    assert "is indexed with (embed='langmem-hashing-32', dims=32" in stale.stderr
    assert "langmem-test" not in stale.stderr  # the password is never shown


def test_a_database_langgraph_made_is_refused_then_reembedded(pg_database: str) -> None:
    from langgraph.store.postgres import PostgresStore as LangGraphStore

    theirs: Any = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["content"]}
    with LangGraphStore.from_conn_string(pg_database, index=theirs) as lg:
        lg.setup()
        lg.put(("m", "u1"), "a", {"content": "Ana likes green tea"})
        lg.put(("m", "u1"), "b", {"content": "Bo runs the Berlin marathon"})
    # vectors of 32 dims, no record of their embeddings: a 384-dim handle is refused
    with pytest.raises(IndexMismatchError, match="holds 32-dim vectors"):
        PostgresStore.from_url(pg_database, index=_index(HashingEmbeddings(384), 384))
    result = run(
        "store", "reembed", "--store", pg_database, "--embed", "hashing", "--dims", "64",
        "--fields", "content",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["reembedded"] == 2  # texts read from the values
    texts = {t for t, _ in _vectors(pg_database).values()}
    assert texts == {"Ana likes green tea", "Bo runs the Berlin marathon"}
    hit = run("memories", "search", "green tea", "--limit", "1", "--store", pg_database)
    assert '"key":"a"' in hit.stdout


def test_a_killed_run_leaves_the_store_as_it_was_and_resumes(
    old: PostgresStore, pg_database: str
) -> None:
    import signal
    import subprocess
    import sys
    from pathlib import Path

    before = _vectors(pg_database)
    worker = Path(__file__).with_name("_reembed_worker.py")
    child = subprocess.Popen(
        [sys.executable, str(worker), pg_database], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    for line in child.stdout:  # killed (SIGKILL) once three batches are committed
        if line.strip() == "12/20":
            child.send_signal(signal.SIGKILL)
            break
    child.wait(30)
    assert child.returncode == -signal.SIGKILL
    assert _vectors(pg_database) == before  # nothing of the new index in the store
    assert Identity.parse(_recorded(pg_database)[0]).dims == 16
    assert old.search(("n",), query="note 3 kiwi", limit=1)[0].key == "k3"
    staged = _stage_size(pg_database)
    assert 12 <= staged < 20
    resumed = Counting(24)
    assert old.reembed(_index(resumed, 24), batch_size=4) == 20
    assert len(resumed.texts) == 20 - staged  # only what the killed run had not staged
    after = _vectors(pg_database)
    for text, vector in after.values():
        assert np.array_equal(np.float32(vector), np.float32(resumed.embed_documents([text])[0]))


def test_a_database_without_a_record_takes_texts_from_the_values(
    old: PostgresStore, pg_database: str
) -> None:
    with psycopg.connect(pg_database) as conn:  # as a database set up before the record
        conn.execute("DELETE FROM langmem_index")
    assert old.reembed(_index(Counting(16), 16, ["tags[*]"])) == 21  # "a" and t0..t19
    assert {f for _, _, f in _vectors(pg_database)} == {"tags[*].0", "tags[*].1"}
    assert Identity.parse(_recorded(pg_database)[0]).fields == ("tags[*]",)
