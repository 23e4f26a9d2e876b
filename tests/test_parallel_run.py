"""The parallel run of `make test` (tests/_xdist.py): every PostgreSQL test goes to one process as
one unit, handed out first; the other tests are spread one by one."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests import _xdist

PG = [
    "tests/postgres/test_reliability.py::test_the_pool_reconnects_after_a_server_restart",
    "tests/postgres/test_contract.py::test_postgres_store[ttl-sync]",
    "tests/knowledge/test_history.py::TestRecords::test_reserved_namespace_is_refused[postgres]",
    "tests/knowledge/test_poisoning.py::TestHotPath::test_guards_cap_the_turn[postgres-async]",
    "tests/knowledge/test_x.py::test_y[sqlite-postgres-5]",
]
OTHER = [
    "tests/knowledge/test_history.py::TestRecords::test_reserved_namespace_is_refused[sqlite]",
    "tests/stores/test_open_urls.py::test_refused[postgresql://u@h/db?pool_size=0]",
    "tests/stores/test_sqlite.py::test_postgres_is_not_needed",
    "tests/test_x.py::test_y[postgresql]",
    "tests/test_x.py::test_y[not-a-postgres_id]",
    "tests/test_x.py::test_y",
]


@pytest.mark.parametrize("nodeid", PG, ids=[f"pg{n}" for n in range(len(PG))])
def test_postgres_tests_are_known_by_their_node_id(nodeid: str) -> None:
    assert _xdist.postgres_by_id(nodeid)


@pytest.mark.parametrize("nodeid", OTHER, ids=[f"other{n}" for n in range(len(OTHER))])
def test_other_tests_are_not_taken_for_postgres_ones(nodeid: str) -> None:
    assert not _xdist.postgres_by_id(nodeid)


def test_this_collection_agrees_with_the_node_ids(request: pytest.FixtureRequest) -> None:
    items = request.session.items
    assert items  # check_grouping ran on these at collection; here it is run again
    _xdist.check_grouping(items)


class _Node:
    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.sent: list[list[int]] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.append(list(indices))

    def shutdown(self) -> None:
        self.shutting_down = True


def _config() -> Any:
    # no reordering by size (xdist before 3.6 has none): the unit must come first all the same
    options = {"tx": ["2*popen"], "numprocesses": 2, "loadscopereorder": False, "dist": "load"}
    return SimpleNamespace(
        getvalue=options.__getitem__,
        getoption=lambda name, default=None: options.get(name, default),
        option=SimpleNamespace(**options),
        hook=SimpleNamespace(),
    )


def test_the_postgres_tests_go_to_one_process_first_and_whole() -> None:
    pytest.importorskip("xdist")
    collection = [*OTHER[:3], PG[0], *OTHER[3:], *PG[1:]]  # PostgreSQL tests not first
    scheduler = _xdist.make_scheduler(_config(), None)
    first, second = _Node("gw0"), _Node("gw1")
    for node in (first, second):
        scheduler.add_node(node)
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()
    sent_pg = [collection.index(nodeid) for nodeid in PG]
    assert first.sent[0] == sent_pg  # the whole unit, in collection order, to the first process
    assert all(len(unit) == 1 for unit in first.sent[1:] + second.sent)  # the others one by one
    assert all(index not in sent_pg for unit in second.sent for index in unit)
