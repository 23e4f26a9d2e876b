"""`langmem queue ...` on the embedded store's durable task queue."""

from __future__ import annotations

import json
from pathlib import Path

from langmem.stores import SqliteStore
from tests.cli._support import run


def _queue_with_tasks(path: Path) -> tuple[str, str]:
    """A store file whose queue holds one done task and one failed task."""
    store = SqliteStore(path, index=None)
    queue = store.task_queue()
    done = queue.enqueue(queue="reflection", thread_key="t1", payload={"n": 1}, now=100.0)
    failed = queue.enqueue(
        queue="reflection", thread_key="t2", payload={"n": 2}, max_attempts=1, now=100.0
    )
    claimed = queue.claim(queue="reflection", owner="w", lease_seconds=30, limit=2, now=101.0)
    assert {t.id for t in claimed} == {done.task.id, failed.task.id}
    queue.complete(done.task.id, owner="w", now=102.0)
    queue.fail(failed.task.id, owner="w", error="model timed out", retry_at=None, now=103.0)
    queue.close()
    store.close()
    return done.task.id, failed.task.id


def test_list_show_retry_purge(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite"
    done, failed = _queue_with_tasks(path)
    url = str(path)

    listed = [json.loads(x) for x in run("queue", "list", "--store", url).stdout.splitlines()]
    assert [(t["id"], t["status"]) for t in listed] == [(failed, "failed"), (done, "done")]
    only = run("queue", "list", "--status", "failed", "--store", url).stdout.splitlines()
    assert [json.loads(x)["id"] for x in only] == [failed]

    shown = json.loads(run("queue", "show", failed, "--store", url).stdout)
    assert shown["error"] == "model timed out"
    assert shown["payload"] == {"n": 2}
    assert shown["created_at"] == "1970-01-01T00:01:40Z"

    retried = run("queue", "retry", failed, "--store", url)
    assert retried.stdout == f'{{"id":"{failed}","status":"pending"}}\n'
    again = run("queue", "retry", failed, "--store", url)
    assert again.exit_code == 1
    assert again.stderr == (
        f"error: task '{failed}' is pending: only failed or cancelled tasks can be retried, "
        "so none was. Fix: leave those out (`langmem queue list --status failed` lists the "
        "failed ones).\n"
    )

    purged = run("queue", "purge", "--store", url)
    assert purged.stdout == '{"purged":1,"statuses":["done","replaced","cancelled"]}\n'
    listed = [json.loads(x) for x in run("queue", "list", "--store", url).stdout.splitlines()]
    assert [t["id"] for t in listed] == [failed]


def test_unknown_task_and_non_durable_store(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite"
    _queue_with_tasks(path)
    result = run("queue", "show", "nope", "--store", str(path))
    assert result.exit_code == 1
    assert (
        result.stderr == "error: no task with id 'nope': list task ids with `langmem queue list`.\n"
    )
    result = run("queue", "list", "--store", "memory://")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: memory:// keeps no durable task queue: point --store at the store file or "
        "database your ReflectionExecutor uses.\n"
    )


def test_a_read_only_store_says_so_and_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite"
    _queue_with_tasks(path)
    before = path.read_bytes()
    url = f"sqlite:///{path}?mode=ro"
    for args in (("list",), ("purge",)):
        result = run("queue", *args, "--store", url)
        assert result.exit_code == 1
        assert "is open read-only" in result.stderr
        assert "Fix: run the command with the store opened without mode=ro" in result.stderr
        assert "keeps no durable task queue" not in result.stderr
    assert path.read_bytes() == before
    listed = run("queue", "list", "--store", str(path)).stdout.splitlines()
    assert len(listed) == 2
