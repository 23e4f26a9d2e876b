"""A background task whose config lacks a namespace key fails for good (not retried) with the
NamespaceError naming the missing key; the keys it lists are the user's, not the task id the
executor adds to the config."""

from __future__ import annotations

from langmem import ReflectionExecutor, create_memory_store_manager
from langmem.errors import NamespaceError
from langmem.stores import open_store
from langmem.testing import ScriptedChatModel


def test_the_missing_key_error_lists_only_the_users_keys() -> None:
    store = open_store("memory://?embed=hashing&dims=16")
    model = ScriptedChatModel(default="nothing")
    manager = create_memory_store_manager(model, namespace=("memories", "{user_id}"), store=store)
    executor = ReflectionExecutor(manager, store=store)
    try:
        future = executor.submit(
            {"messages": [{"role": "user", "content": "hi"}]},
            {"configurable": {"thread_id": "t-1", "org": "acme"}},
        )
        error = future.exception(timeout=30)
    finally:
        executor.shutdown(wait=False)
    assert isinstance(error, NamespaceError)
    assert "needs 'user_id'" in str(error)
    assert "(keys present: 'org', 'thread_id')" in str(error)
    assert "langmem_task_id" not in str(error)
    assert model.requests == []
