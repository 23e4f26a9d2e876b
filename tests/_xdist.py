"""How `make test` spreads the suite over two processes (pytest-xdist, ``-n 2``).

Every test that talks to the PostgreSQL test server runs in one process, one at a time, as in a
serial run: one of them restarts the server (tests/postgres/test_reliability.py), others count
its sessions, create roles or stream it to a hot standby, and none of that may overlap another
test's work on the same server. They form one work unit, handed out first (it is the longest);
every other test is a unit of its own, handed to whichever process is free.

xdist's own ``--dist loadgroup`` cannot do this here: it passes groups to the scheduler by
renaming node ids, which has no effect from pytest 9.2 on (the tests are then spread as if
ungrouped). So the scheduler below decides from the node id alone, and collection checks that
the node id says "postgres" exactly when the test uses the server (see ``check_grouping``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

POSTGRES = "postgres"
_PG_DIR = Path(__file__).resolve().parent / "postgres"


def uses_postgres(item: pytest.Item) -> bool:
    """Whether the test needs the PostgreSQL test server: it lives in tests/postgres, or one of
    its parameters is the store kind "postgres" (tests/knowledge's ``any_store``)."""
    if _PG_DIR in item.path.parents:
        return True
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec is not None else ()
    return any(isinstance(value, str) and value == POSTGRES for value in params)


def postgres_by_id(nodeid: str) -> bool:
    """The same question answered from the node id alone (all the scheduler sees)."""
    if nodeid.startswith("tests/postgres/"):
        return True
    name = nodeid.rsplit("::", 1)[-1]
    if not name.endswith("]") or "[" not in name:
        return False
    return POSTGRES in name[name.index("[") + 1 : -1].split("-")


def check_grouping(items: list[pytest.Item]) -> None:
    """Refuse a collection where the node id and the test's needs disagree (a PostgreSQL
    parameter given another id, say): the scheduler would run it beside the server's restart."""
    wrong = [item.nodeid for item in items if uses_postgres(item) != postgres_by_id(item.nodeid)]
    if wrong:
        raise pytest.UsageError(
            f"{len(wrong)} test(s) use the PostgreSQL test server but their node id does not "
            f"say so (or the other way round), e.g. {wrong[0]!r}; the parallel run keeps the "
            "server's tests in one process by their node id (tests/_xdist.py). Fix: put the "
            "test in tests/postgres/, or give the store-kind parameter the id 'postgres'."
        )


def make_scheduler(config: pytest.Config, log: Any) -> Any:
    """A LoadScopeScheduling whose scopes are: all PostgreSQL tests, then each other test."""
    from xdist.scheduler import LoadScopeScheduling

    class PostgresApart(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return POSTGRES if postgres_by_id(nodeid) else nodeid

        def _assign_work_unit(self, node: Any) -> None:
            if POSTGRES in self.workqueue:  # the longest unit first, whatever the version's order
                self.workqueue.move_to_end(POSTGRES, last=False)
            super()._assign_work_unit(node)

    return PostgresApart(config, log)
