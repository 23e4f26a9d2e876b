"""A search running while another process re-embeds the store never ranks with vectors of two
embedders, nor with vectors of another embedder than its query's: when the swap commits in the
middle of a search, that search is refused (IndexMismatchError), as every later one is.

The swap is made to land at a chosen point of one search: the search's own steps call the
re-embed (another handle, its own connections) at that point."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from langmem.embeddings import HashingEmbeddings
from langmem.errors import IndexMismatchError
from langmem.stores import PostgresStore, _pg_search


class Salted(Embeddings):
    """Hashing embeddings of the same dims under another name: another model's vectors."""

    model_id = "salted-16"

    def __init__(self) -> None:
        self.inner = HashingEmbeddings(16)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents([t[::-1] for t in texts])

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text[::-1])


def _index(embed: Any) -> Any:
    return {"dims": 16, "embed": embed, "fields": ["text"]}


@pytest.fixture()
def stores(pg_database: str) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    searching = PostgresStore.from_url(pg_database, index=_index(HashingEmbeddings(16)))
    for i in range(30):
        searching.put(("n",), f"k{i}", {"text": f"note {i} about kiwi and tea {i % 7}"})
    other = PostgresStore.from_url(pg_database, index=_index(HashingEmbeddings(16)))
    try:
        yield searching, other
    finally:
        searching.close()
        other.close()


@contextmanager
def _no_spare(store: PostgresStore) -> Iterator[None]:
    yield None


def _reembed_once(other: PostgresStore) -> Any:
    done: list[int] = []

    def swap() -> None:
        if not done:
            done.append(other.reembed(_index(Salted())))

    return swap, done


@pytest.mark.parametrize("spare", [True, False])
def test_a_swap_before_the_vector_query_refuses_the_search(
    stores: tuple[PostgresStore, PostgresStore], monkeypatch: pytest.MonkeyPatch, spare: bool
) -> None:
    searching, other = stores
    if not spare:
        monkeypatch.setattr(searching, "_spare", lambda: _no_spare(searching))
    swap, done = _reembed_once(other)
    send = _pg_search._send_candidates

    def late_send(*args: Any, **kwargs: Any) -> Any:
        swap()  # the search's identity check already ran, in its own statement
        return send(*args, **kwargs)

    monkeypatch.setattr(_pg_search, "_send_candidates", late_send)
    with pytest.raises(IndexMismatchError, match="re-embedded by another handle"):
        searching.search(("n",), query="kiwi tea 3", limit=5)
    assert done == [30]
    with pytest.raises(IndexMismatchError):  # as every later search
        searching.search(("n",), query="kiwi tea 3", limit=5)


def test_a_swap_between_the_vector_and_word_queries_refuses_the_search(
    stores: tuple[PostgresStore, PostgresStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The vector query has read the old vectors; the word query would read the new ones'
    cosines: one ranking would mix two embedders."""
    searching, other = stores
    monkeypatch.setattr(searching, "_spare", lambda: _no_spare(searching))
    swap, done = _reembed_once(other)
    count = searching.word_counts.count

    def late_count(cur: Any, words: list[str]) -> dict[str, int]:
        swap()  # the vector query ran (the text counts before this synced the pipeline)
        return count(cur, words)

    monkeypatch.setattr(searching.word_counts, "count", late_count)
    with pytest.raises(IndexMismatchError, match="re-embedded by another handle"):
        searching.search(("n",), query="kiwi tea 3", limit=5)
    assert done == [30]


def test_searches_around_a_reembed_rank_with_one_embedder(
    stores: tuple[PostgresStore, PostgresStore], pg_database: str
) -> None:
    """Before the swap: the old embedder's results; after: a handle with the new index ranks
    with the new vectors only (the same results as a store written with it from the start)."""
    searching, other = stores
    before = [h.key for h in searching.search(("n",), query="kiwi tea 3", limit=5)]
    other.reembed(_index(Salted()))
    fresh = PostgresStore.from_url(pg_database, index=_index(Salted()))
    try:
        after = [(h.key, h.score) for h in fresh.search(("n",), query="kiwi tea 3", limit=5)]
        assert len(before) == 5 and len(after) == 5
        scores = [(h.key, h.score) for h in other.search(("n",), query="kiwi tea 3", limit=5)]
        assert scores == after  # the re-embedding handle now searches with the new index
    finally:
        fresh.close()


def test_a_swap_before_the_similarity_query_refuses_the_search(
    stores: tuple[PostgresStore, PostgresStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With supersede on, the rule compares candidates' stored vectors in a query of its own:
    a swap committed before it refuses the search."""
    from langmem.stores.ranking import Ranking

    searching, other = stores
    searching.ranking = Ranking(supersede=0.3, supersede_threshold=0.0)
    swap, done = _reembed_once(other)
    real = _pg_search.postgres_similarity

    def late_similarity(cur: Any) -> Any:
        inner = real(cur)

        def similarity(candidates: Any, floor: float) -> Any:
            swap()
            return inner(candidates, floor)

        similarity.sums = inner.sums  # type: ignore[attr-defined]
        return similarity

    monkeypatch.setattr(_pg_search, "postgres_similarity", late_similarity)
    with pytest.raises(IndexMismatchError, match="re-embedded by another handle"):
        searching.search(("n",), query="kiwi tea 3", limit=5)
    assert done == [30]


class Wider(Embeddings):
    """Another model with other dims: the vector column changes size at the swap."""

    model_id = "wider-32"

    def __init__(self) -> None:
        self.inner = HashingEmbeddings(32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


@pytest.mark.parametrize("spare", [True, False])
def test_a_swap_to_other_dims_before_the_vector_query_refuses_the_search(
    stores: tuple[PostgresStore, PostgresStore], monkeypatch: pytest.MonkeyPatch, spare: bool
) -> None:
    """The vector query compares the 16-d query with 32-d vectors: pgvector fails before the
    statement's identity is read; the search gets the same IndexMismatchError."""
    searching, other = stores
    if not spare:
        monkeypatch.setattr(searching, "_spare", lambda: _no_spare(searching))
    # a first search: the namespace's size estimate (an EXPLAIN, which would hold the table
    # until the search ends) is cached, as in a running application
    searching.search(("n",), query="kiwi tea 3", limit=5)
    done: list[int] = []
    send = _pg_search._send_candidates

    def late_send(*args: Any, **kwargs: Any) -> Any:
        if not done:  # the search's identity check already ran, in its own statement
            done.append(other.reembed({"dims": 32, "embed": Wider(), "fields": ["text"]}))
        return send(*args, **kwargs)

    monkeypatch.setattr(_pg_search, "_send_candidates", late_send)
    with pytest.raises(IndexMismatchError, match=r"re-embedded by another handle.*dims=32"):
        searching.search(("n",), query="kiwi tea 3", limit=5)
    assert done == [30]
    with pytest.raises(IndexMismatchError):  # as every later search
        searching.search(("n",), query="kiwi tea 3", limit=5)
    with pytest.raises(IndexMismatchError):
        searching.explain(("n",), "kiwi", limit=5)


def test_a_swap_to_other_dims_is_named_at_once_on_a_busy_pool(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search that meets the resized vectors asks which index the database records on its
    own (rolled-back) connection: with every other pooled connection busy and another request
    queued for the one it returns, it does not wait for a connection (it used to wait until one
    came back, up to the pool's 30 s timeout, before raising)."""
    import threading

    searching = PostgresStore.from_url(
        pg_database, index=_index(HashingEmbeddings(16)), pool_size=2
    )
    other = PostgresStore.from_url(pg_database, index=_index(HashingEmbeddings(16)))
    release = threading.Event()
    waited: list[bool] = []  # True: a holder gave its connection back only at its timeout
    holders: list[threading.Thread] = []
    pool: Any = searching.conn

    def hold() -> None:
        conn = pool.getconn(timeout=30)
        try:
            waited.append(not release.wait(timeout=8))
        finally:
            pool.putconn(conn)

    try:
        for i in range(30):
            searching.put(("n",), f"k{i}", {"text": f"note {i} about kiwi and tea {i % 7}"})
        monkeypatch.setattr(searching, "_spare", lambda: _no_spare(searching))
        searching.search(("n",), query="kiwi tea 3", limit=5)  # size estimate cached
        send = _pg_search._send_candidates

        def late_send(*args: Any, **kwargs: Any) -> Any:
            if not holders:
                other.reembed({"dims": 32, "embed": Wider(), "fields": ["text"]})
                for n in range(2):  # the pool's other connection, then a queued request
                    holders.append(threading.Thread(target=hold))
                    holders[-1].start()
                    while pool.get_stats().get("requests_waiting", 0) < n:
                        threading.Event().wait(0.01)
                while pool.get_stats().get("pool_available", 0) > 0:
                    threading.Event().wait(0.01)
            return send(*args, **kwargs)

        monkeypatch.setattr(_pg_search, "_send_candidates", late_send)
        with pytest.raises(IndexMismatchError, match=r"re-embedded by another handle.*dims=32"):
            searching.search(("n",), query="kiwi tea 3", limit=5)
        release.set()
        for holder in holders:
            holder.join(timeout=30)
        assert waited == [False, False]
    finally:
        release.set()
        searching.close()
        other.close()
