"""``langmem queue ...``: the ReflectionExecutor's durable queue of background tasks."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from langmem._store_context import is_read_only
from langmem.cli._app import action_output_options, output_options, store_option
from langmem.cli._memories import _opened
from langmem.cli._numbers import Seconds, Whole
from langmem.cli._output import Output
from langmem.cli._target import display_url, resolve_url
from langmem.errors import ConfigurationError, StoreFileError

if TYPE_CHECKING:
    from langmem.tasks import Task, TaskQueue

COLUMNS = ["id", "queue", "thread_key", "status", "attempts", "updated_at", "error"]
STATUSES = ["pending", "running", "done", "failed", "replaced", "cancelled"]


@contextmanager
def _queue_of(url: str | None) -> Iterator[TaskQueue]:
    from langmem.tasks import task_queue_for

    chosen = resolve_url(url)
    with _opened(chosen) as store:
        if is_read_only(store):
            raise StoreFileError(
                f"{display_url(chosen)} is open read-only (mode=ro, or a file this user cannot "
                "write): its task queue is not read there (the queue commands use write "
                "transactions), and nothing was changed. Fix: run the command with the store "
                "opened without mode=ro, as a user who can write the file."
            )
        found = task_queue_for(store)
        if not found.durable:
            raise ConfigurationError(
                f"{display_url(chosen)} keeps no durable task queue: point --store at the "
                "store file or database your ReflectionExecutor uses."
            )
        try:
            yield found
        finally:
            found.close()


def _record(task: Task) -> dict[str, Any]:
    record = dataclasses.asdict(task)
    record["status"] = task.status.value
    for name in ("due_at", "lease_expires_at", "created_at", "updated_at", "finished_at"):
        if record[name] is not None:
            record[name] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record[name]))
    return record


def _task(found: TaskQueue, task_id: str) -> Task:
    task = found.get(task_id)
    if task is None:
        raise ConfigurationError(
            f"no task with id {task_id!r}: list task ids with `langmem queue list`."
        )
    return task


@click.group()
def queue() -> None:
    """See, retry and clean up background tasks (the ReflectionExecutor's queue)."""


@queue.command(name="list")
@click.option("--status", "-s", type=click.Choice(STATUSES), help="Only tasks in this status.")
@click.option("--queue", "-q", "queue_name", metavar="NAME", help="Only tasks of this queue.")
@click.option("--thread", "thread_key", metavar="KEY", help="Only tasks of this thread key.")
@click.option("--limit", "-l", default=50, show_default=True, type=Whole(1, 50))
@store_option
@output_options
def list_(
    status: str | None,
    queue_name: str | None,
    thread_key: str | None,
    limit: int,
    store_url: str | None,
    table: bool,
) -> None:
    """List tasks, most recently updated first."""
    with _queue_of(store_url) as found:
        # SQLite and PostgreSQL take 64-bit limits: a larger one failed with OverflowError
        most = min(limit, 2**63 - 1)
        tasks = found.list(queue=queue_name, status=status, thread_key=thread_key, limit=most)
        Output(table=table).records((_record(t) for t in tasks), COLUMNS)


@queue.command()
@click.argument("task_id")
@store_option
@output_options
def show(task_id: str, store_url: str | None, table: bool) -> None:
    """Everything about one task, payload and last error included."""
    with _queue_of(store_url) as found:
        Output(table=table).record(_record(_task(found, task_id)))


@queue.command()
@click.argument("task_ids", nargs=-1, required=True)
@store_option
@action_output_options
def retry(task_ids: tuple[str, ...], store_url: str | None, table: bool) -> None:
    """Make failed or cancelled tasks pending again, with fresh attempts.

    Every task is checked first: when one does not exist or is not failed or cancelled, none
    is retried and the error names each such task."""
    task_ids = tuple(dict.fromkeys(task_ids))  # a task named twice is retried once
    with _queue_of(store_url) as found:
        problems = []
        for task_id in task_ids:
            task = found.get(task_id)
            if task is None:
                problems.append(f"{task_id!r} does not exist")
            elif task.status.value not in ("failed", "cancelled"):
                problems.append(f"{task_id!r} is {task.status.value}")
        if problems:
            raise ConfigurationError(
                f"task {'; task '.join(problems)}: only failed or cancelled tasks can be "
                "retried, so none was. Fix: leave those out (`langmem queue list --status "
                "failed` lists the failed ones)."
            )
        rows: list[dict[str, str]] = []
        for task_id in task_ids:
            status = found.retry(task_id)
            if status is None:  # changed by a worker since it was checked
                raise ConfigurationError(
                    f"task {task_id!r} changed while it was retried (a worker took or purged "
                    f"it); retried before it: {[r['id'] for r in rows]}. Check it with "
                    f"`langmem queue show {task_id}`."
                )
            rows.append({"id": task_id, "status": status.value})
        Output(table=table).records(rows, ["id", "status"])


@queue.command()
@click.option(
    "--status",
    "-s",
    "statuses",
    multiple=True,
    type=click.Choice(["done", "failed", "replaced", "cancelled"]),
    help="Statuses to delete (repeatable; default: done, replaced, cancelled).",
)
@click.option(
    "--older-than",
    type=Seconds(),
    metavar="SECONDS",
    help="Only tasks last updated at least this many seconds ago.",
)
@click.option("--queue", "-q", "queue_name", metavar="NAME", help="Only tasks of this queue.")
@store_option
@action_output_options
def purge(
    statuses: tuple[str, ...],
    older_than: float | None,
    queue_name: str | None,
    store_url: str | None,
    table: bool,
) -> None:
    """Delete finished tasks (pending and running tasks are never purged)."""
    chosen = statuses or ("done", "replaced", "cancelled")
    cutoff = None if older_than is None else time.time() - older_than
    with _queue_of(store_url) as found:
        deleted = found.purge(queue=queue_name, statuses=chosen, older_than=cutoff)
        Output(table=table).record({"purged": deleted, "statuses": list(chosen)})
