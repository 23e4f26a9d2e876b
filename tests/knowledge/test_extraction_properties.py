"""Properties of the memory manager under arbitrary (good and bad) model output.

Whatever the model answers, an existing memory is never lost: it comes back unchanged, changed by
a valid call, or marked removed by a valid delete; and the run ends within its bounded calls.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langmem import create_memory_manager
from langmem._conversation import encodable
from langmem.errors import ModelOutputError
from langmem.knowledge.extraction import Memory, RemoveDoc
from langmem.testing import ScriptedChatModel, ai_tool_calls
from tests.knowledge._support import CONVO

short_ids = st.sampled_from(["m1", "m2", "m3", "m4", "m9", "x", ""])
calls = st.one_of(
    st.tuples(st.just("Memory"), st.fixed_dictionaries({"content": st.text(max_size=8)})),
    st.tuples(st.just("Memory"), st.fixed_dictionaries({"text": st.text(max_size=8)})),
    st.tuples(
        st.just("update_memory"),
        st.fixed_dictionaries(
            {
                "id": short_ids,
                "patch": st.one_of(
                    st.fixed_dictionaries({"content": st.text(max_size=8)}),
                    st.fixed_dictionaries({"colour": st.text(max_size=3)}),
                    st.just("not an object"),
                ),
            }
        ),
    ),
    st.tuples(st.just("delete_memory"), st.fixed_dictionaries({"id": short_ids})),
    st.tuples(st.sampled_from(["forget", "done"]), st.just({})),
)


def simulate(
    existing: list[tuple[str, Memory]], reply: list[tuple[str, Any]]
) -> tuple[dict[str, Any], list[Any]]:
    """What one reply does, call by call: the existing memories by id, and the new ones."""
    state: dict[str, Any] = {key: value for key, value in existing}
    new: list[Any] = []
    shorts = {f"m{i + 1}": key for i, (key, _) in enumerate(existing)}
    for name, raw in reply:
        args = encodable(raw)  # the manager drops NUL characters, as documented
        if name == "Memory":
            live = [*state.values(), *new]
            blank = not str(args.get("content", "")).strip()  # empty memories are skipped
            if set(args) == {"content"} and not blank and Memory(**args) not in live:
                new.append(Memory(**args))
                shorts[f"m{len(existing) + len(new)}"] = len(new) - 1  # type: ignore[assignment]
            continue
        target = shorts.get(str(args.get("id", "")))
        patch = args.get("patch")
        is_update = (
            name == "update_memory"
            and isinstance(patch, dict)
            and set(patch) == {"content"}
            and bool(str(patch["content"]).strip())  # an update emptying a memory is skipped
        )
        if target is None or name not in ("update_memory", "delete_memory"):
            continue
        if isinstance(target, int):  # a memory inserted earlier in this reply
            if new[target] is None:
                continue
            if is_update:
                new[target] = Memory(content=patch["content"])  # type: ignore[index]
            elif name == "delete_memory":
                new[target] = None
            continue
        if isinstance(state[target], RemoveDoc):
            continue
        if is_update:
            state[target] = Memory(content=patch["content"])  # type: ignore[index]
        elif name == "delete_memory":
            state[target] = RemoveDoc(json_doc_id=target)
    return state, [memory for memory in new if memory is not None]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.integers(min_value=0, max_value=4),
    reply=st.lists(calls, max_size=6),
    keeps_failing=st.booleans(),
)
def test_existing_memories_are_never_lost(
    size: int, reply: list[tuple[str, Any]], keeps_failing: bool
) -> None:
    existing = [(f"id-{i}", Memory(content=f"fact {i}")) for i in range(size)]
    snapshot = list(existing)
    # after the first reply the model either repeats it (never fixing anything) or gives up
    follow_up = ai_tool_calls(*reply) if keeps_failing and reply else "no more changes"
    model = ScriptedChatModel(responses=[ai_tool_calls(*reply)], default=follow_up)
    manager = create_memory_manager(model, enable_deletes=True)
    try:
        out = manager.invoke({"messages": CONVO, "existing": existing, "max_steps": 1})
    except ModelOutputError as error:
        assert error.problems and error.attempts == model.calls == 3
        assert existing == snapshot
        return
    assert model.calls <= 3
    assert existing == snapshot  # the caller's list is never modified
    assert [o.id for o in out[:size]] == [key for key, _ in existing]
    for (key, before), (_, after) in zip(existing, out):
        assert after == before or isinstance(after, Memory) or after == RemoveDoc(json_doc_id=key)
    if not keeps_failing:  # one reply, then the model gives up on corrections: exact outcome
        state, new = simulate(existing, reply)
        assert [(o.id, o.content) for o in out[:size]] == list(state.items())
        assert [o.content for o in out[size:]] == new
