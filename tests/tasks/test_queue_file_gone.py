"""A task submitted after the store file was deleted or replaced is refused, naming the file:
it was accepted, committed into the unlinked file, and silently lost (the next process found
nothing to run). The worker threads live on and run the queue again once the file is back."""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import pytest
from langchain_core.runnables import RunnableLambda

from langmem.errors import StoreFileError
from langmem.reflection import LocalReflectionExecutor
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings

INDEX = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["$"]}
CONFIG = {"configurable": {"thread_id": "t"}}


def _executor(store: SqliteStore) -> LocalReflectionExecutor:
    echo = RunnableLambda(lambda payload: payload, name="echo")
    return LocalReflectionExecutor.with_options(echo, store, queue="q", poll_seconds=0.05)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_submit_to_a_vanished_file_is_refused(tmp_path: Path, how: str) -> None:
    path = tmp_path / "m.sqlite"
    store = SqliteStore(path, index=INDEX)  # type: ignore[arg-type]
    executor = _executor(store)
    assert executor.submit({"n": 1}, CONFIG, after_seconds=0).result(timeout=10) == {"n": 1}
    if how == "deleted":
        os.remove(path)
    else:  # a backup restored over it
        other = SqliteStore(tmp_path / "backup.sqlite", index=INDEX)  # type: ignore[arg-type]
        other.close()
        shutil.copy(tmp_path / "backup.sqlite", tmp_path / "incoming")
        os.replace(tmp_path / "incoming", path)
    with pytest.raises(StoreFileError, match=rf"{how}.*Nothing was written.*open the store again"):
        executor.submit({"n": 2}, CONFIG, after_seconds=3600)
    executor.shutdown(wait=False)
    store.close()


def test_workers_outlive_a_file_that_comes_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "m.sqlite"
    store = SqliteStore(path, index=INDEX)  # type: ignore[arg-type]
    executor = _executor(store)
    future = executor.submit({"n": 1}, CONFIG, after_seconds=0.4)
    os.rename(path, tmp_path / "moved.sqlite")  # gone while the task waits
    with caplog.at_level(logging.ERROR, logger="langmem.reflection"):
        time.sleep(0.6)
    assert "failed; trying again" in caplog.text  # said, and the worker lives on
    os.rename(tmp_path / "moved.sqlite", path)
    assert future.result(timeout=10) == {"n": 1}
    executor.shutdown(wait=True)
    store.close()


def test_a_relative_path_survives_a_chdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = SqliteStore("relative.sqlite", index=INDEX)  # type: ignore[arg-type]
    executor = _executor(store)
    monkeypatch.chdir("/")  # the file is where it was: not "deleted"
    assert executor.submit({"n": 3}, CONFIG, after_seconds=0).result(timeout=10) == {"n": 3}
    executor.shutdown(wait=True)
    store.close()
