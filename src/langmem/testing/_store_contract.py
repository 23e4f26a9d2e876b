"""The store contract: what langmem relies on from a LangGraph ``BaseStore``, as runnable checks.

Each check builds fresh stores through a :class:`StoreUnderTest` and raises ``AssertionError``
when the store breaks the contract. Every check runs through the sync API (``put``, ``search``,
...) or the async one (``aput``, ``asearch``, ...), chosen by ``mode``. No pytest needed; with
pytest, parametrize over :func:`store_contract`::

    @pytest.mark.parametrize("check", store_contract(), ids=str)
    @pytest.mark.parametrize("mode", ["sync", "async"])
    def test_my_store(check, mode, tmp_path):
        check(StoreUnderTest(make=lambda index, ttl: MyStore(index=index, ttl=ttl)), mode)

Checks use :class:`HashingEmbeddings` (64 dims, field ``"text"``), so they run offline and fast.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    PutOp,
    SearchItem,
    SearchOp,
    TTLConfig,
)

from langmem.embeddings._hashing import HashingEmbeddings

Mode = Literal["sync", "async"]
T = TypeVar("T")

CONTRACT_DIMS = 64
CONTRACT_FIELDS = ["text"]
# what another process passes to ``open_store`` to index like the contract's stores
CONTRACT_URL_QUERY = "embed=hashing&dims=64&fields=text"


def contract_index() -> IndexConfig:
    """The index configuration every contract store is built with."""
    return {
        "dims": CONTRACT_DIMS,
        "embed": HashingEmbeddings(CONTRACT_DIMS),
        "fields": list(CONTRACT_FIELDS),
    }


@dataclass(frozen=True)
class StoreUnderTest:
    """How the contract builds the store it checks.

    Attributes:
        make: ``make(index, ttl)`` returns a fresh, empty store with that index configuration
            (``None``: no vector index) and TTL configuration (``None``: no TTL defaults).
        url_of: for a store other processes can reach, the ``open_store`` URL of the same data
            (without query string); ``None`` for a single-process store such as
            ``InMemoryStore``, which then fails the multi-process check.
        name: shown in failure messages.
    """

    make: Callable[[IndexConfig | None, TTLConfig | None], BaseStore]
    url_of: Callable[[BaseStore], str] | None = None
    name: str = "store"


class _Api:
    """Calls a store through its sync methods, or through the async twins on a private loop."""

    def __init__(self, store: BaseStore, mode: Mode) -> None:
        self.store = store
        self.mode = mode
        self._loop = asyncio.new_event_loop() if mode == "async" else None

    def _run(self, sync: Callable[[], T], coro: Callable[[], Awaitable[T]]) -> T:
        if self._loop is None:
            return sync()
        return self._loop.run_until_complete(coro())

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()

    def put(self, ns: tuple[str, ...], key: str, value: dict[str, Any], **kw: Any) -> None:
        self._run(
            lambda: self.store.put(ns, key, value, **kw),
            lambda: self.store.aput(ns, key, value, **kw),
        )

    def get(self, ns: tuple[str, ...], key: str, **kw: Any) -> Item | None:
        return self._run(
            lambda: self.store.get(ns, key, **kw), lambda: self.store.aget(ns, key, **kw)
        )

    def delete(self, ns: tuple[str, ...], key: str) -> None:
        self._run(lambda: self.store.delete(ns, key), lambda: self.store.adelete(ns, key))

    def search(self, prefix: tuple[str, ...], **kw: Any) -> list[SearchItem]:
        return self._run(
            lambda: self.store.search(prefix, **kw), lambda: self.store.asearch(prefix, **kw)
        )

    def list_namespaces(self, **kw: Any) -> list[tuple[str, ...]]:
        return self._run(
            lambda: self.store.list_namespaces(**kw),
            lambda: self.store.alist_namespaces(**kw),
        )

    def batch(self, ops: list[Any]) -> list[Any]:
        return self._run(lambda: self.store.batch(ops), lambda: self.store.abatch(ops))


@dataclass(frozen=True)
class ContractCheck:
    """One contract check; call it with a :class:`StoreUnderTest` and a mode."""

    name: str
    run: Callable[[StoreUnderTest, _Api], None]
    index: bool = True
    ttl: TTLConfig | None = None

    def __call__(self, target: StoreUnderTest, mode: Mode = "sync") -> None:
        store = target.make(contract_index() if self.index else None, self.ttl)
        api = _Api(store, mode)
        try:
            self.run(target, api)
        finally:
            api.close()
            close = getattr(store, "close", None)
            if callable(close):
                close()

    def __str__(self) -> str:
        return self.name


def _keys(items: list[SearchItem]) -> list[str]:
    return [item.key for item in items]


def _check_put_get_roundtrip(target: StoreUnderTest, api: _Api) -> None:
    value = {"text": "Zoë likes crème brûlée", "n": 3, "ok": True, "none": None,
             "nested": {"list": [1, "two", {"three": 3.5}]}}  # fmt: skip
    api.put(("users", "u1"), "k1", value)
    item = api.get(("users", "u1"), "k1")
    assert item is not None, f"{target.name}: get after put returned None"
    assert item.value == value, f"{target.name}: value changed on the way: {item.value!r}"
    assert (item.namespace, item.key) == (("users", "u1"), "k1")
    assert isinstance(item.created_at, datetime) and isinstance(item.updated_at, datetime)
    assert api.get(("users", "u1"), "missing") is None
    assert api.get(("users", "u2"), "k1") is None, "get must not cross namespaces"
    api.put(("users", "u1"), "k1", {"text": "changed"})
    again = api.get(("users", "u1"), "k1")
    assert again is not None and again.value == {"text": "changed"}
    assert again.updated_at >= item.updated_at


def _check_delete(target: StoreUnderTest, api: _Api) -> None:
    api.put(("d",), "a", {"text": "to be deleted"})
    api.put(("d",), "b", {"text": "kept"})
    api.delete(("d",), "a")
    api.delete(("d",), "never-existed")
    assert api.get(("d",), "a") is None
    assert _keys(api.search(("d",))) == ["b"]
    assert _keys(api.search(("d",), query="to be deleted")) == ["b"]


def _check_batch(target: StoreUnderTest, api: _Api) -> None:
    api.put(("b",), "x", {"text": "before"})
    results = api.batch(
        [
            PutOp(("b",), "y", {"text": "first"}),
            GetOp(("b",), "x"),
            PutOp(("b",), "y", {"text": "second"}),
            SearchOp(("b",), limit=10),
            ListNamespacesOp(),
            PutOp(("b",), "x", None),
        ]
    )
    assert len(results) == 6, f"{target.name}: one result per op expected, got {len(results)}"
    assert results[0] is None and results[2] is None and results[5] is None
    assert isinstance(results[1], Item) and results[1].value == {"text": "before"}
    assert isinstance(results[3], list) and isinstance(results[4], list)
    assert ("b",) in results[4]
    after = api.get(("b",), "y")
    assert after is not None and after.value == {"text": "second"}, "last put of a key wins"
    assert api.get(("b",), "x") is None


def _check_filters(target: StoreUnderTest, api: _Api) -> None:
    rows: dict[str, dict[str, Any]] = {
        "a": {"text": "alpha", "kind": "fact", "score": 1, "meta": {"lang": "en"}},
        "b": {"text": "beta", "kind": "fact", "score": 5, "meta": {"lang": "fr"}},
        "c": {"text": "gamma", "kind": "event", "score": 9, "meta": {"lang": "en"}},
        "d": {"text": "delta", "kind": "event", "score": 7, "meta": {}},
    }
    for key, value in rows.items():
        api.put(("f",), key, value)
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"kind": "fact"}, {"a", "b"}),
        ({"kind": {"$eq": "event"}}, {"c", "d"}),
        ({"kind": {"$ne": "fact"}}, {"c", "d"}),
        ({"score": {"$gt": 1}}, {"b", "c", "d"}),
        ({"score": {"$gte": 5}}, {"b", "c", "d"}),
        ({"score": {"$lt": 5}}, {"a"}),
        ({"score": {"$lte": 5}}, {"a", "b"}),
        ({"score": {"$gt": 1, "$lt": 9}}, {"b", "d"}),
        ({"kind": "event", "score": {"$gte": 9}}, {"c"}),
        ({"meta": {"lang": "en"}}, {"a", "c"}),
        ({"kind": "nothing"}, set()),
    ]
    for condition, expected in cases:
        got = set(_keys(api.search(("f",), filter=condition, limit=10)))
        assert got == expected, f"{target.name}: filter {condition} gave {got}, not {expected}"
        ranked = set(_keys(api.search(("f",), query="alpha", filter=condition, limit=10)))
        assert ranked <= expected, f"{target.name}: query + filter {condition} gave {ranked}"


def _check_filter_on_missing_key(target: StoreUnderTest, api: _Api) -> None:
    api.put(("m",), "with", {"text": "has a score", "score": 3})
    api.put(("m",), "without", {"text": "has none"})
    for condition, expected in [
        ({"score": {"$gt": 1}}, {"with"}),
        ({"score": {"$lte": 5}}, {"with"}),
        ({"score": {"$ne": 3}}, {"without"}),
        ({"score": 3}, {"with"}),
    ]:
        got = set(_keys(api.search(("m",), filter=condition)))
        assert got == expected, f"{target.name}: filter {condition} gave {got}, not {expected}"


def _check_pagination(target: StoreUnderTest, api: _Api) -> None:
    for i in range(7):
        api.put(("p",), f"k{i}", {"text": f"note number {i} about tea"})
    pages = [_keys(api.search(("p",), limit=3, offset=o)) for o in (0, 3, 6)]
    assert [len(p) for p in pages] == [3, 3, 1], f"{target.name}: page sizes {pages}"
    flat = [k for page in pages for k in page]
    assert sorted(flat) == [f"k{i}" for i in range(7)], f"{target.name}: pages overlap: {pages}"
    whole = _keys(api.search(("p",), query="tea note", limit=7))
    paged = [
        k for o in (0, 3, 6) for k in _keys(api.search(("p",), query="tea note", limit=3, offset=o))
    ]
    assert paged == whole, f"{target.name}: ranked pages {paged} differ from one page {whole}"
    assert api.search(("p",), limit=0) == []


def _check_namespace_prefix(target: StoreUnderTest, api: _Api) -> None:
    api.put(("a",), "1", {"text": "root"})
    api.put(("a", "b"), "2", {"text": "child"})
    api.put(("a", "bc"), "3", {"text": "sibling"})
    api.put(("ab",), "4", {"text": "other root"})
    assert set(_keys(api.search(("a",), limit=10))) == {"1", "2", "3"}
    assert set(_keys(api.search(("a", "b"), limit=10))) == {"2"}, "prefixes match whole labels"
    assert set(_keys(api.search(("a", "b"), query="sibling child", limit=10))) == {"2"}
    assert set(_keys(api.search((), limit=10))) == {"1", "2", "3", "4"}
    assert api.search(("zzz",), query="root") == []


def _check_list_namespaces(target: StoreUnderTest, api: _Api) -> None:
    for ns in [("a", "b", "c"), ("a", "b", "d", "e"), ("a", "b", "d", "i"), ("a", "b", "f"),
               ("a", "c", "f"), ("x", "y")]:  # fmt: skip
        api.put(ns, "k", {"text": "x"})
    everything = api.list_namespaces()
    assert everything == sorted(everything) and len(everything) == 6
    assert api.list_namespaces(prefix=("a", "b"), max_depth=3) == [
        ("a", "b", "c"),
        ("a", "b", "d"),
        ("a", "b", "f"),
    ]
    assert api.list_namespaces(suffix=("f",)) == [("a", "b", "f"), ("a", "c", "f")]
    assert api.list_namespaces(prefix=("a", "*", "f")) == [("a", "b", "f"), ("a", "c", "f")]
    assert api.list_namespaces(max_depth=1) == [("a",), ("x",)]
    assert api.list_namespaces(prefix=("a",), limit=2, offset=1) == [
        ("a", "b", "d", "e"),
        ("a", "b", "d", "i"),
    ]


def _check_emptied_namespace_not_listed(target: StoreUnderTest, api: _Api) -> None:
    api.put(("x", "y"), "k", {"text": "x"})
    api.put(("x", "z"), "k", {"text": "x"})
    api.delete(("x", "y"), "k")
    listed = api.list_namespaces(prefix=("x",))
    assert listed == [("x", "z")], f"{target.name}: emptied namespace still listed: {listed}"


def _check_query_ranking(target: StoreUnderTest, api: _Api) -> None:
    api.put(("q",), "tea", {"text": "green tea in the morning"})
    api.put(("q",), "car", {"text": "the car needs new tyres"})
    api.put(("q",), "sky", {"text": "blue sky over the hills"})
    hits = api.search(("q",), query="green tea morning", limit=3)
    assert hits and hits[0].key == "tea", f"{target.name}: ranking {_keys(hits)}"
    scores = [h.score for h in hits]
    assert all(isinstance(s, float) for s in scores), f"{target.name}: scores {scores}"
    numbers = [float(s) for s in scores if s is not None]
    assert numbers == sorted(numbers, reverse=True), f"{target.name}: unsorted scores {scores}"
    assert all(-1.0 - 1e-6 <= s <= 1.0 + 1e-6 for s in numbers)


def _check_fields(target: StoreUnderTest, api: _Api) -> None:
    api.put(("i",), "cfg", {"text": "kiwi orchard", "other": "banana split"})
    api.put(("i",), "own", {"text": "zebra crossing", "title": "apple pie"}, index=["title"])

    def score(query: str, key: str) -> float:
        for hit in api.search(("i",), query=query, limit=10):
            if hit.key == key and hit.score is not None:
                return float(hit.score)
        return -1.0

    assert score("kiwi orchard", "cfg") > 0.9, "the configured field is indexed"
    assert score("banana split", "cfg") < 0.5, f"{target.name}: unconfigured field was indexed"
    assert score("apple pie", "own") > 0.9, "put(index=[...]) indexes those paths"
    assert score("zebra crossing", "own") < 0.5, f"{target.name}: put(index=[...]) was ignored"


def _check_reindex_on_change(target: StoreUnderTest, api: _Api) -> None:
    api.put(("s",), "a", {"text": "kiwi orchard"})
    api.put(("s",), "b", {"text": "sunny beach"})
    api.put(("s",), "a", {"text": "quiet library"})
    hits = api.search(("s",), query="kiwi orchard", limit=2)
    stale = [h for h in hits if h.key == "a" and h.score is not None and h.score > 0.5]
    assert not stale, f"{target.name}: changed text still matches its old vector"


def _check_stale_vector_removed(target: StoreUnderTest, api: _Api) -> None:
    api.put(("s",), "a", {"text": "kiwi orchard"})
    api.put(("s",), "a", {"text": "kiwi orchard"}, index=False)
    hits = api.search(("s",), query="kiwi orchard", limit=5)
    scored = [h for h in hits if h.key == "a" and h.score is not None]
    assert not scored, f"{target.name}: put(index=False) left the old vector searchable"
    item = api.get(("s",), "a")
    assert item is not None, "an unindexed item is still stored"


def _check_ttl(target: StoreUnderTest, api: _Api) -> None:
    store = api.store
    assert store.supports_ttl, f"{target.name} does not support TTL"
    ttl = 1.2 / 60  # minutes
    api.put(("t",), "short", {"text": "expires soon"}, ttl=ttl)
    api.put(("t",), "long", {"text": "stays"})
    time.sleep(0.7)
    assert api.get(("t",), "short") is not None  # refreshes the TTL (refresh_on_read default)
    time.sleep(0.7)  # past the first deadline, before the refreshed one
    assert api.get(("t",), "short", refresh_ttl=False) is not None, "reads refresh the TTL"
    time.sleep(0.8)
    sweep = getattr(store, "sweep_ttl", None)
    if callable(sweep):
        sweep()
    assert api.get(("t",), "short") is None, f"{target.name}: expired item still returned"
    assert _keys(api.search(("t",), query="expires soon")) == ["long"]
    assert api.get(("t",), "long") is not None


def _check_other_process_sees_writes(target: StoreUnderTest, api: _Api) -> None:
    assert target.url_of is not None, f"{target.name} cannot be reached from another process"
    url = f"{target.url_of(api.store)}?{CONTRACT_URL_QUERY}"
    api.put(("mp",), "mine", {"text": "written by the parent"})
    script = (
        "import json, sys\n"
        "from langmem.stores import open_store\n"
        "store = open_store(sys.argv[1])\n"
        "store.put(('mp',), 'theirs', {'text': 'zucchini harvest from the child'})\n"
        "seen = store.get(('mp',), 'mine')\n"
        "print(json.dumps(seen.value if seen else None))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"child process failed: {done.stderr[-2000:]}"
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"text": "written by the parent"}
    hits = api.search(("mp",), query="zucchini harvest", limit=1)
    assert _keys(hits) == ["theirs"], f"{target.name}: a search missed the other process's put"
    item = api.get(("mp",), "theirs")
    assert item is not None and item.value == {"text": "zucchini harvest from the child"}


_CHECKS: tuple[ContractCheck, ...] = (
    ContractCheck("put_get_roundtrip", _check_put_get_roundtrip),
    ContractCheck("delete", _check_delete),
    ContractCheck("batch", _check_batch),
    ContractCheck("filters", _check_filters),
    ContractCheck("filter_on_missing_key", _check_filter_on_missing_key),
    ContractCheck("pagination", _check_pagination),
    ContractCheck("namespace_prefix", _check_namespace_prefix),
    ContractCheck("list_namespaces", _check_list_namespaces),
    ContractCheck("emptied_namespace_not_listed", _check_emptied_namespace_not_listed),
    ContractCheck("query_ranking", _check_query_ranking),
    ContractCheck("index_fields", _check_fields),
    ContractCheck("changed_text_reindexed", _check_reindex_on_change),
    ContractCheck("stale_vector_removed", _check_stale_vector_removed),
    ContractCheck("ttl", _check_ttl, ttl={"refresh_on_read": True}),
    ContractCheck("other_process_sees_writes", _check_other_process_sees_writes),
)


def store_contract() -> tuple[ContractCheck, ...]:
    """Every contract check, in a stable order (names are unique).

    Example:
        >>> "filters" in [check.name for check in store_contract()]
        True
    """
    return _CHECKS


def run_store_contract(
    target: StoreUnderTest,
    *,
    modes: tuple[Mode, ...] = ("sync", "async"),
    skip: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """Run every check in every mode; returns ``{"name[mode]": "ok" or the failure}``.

    Example:
        >>> from langmem.stores import SqliteStore
        >>> target = StoreUnderTest(make=lambda index, ttl: SqliteStore(":memory:", index=index))
        >>> report = run_store_contract(target, modes=("sync",), skip=frozenset(
        ...     {"ttl", "other_process_sees_writes"}))
        >>> sorted(set(report.values()))
        ['ok']
    """
    report: dict[str, str] = {}
    for check in _CHECKS:
        if check.name in skip:
            continue
        for mode in modes:
            try:
                check(target, mode)
            except AssertionError as exc:
                report[f"{check.name}[{mode}]"] = f"failed: {exc}"
            except Exception as exc:  # a crash breaks the contract too; report it, go on
                report[f"{check.name}[{mode}]"] = f"error: {type(exc).__name__}: {exc}"
            else:
                report[f"{check.name}[{mode}]"] = "ok"
    return report
