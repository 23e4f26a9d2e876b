"""The deployable graphs: langgraph.json, lazy modules, scripted runs, the auth hook."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.memory import InMemoryStore
from langgraph_sdk.auth.exceptions import HTTPException
from langgraph_sdk.auth.types import AuthContext

from langmem.errors import InvalidInputError, NamespaceError
from langmem.graphs import auth, prompts, semantic
from langmem.testing import ScriptedChatModel, ai_tool_calls
from tests.reflection._support import index

ROOT = Path(__file__).resolve().parents[2]


def test_langgraph_json_points_at_factories_that_exist() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text())
    targets = [*config["graphs"].values(), config["auth"]["path"]]
    for target in targets:
        path, _, name = target.partition(":")
        module = path.removeprefix("./src/").removesuffix(".py").replace("/", ".")
        obj = getattr(__import__(module, fromlist=[name]), name)
        assert obj is not None
    assert callable(semantic.graph) and callable(prompts.optimize_prompts)


def test_importing_the_graph_modules_builds_nothing() -> None:
    code = (
        "import sys, langmem.graphs.semantic, langmem.graphs.prompts, langmem.graphs.auth\n"
        "heavy = [m for m in ('langmem.knowledge.extraction', 'langmem.stores._sqlite',"
        " 'langmem.prompts.optimization', 'langchain_anthropic') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


CONFIG: Any = {"configurable": {"langgraph_auth_user_id": "alice", "thread_id": "t"}}


def test_the_memory_graph_writes_into_the_authenticated_users_namespace() -> None:
    store = InMemoryStore(index=index())  # type: ignore[arg-type]
    model = ScriptedChatModel(default=ai_tool_calls(("Memory", {"content": "Likes tea"})))
    graph = semantic.build_memory_graph(model, store=store)
    out = graph.invoke({"messages": [{"role": "user", "content": "I like tea"}]}, CONFIG)
    assert [m["namespace"] for m in out["updated_memories"]] == [("memories", "alice")]
    assert [i.value["content"] for i in store.search(("memories", "alice"))] == [
        {"content": "Likes tea"}
    ]
    spoof = {"configurable": {**CONFIG["configurable"], "langgraph_user_id": "bob"}}
    with pytest.raises(NamespaceError, match="not the authenticated user"):
        graph.invoke({"messages": [{"role": "user", "content": "x"}]}, spoof)
    assert store.search(("memories", "bob")) == []


def test_the_factory_builds_from_the_run_config() -> None:
    model = ScriptedChatModel(default=ai_tool_calls(("Memory", {"content": "Has a dog"})))
    store = InMemoryStore(index=index())  # type: ignore[arg-type]
    graph = semantic.graph({"configurable": {"model": model}})
    config = {"configurable": {"langgraph_user_id": "carol"}}
    from langgraph.func import entrypoint

    @entrypoint(store=store)
    def run(messages: list[Any]) -> Any:
        return graph.invoke({"messages": messages}, config)

    run.invoke([{"role": "user", "content": "I have a dog"}])
    assert [i.value["content"] for i in store.search(("memories", "carol"))] == [
        {"content": "Has a dog"}
    ]


def _optimizer_reply(request: Any) -> Any:
    offered = request.tool_names
    if "select_prompts" in offered:
        return ai_tool_calls(("select_prompts", {"names": ["style"]}))
    return ai_tool_calls(("submit_prompt", {"changed": True, "new_prompt": "Cite sources."}))


def test_the_prompt_graph_optimizes_one_and_several_prompts() -> None:
    model = ScriptedChatModel(default=_optimizer_reply)
    graph = prompts.build_prompt_graph(model, kind="prompt_memory")
    trajectories = [([{"role": "user", "content": "cite sources please"}], {"score": 0})]
    out = asyncio.run(graph.ainvoke({"trajectories": trajectories, "prompt": "You are terse."}))
    assert out == {"prompt": "Cite sources."}
    assert "You are terse." in model.requests[0].text()
    several = [
        {"name": "style", "prompt": "You are terse."},
        {"name": "tools", "prompt": "Use the search tool."},
    ]
    out = graph.invoke({"trajectories": trajectories, "prompts": several})
    assert [p["prompt"] for p in out["prompts"]] == ["Cite sources.", "Use the search tool."]
    factory_graph = prompts.optimize_prompts(
        {"configurable": {"model": model, "kind": "prompt_memory"}}
    )
    with pytest.raises(InvalidInputError, match="name no prompt"):
        factory_graph.invoke({"trajectories": trajectories})


class _User:
    def __init__(self, name: str) -> None:
        self.identity = name
        self.is_authenticated = True
        self.display_name = name
        self.permissions: list[str] = []


def _ctx(user: str, action: str, resource: str = "store") -> AuthContext:
    return AuthContext(resource=resource, action=action, user=_User(user), permissions=[])  # type: ignore[arg-type]


def test_the_auth_hook_refuses_another_users_namespace() -> None:
    value: dict[str, Any] = {"namespace": ("memories", "bob"), "key": "k", "value": {}}
    with pytest.raises(HTTPException) as refused:
        asyncio.run(auth.scope_store(_ctx("alice", "put"), value))
    assert refused.value.status_code == 403 and "another user" in str(refused.value.detail)
    with pytest.raises(HTTPException):
        asyncio.run(auth.scope_store(_ctx("alice", "get"), {"namespace": ("memories", "bob")}))
    with pytest.raises(HTTPException):
        asyncio.run(auth.scope_store(_ctx("alice", "search"), {"namespace": ()}))
    own: dict[str, Any] = {"namespace": ("memories", "alice", "work")}
    asyncio.run(auth.scope_store(_ctx("alice", "put"), own))
    assert own["namespace"] == ("memories", "alice", "work")
    broad: dict[str, Any] = {"namespace": ("memories",)}
    asyncio.run(auth.scope_store(_ctx("alice", "search"), broad))
    assert broad["namespace"] == ("memories", "alice")


def test_authentication_needs_a_known_bearer_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGMEM_API_TOKENS", "tok-a=alice,tok-b=bob")
    assert asyncio.run(auth.authenticate("Bearer tok-b")) == "bob"
    for header in (None, "Bearer nope", "Basic tok-a"):
        with pytest.raises(HTTPException) as refused:
            asyncio.run(auth.authenticate(header))
        assert refused.value.status_code == 401
    stamped: dict[str, Any] = {}
    ctx = AuthContext(
        resource="threads", action="create", user=_ctx("bob", "x").user, permissions=[]
    )
    assert asyncio.run(auth.owner_only(ctx, stamped)) == {"owner": "bob"}
    assert stamped["metadata"]["owner"] == "bob"
