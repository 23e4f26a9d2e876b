"""Copies and imports into PostgreSQL of items it cannot hold (NUL in a key or value, NaN or
infinity in a value: all legal in SQLite) name every such item before writing anything, where
they used to stop half-way with a raw psycopg error; items with ``ttl=math.inf`` copy."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

import pytest
from langgraph.store.base import Item

from langmem.embeddings import HashingEmbeddings
from langmem.errors import InvalidInputError
from langmem.stores import PostgresStore, SqliteStore, copy_store
from tests.cli._support import line, run

NS = ("n",)
BAD = {"nul": {"text": "a\x00b"}, "inf": {"text": "x", "n": math.inf}}


def _index() -> dict[str, object]:
    return {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["text"]}


def _source(tmp_path: Path, fields: tuple[str, ...] = ("text",)) -> SqliteStore:
    index = {**_index(), "fields": list(fields)}
    source = SqliteStore(tmp_path / "s.sqlite", index=index)  # type: ignore[arg-type]
    for number in range(12):
        source.put(NS, f"k{number:02}", {"text": f"fact {number}"})
    source.put(NS, "forever", {"text": "never expires"}, ttl=math.inf)
    for key, value in BAD.items():
        source.put(NS, key, value)
    source.put(NS, "key\x00nul", {"text": "y"})
    source.put(NS, "escaped", {"text": "a\\u0000 NaN Infinity"})  # text only: copies
    return source


def _rows(pg: PostgresStore) -> dict[str, tuple[int, float | None]]:
    """key -> (its vectors, its ttl_minutes)."""
    with pg._transaction() as cur:
        cur.execute(
            "SELECT s.key, s.ttl_minutes AS m, count(v.key) AS n FROM store s LEFT JOIN"
            " store_vectors v ON v.prefix = s.prefix AND v.key = s.key"
            " GROUP BY s.key, s.ttl_minutes"
        )
        return {r["key"]: (r["n"], r["m"]) for r in cur.fetchall()}


def test_copy_names_every_bad_item_and_writes_nothing(tmp_path: Path, pg_database: str) -> None:
    source = _source(tmp_path)
    with PostgresStore.from_url(pg_database, index=_index()) as pg:  # type: ignore[arg-type]
        pg.put(("other",), "mine", {"text": "was here"})
        with pytest.raises(InvalidInputError) as caught:
            copy_store(source, pg, batch_size=4)
        message = str(caught.value)
        assert message.startswith("3 item(s) hold what PostgreSQL cannot store")
        for named in (
            r"n/'nul': \x00 at value['text']",
            r"n/'inf': inf at value['n']",
            r"n/'key\x00nul': \x00 in the key at position 3",
            "Nothing was copied",
            "strip the NUL",
        ):
            assert named in message
        assert "escaped" not in message
        assert _rows(pg) == {"mine": (1, None)}

        for key in [*BAD, "key\x00nul"]:
            source.delete(NS, key)
        assert copy_store(source, pg, batch_size=4) == 14
        rows = _rows(pg)
        assert rows["forever"] == (1, 1e11) and rows["k05"] == (1, None)
        assert pg.get(NS, "escaped").value == {"text": "a\\u0000 NaN Infinity"}  # type: ignore[union-attr]
        back = SqliteStore(tmp_path / "back.sqlite", index=_index())  # type: ignore[arg-type]
        assert copy_store(pg, back) == 15 and copy_store(source, back) == 14
        forever = back.get(NS, "forever", refresh_ttl=False)
        assert forever is not None and forever.value == {"text": "never expires"}


def test_an_item_spoiled_during_a_copy_stops_it_between_whole_batches(
    tmp_path: Path, pg_database: str
) -> None:
    source = SqliteStore(tmp_path / "s.sqlite", index=_index())  # type: ignore[arg-type]
    for number in range(8):
        source.put(NS, f"k{number}", {"text": f"fact {number}"})

    def spoil(done: int, total: int) -> None:
        if done == 4:  # after the first batch, a new item (read in a later batch) holds NUL
            source.put(NS, "late", {"text": "\x00"})

    with PostgresStore.from_url(pg_database, index=_index()) as pg:  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match=r"n/'late'.*stopped after 8 item\(s\)"):
            copy_store(source, pg, batch_size=4, progress=spoil)
        assert _rows(pg) == {f"k{n}": (1, None) for n in range(8)}


def test_cli_copy_and_import_name_the_items(tmp_path: Path, pg_database: str) -> None:
    _source(tmp_path, ("$",)).close()
    target = f"{pg_database}?embed=hashing&dims=16"
    copied = run(
        "store", "copy", f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing&dims=16", target
    )
    assert copied.exit_code == 1
    assert "3 item(s) hold what PostgreSQL cannot store" in copied.stderr
    assert r"n/'nul': \x00 at value['text']" in copied.stderr

    stamp = datetime(2024, 1, 1, tzinfo=timezone.utc).isoformat()
    records = [
        {"namespace": ["n"], "key": key, "value": value, "created_at": stamp, "updated_at": stamp}
        for key, value in {"ok": {"text": "fine"}, "bad": {"text": "a\x00"}}.items()
    ]
    text = "".join(line(r) + "\n" for r in records)
    assert "\\u0000" in text
    imported = run("memories", "import", "-", "--store", target, input=text)
    assert imported.exit_code == 1
    assert r"1 item(s) hold what PostgreSQL cannot store: n/'bad': \x00 at value['text']" in (
        imported.stderr
    )
    assert json.loads(run("store", "info", "--store", target).stdout)["memories"] == 0


def test_restore_names_every_bad_item(pg_database: str) -> None:
    stamp = datetime(2024, 1, 1, tzinfo=timezone.utc)
    items = [
        Item(namespace=NS, key=key, value=value, created_at=stamp, updated_at=stamp)
        for key, value in {"ok": {"text": "fine"}, **BAD}.items()
    ]
    with PostgresStore.from_url(pg_database, index=_index()) as pg:  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match=r"^2 item\(s\).*'nul'.*'inf'.*Nothing was"):
            pg.restore(items)
        assert pg.get(NS, "ok") is None


def test_restore_keeps_an_infinite_ttl_as_the_longest_one(pg_database: str) -> None:
    stamp = datetime(2024, 1, 1, tzinfo=timezone.utc)
    item = Item(namespace=NS, key="k", value={"text": "x"}, created_at=stamp, updated_at=stamp)
    far = datetime(9000, 1, 1, tzinfo=timezone.utc)
    with PostgresStore.from_url(pg_database, index=_index()) as pg:  # type: ignore[arg-type]
        assert pg.restore([item], ttls={(NS, "k"): (math.inf, far)}) == 1
        assert pg.get(NS, "k", refresh_ttl=True) is not None  # the refresh computes NOW() + TTL
        assert _rows(pg) == {"k": (1, 1e11)}
