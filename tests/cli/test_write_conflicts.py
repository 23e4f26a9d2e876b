"""How `memories add` and `memories update` answer a write that another writer got to first,
each case alone: the other writer acts inside the command's own write (after the read that
History makes, before the transaction that checks it), by wrapping the store's
``batch_expecting``. PostgreSQL twins: tests/postgres/test_cli_write_conflicts.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from langmem import History
from langmem.knowledge._history import WRITE_ATTEMPTS
from langmem.stores import SqliteStore

from ._support import run

NS = ("m",)


@dataclass
class Backend:
    """A store the command writes to: its URL, its class and another handle on it (the other
    writer's, open for the whole test)."""

    url: str
    kind: type[Any]
    other: Callable[[], AbstractContextManager[Any]]


def _other_writer(
    monkeypatch: pytest.MonkeyPatch, backend: Backend, act: Callable[[Any], None], times: int
) -> list[int]:
    """Before each of the command's first ``times`` checked writes, ``act`` runs on another
    handle of the store (another writer); returns the count of checked writes made."""
    real = backend.kind.batch_expecting
    calls, acting = [0], [False]

    def racing(self: Any, ops: Any, expect: Any) -> Any:
        if acting[0]:  # the other writer's own write
            return real(self, ops, expect)
        calls[0] += 1
        if calls[0] <= times:
            acting[0] = True
            try:
                with backend.other() as other:
                    act(other)
            finally:
                acting[0] = False
        return real(self, ops, expect)

    monkeypatch.setattr(backend.kind, "batch_expecting", racing)
    return calls


def _stored(backend: Backend, key: str) -> tuple[Any, list[str]]:
    """The memory's value and its recorded operations."""
    with backend.other() as store:
        item = store.get(NS, key)
        ops = [r["op"] for r in History(store).history(NS, key)]
    return (None if item is None else item.value), ops


def _add(backend: Backend, text: str, key: str, *extra: str) -> Any:
    return run("memories", "add", text, "-k", key, "-n", "m", *extra, "--store", backend.url)


def check_add_of_a_key_created_meanwhile(backend: Backend, monkeypatch: Any) -> None:
    assert _add(backend, "other", "k0").exit_code == 0

    def create(other: Any) -> None:
        History(other).put(NS, "k1", {"content": "theirs"})

    _other_writer(monkeypatch, backend, create, times=1)
    result = _add(backend, "mine", "k1")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: a memory with key 'k1' already exists in ")
    assert "add --replace to overwrite it" in result.stderr
    assert _stored(backend, "k1") == ({"content": "theirs"}, ["create"])


def check_add_replace_of_a_key_created_meanwhile(backend: Backend, monkeypatch: Any) -> None:
    assert _add(backend, "other", "k0").exit_code == 0

    def create(other: Any) -> None:
        History(other).put(NS, "k1", {"content": "theirs"})

    _other_writer(monkeypatch, backend, create, times=1)
    result = _add(backend, "mine", "k1", "--replace")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["value"] == {"content": "mine"}
    # the record of the replacing write holds the value it replaced
    assert _stored(backend, "k1") == ({"content": "mine"}, ["create", "update"])


def check_update_of_a_memory_deleted_meanwhile(backend: Backend, monkeypatch: Any) -> None:
    assert _add(backend, "tea", "k1").exit_code == 0

    def delete(other: Any) -> None:
        History(other).delete(NS, "k1")

    calls = _other_writer(monkeypatch, backend, delete, times=1)
    result = run("memories", "update", "k1", "coffee", "-n", "m", "--store", backend.url)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no memory with key 'k1' in namespace 'm' of ")
    assert calls[0] == 1  # refused at the conflict, not written again
    assert _stored(backend, "k1") == (None, ["create", "delete"])


def check_a_memory_that_keeps_changing(backend: Backend, monkeypatch: Any, command: str) -> None:
    """Another writer changes the memory before every attempt: after the last one the command
    says so (not that the key exists, nor that it is missing), and writes nothing."""
    assert _add(backend, "tea", "k1").exit_code == 0
    turn = iter(range(10_000))

    def change(other: Any) -> None:
        History(other).put(NS, "k1", {"content": f"theirs {next(turn)}"})

    calls = _other_writer(monkeypatch, backend, change, times=10_000)
    if command == "update":
        result = run("memories", "update", "k1", "mine", "-n", "m", "--store", backend.url)
    else:
        result = _add(backend, "mine", "k1", "--replace")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: memory 'k1' in ('m',) kept changing through ")
    assert result.stderr.count("\n") == 1
    assert calls[0] == WRITE_ATTEMPTS
    value, ops = _stored(backend, "k1")
    assert value == {"content": f"theirs {WRITE_ATTEMPTS - 1}"}
    assert ops == ["create"] + ["update"] * WRITE_ATTEMPTS  # none of them the command's


@pytest.fixture()
def sqlite(tmp_path: Path) -> Iterator[Backend]:
    path = tmp_path / "m.sqlite"
    handles: list[SqliteStore] = []

    def other() -> AbstractContextManager[SqliteStore]:
        if not handles:  # opened once the command made the file (it takes the file's index)
            handles.append(SqliteStore(path))
        return nullcontext(handles[0])

    yield Backend(f"sqlite:///{path}?embed=hashing", SqliteStore, other)
    for handle in handles:
        handle.close()


def test_add_of_a_key_created_meanwhile_is_refused_as_existing(
    sqlite: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_add_of_a_key_created_meanwhile(sqlite, monkeypatch)


def test_add_replace_of_a_key_created_meanwhile_replaces_it(
    sqlite: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_add_replace_of_a_key_created_meanwhile(sqlite, monkeypatch)


def test_update_of_a_memory_deleted_in_its_write_is_refused_as_missing(
    sqlite: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_update_of_a_memory_deleted_meanwhile(sqlite, monkeypatch)


@pytest.mark.parametrize("command", ["update", "add --replace"])
def test_a_memory_that_keeps_changing_is_reported_as_such(
    sqlite: Backend, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    check_a_memory_that_keeps_changing(sqlite, monkeypatch, command)
