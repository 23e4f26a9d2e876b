"""NamespaceTemplate: filling from config and the run context, and refusing unsafe values."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from langgraph.func import entrypoint

from langmem.errors import ConfigurationError, NamespaceError
from langmem.utils import NamespaceTemplate


def test_static_namespace_needs_no_config() -> None:
    assert NamespaceTemplate(("memories", "shared"))() == ("memories", "shared")
    assert NamespaceTemplate("memories")() == ("memories",)


def test_fills_from_explicit_config() -> None:
    ns = NamespaceTemplate(("memories", "{langgraph_user_id}", "user-{org}"))
    cfg = {"configurable": {"langgraph_user_id": "u1", "org": "acme", "other": 1}}
    assert ns(cfg) == ("memories", "u1", "user-acme")
    assert ns.keys == ("langgraph_user_id", "org")


def test_accepts_template_copy_and_int_or_uuid_values() -> None:
    ns = NamespaceTemplate(NamespaceTemplate(("m", "{id}")))
    uid = uuid.uuid4()
    assert ns({"configurable": {"id": 7}}) == ("m", "7")
    assert ns({"configurable": {"id": uid}}) == ("m", str(uid))
    assert ns == NamespaceTemplate(("m", "{id}")) and hash(ns) == hash(
        NamespaceTemplate(("m", "{id}"))
    )


def test_fills_from_langgraph_run_config() -> None:
    ns = NamespaceTemplate(("memories", "{langgraph_user_id}"))

    @entrypoint()
    def workflow(_: str) -> tuple[str, ...]:
        return ns()

    assert workflow.invoke("x", {"configurable": {"langgraph_user_id": "zoe"}}) == (
        "memories",
        "zoe",
    )


def test_missing_key_names_key_present_keys_and_config_to_pass() -> None:
    ns = NamespaceTemplate(("memories", "{langgraph_user_id}"))
    with pytest.raises(ConfigurationError) as info:
        ns({"configurable": {"thread_id": "t"}})
    message = str(info.value)
    assert "'langgraph_user_id'" in message
    assert "'thread_id'" in message
    assert "{'configurable': {'langgraph_user_id': '...'}}" in message


def test_no_config_outside_a_run_says_what_to_pass() -> None:
    with pytest.raises(NamespaceError, match="no LangGraph run is in progress"):
        NamespaceTemplate(("memories", "{user}"))()


@pytest.mark.parametrize("value", ["", "a.b", ".", "admin."])
def test_values_that_change_the_shape_are_refused(value: str) -> None:
    with pytest.raises(NamespaceError, match=repr(value)):
        NamespaceTemplate(("memories", "{u}"))({"configurable": {"u": value}})


@pytest.mark.parametrize("value", [None, True, ["a"], {"a": 1}, 1.5])
def test_non_string_values_are_refused(value: object) -> None:
    with pytest.raises(NamespaceError, match="must be strings"):
        NamespaceTemplate(("memories", "{u}"))({"configurable": {"u": value}})


@pytest.mark.parametrize(
    ("template", "needle"),
    [
        ((), "empty"),
        (("a", 3), "must be a string"),
        (("a", "{"), "not a valid template"),
        (("a", "{0}"), "plain name"),
        (("a.b",), "contains '.'"),
        (("",), "empty"),
    ],
)
def test_bad_templates_are_refused_at_construction(template: tuple, needle: str) -> None:
    with pytest.raises(NamespaceError, match=needle):
        NamespaceTemplate(template)


@pytest.mark.parametrize("label", ["{user_id:.3}", "{user_id!r}", "u-{user_id:>8}", "{user_id!s}"])
def test_a_formatted_placeholder_is_refused(label: str) -> None:
    # before: '{user_id:.3}' filled both 'anna' and 'ann' as 'ann', one namespace for two users
    with pytest.raises(NamespaceError, match=r"formats its placeholder .*bare '\{key\}'"):
        NamespaceTemplate(("memories", label))


def test_non_dict_config_is_refused() -> None:
    with pytest.raises(NamespaceError, match="not a dict"):
        NamespaceTemplate(("m", "{u}"))("u1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("template", "filled"),
    [
        (("memories", "{{literal}}"), ("memories", "{literal}")),
        (("{{shared}}", "{user_id}"), ("{shared}", "u1")),
        (("a{{b}}c-{user_id}",), ("a{b}c-u1",)),
    ],
)
def test_doubled_braces_are_literal_braces(
    template: tuple[str, ...], filled: tuple[str, ...]
) -> None:
    # as str.format reads them (and as the template error message says), also in labels
    # without placeholders
    config: Any = {"configurable": {"user_id": "u1"}}
    assert NamespaceTemplate(template)(config) == filled
