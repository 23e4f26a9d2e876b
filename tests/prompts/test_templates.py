"""Template variables: found, kept, and every other brace escaped (helpers and properties)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from langmem._templates import (
    heal_prompt,
    is_clean_template,
    missing_variables,
    template_variables,
)
from langmem.errors import InvalidInputError, TemplateVariableError
from langmem.prompts.optimization import create_multi_prompt_optimizer, create_prompt_optimizer
from langmem.testing import RecordedRequest, ScriptedChatModel
from langmem.utils import get_prompt_extraction_schema, get_var_healer
from tests.prompts._helpers import recommend, reflect, select, submit

VAR_NAMES = ["user", "company", "topic", "n_items", "ctx"]


def test_variables_are_found_in_order_without_escaped_pairs() -> None:
    text = 'Hi {user}! {{literal}} {company} {user} {"json": 1} {a.b} {0}'
    assert template_variables(text) == ["user", "company", "a.b"]


def test_clean_template_detection() -> None:
    assert is_clean_template("Hi {user}, braces {{ok}}")
    assert not is_clean_template('Reply as JSON like {"a": 1}')


def test_heal_escapes_stray_braces_and_unknown_variables() -> None:
    healed = heal_prompt("Use {user} and {new} in {{x}} or { and }", ["user"])
    assert healed == "Use {user} and {{new}} in {{x}} or {{ and }}"
    assert healed.format(user="Ann") == "Use Ann and {new} in {x} or { and }"


def test_heal_without_escaping_keeps_text_as_written() -> None:
    assert heal_prompt('JSON {"a": {x}}', ["x"], escape_braces=False) == 'JSON {"a": {x}}'


def test_heal_removes_to_optimize_markers() -> None:
    assert heal_prompt("<TO_OPTIMIZE id=1>Be {tone}.</TO_OPTIMIZE>", ["tone"]) == "Be {tone}."


def test_var_healer_takes_a_prompt_or_names_and_can_require_all() -> None:
    assert get_var_healer("Hi {user}")("Hello {user} {x}") == "Hello {user} {{x}}"
    assert get_var_healer({"user"})("Hello {user}") == "Hello {user}"
    lenient = get_var_healer({"user", "company"})
    assert lenient("no variables") == "no variables"
    strict = get_var_healer({"user", "company"}, all_required=True)
    with pytest.raises(TemplateVariableError) as caught:
        strict("only {user}")
    assert caught.value.missing == ["company"]
    assert isinstance(caught.value, (ValueError, InvalidInputError))
    assert "{company}" in str(caught.value)


def test_extraction_schema_refuses_lost_variables_and_heals() -> None:
    schema = get_prompt_extraction_schema("Greet {name} from {city}.")
    assert set(schema.model_json_schema()["properties"]) == {"analysis", "improved_prompt"}
    assert (
        "{name}, {city}"
        in schema.model_json_schema()["properties"]["improved_prompt"]["description"]
    )
    ok = schema(analysis="a", improved_prompt="Greet {name} from {city} {warmly}.")
    assert ok.improved_prompt == "Greet {name} from {city} {{warmly}}."  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="city"):
        schema(analysis="a", improved_prompt="Greet {name}.")
    assert schema(analysis="no change").improved_prompt is None  # type: ignore[attr-defined]


def test_extraction_schema_leaves_non_template_prompts_unescaped() -> None:
    schema = get_prompt_extraction_schema('Answer as {"answer": "..."}')
    out = schema(analysis="a", improved_prompt='Answer briefly as {"answer": "..."}')
    assert out.improved_prompt == 'Answer briefly as {"answer": "..."}'  # type: ignore[attr-defined]


_PIECES = ["a", "b", " ", "{", "}", "\n", ".", "{user}", "{x}", "{{", "}}", "{company}"]
_noise = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)


@st.composite
def _template(draw: st.DrawFn) -> tuple[str, list[str]]:
    names = draw(st.lists(st.sampled_from(VAR_NAMES), min_size=0, max_size=3, unique=True))
    words = draw(
        st.lists(st.sampled_from(["Be kind.", "Use lists.", "{{lit}}", "Cite."]), max_size=3)
    )
    parts = [*words, *("{" + n + "}" for n in names)]
    draw(st.randoms()).shuffle(parts)
    return " ".join(parts), names


@given(_template(), st.lists(_noise, max_size=4), st.booleans())
def test_healed_output_keeps_exactly_the_variables_and_formats(
    template: tuple[str, list[str]], noise: list[str], drop_one: bool
) -> None:
    original, names = template
    kept = names[1:] if drop_one and names else names
    candidate = " ".join([*noise, *("{" + n + "}" for n in kept), *noise])
    missing = missing_variables(original, candidate)
    if missing:
        assert all(n not in template_variables(candidate) for n in missing)
        return
    healed = heal_prompt(candidate, names)
    assert set(template_variables(healed)) == set(names)
    healed.format(**dict.fromkeys(names, "X"))  # never raises


_adversarial = st.lists(
    st.one_of(_noise, st.sampled_from(["", "   ", "Be kind {usr}.", "Be kind {{user}}."])),
    min_size=1,
    max_size=4,
)


def _adversary(outputs: list[str]) -> Any:
    """A model that reflects and recommends as asked, and submits the given outputs in turn."""
    queue = list(outputs)

    def reply(request: RecordedRequest) -> Any:
        if "submit_prompt" in request.tool_names:
            return submit(queue.pop(0) if len(queue) > 1 else queue[0])
        if "recommend" in request.tool_names:
            return recommend()
        return reflect()

    return reply


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["prompt_memory", "metaprompt", "gradient"]), _template(), _adversarial)
def test_optimizer_never_returns_a_prompt_that_lost_a_variable(
    kind: str, template: tuple[str, list[str]], outputs: list[str]
) -> None:
    original, names = template
    model = ScriptedChatModel(default=_adversary(outputs))
    out = create_prompt_optimizer(model, kind=kind).invoke(  # type: ignore[call-overload]
        {"trajectories": "user: hi\nassistant: go away", "prompt": original}
    )
    assert set(names) <= set(template_variables(out))
    out.format(**dict.fromkeys(names, "X"))
    assert model.calls <= {"prompt_memory": 3, "metaprompt": 7, "gradient": 5}[kind]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_template(), min_size=2, max_size=3), _adversarial)
def test_multi_prompt_optimizer_keeps_every_prompts_variables(
    templates: list[tuple[str, list[str]]], outputs: list[str]
) -> None:
    prompts = [{"name": f"p{i}", "prompt": text} for i, (text, _) in enumerate(templates)]
    names = [p["name"] for p in prompts]
    adversary = _adversary(outputs)
    model = ScriptedChatModel(
        default=lambda r: select(*names) if "select_prompts" in r.tool_names else adversary(r)
    )
    out = create_multi_prompt_optimizer(model, kind="prompt_memory").invoke(
        {"trajectories": "user: hi\nassistant: go away", "prompts": prompts}  # type: ignore[typeddict-item]
    )
    assert [p["name"] for p in out] == names
    for (_, variables), result in zip(templates, out):
        assert set(variables) <= set(template_variables(result["prompt"]))
