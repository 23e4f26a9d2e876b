"""What a submitted task carries into the queue: payload, configurable values, thread key.

A durable queue stores JSON. Chat messages are kept as LangChain's serialized form and revived
on load (only message classes are revived); pydantic models become their JSON dicts, UUIDs and
dates strings. Anything else that JSON cannot hold is refused at submit time, with the path of
the offending value, rather than failing later in another process.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import inspect
import json
import logging
import math
import numbers
import uuid
import warnings
from collections.abc import Mapping
from typing import Any

from langmem.errors import InvalidInputError

logger = logging.getLogger("langmem.reflection")

TASK_ID_KEY = "langmem_task_id"
"""``config["configurable"]`` key under which a running task finds its own id."""


def _plain(value: Any, path: str) -> Any:
    from langchain_core.load import Serializable, dumpd
    from langgraph.store.base import Item
    from pydantic import BaseModel

    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{path}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value), path)
    if isinstance(value, Serializable):
        dumped = dumpd(value)
        if dumped.get("type") == "constructor":
            return _revivable(value, dumped, path)
    elif isinstance(value, Item):  # a search tool's artifact: LangGraph's Item / SearchItem
        return _plain(value.dict(), path)
    elif isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    elif isinstance(value, uuid.UUID):
        return str(value)
    elif isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    raise InvalidInputError(
        f"payload value {path} = {value!r} ({type(value).__name__}) cannot be stored in the "
        "durable task queue: pass messages, dicts, lists, strings and numbers only, or use a "
        "non-durable executor (LocalReflectionExecutor.with_options(..., durable=False))."
    )


def _revivable(value: Any, dumped: dict[str, Any], path: str) -> dict[str, Any]:
    """``dumped`` (LangChain's serialized form of ``value``, a message) with every field that
    LangChain could not serialize (a tool message's ``SearchItem`` artifact, a datetime in
    ``additional_kwargs``...) made plain, so that the task can be loaded again; such a field
    made the task fail at every attempt in the worker."""
    kwargs = dumped.get("kwargs")
    if isinstance(kwargs, dict):
        for name, field in kwargs.items():
            if _unserializable(field):
                kwargs[name] = _plain(getattr(value, name, field), f"{path}.{name}")
    return dumped


def _unserializable(node: Any) -> bool:
    if isinstance(node, dict):
        if node.get("lc") == 1 and node.get("type") == "not_implemented":
            return True
        return any(_unserializable(v) for v in node.values())
    if isinstance(node, list):
        return any(_unserializable(v) for v in node)
    return False


def encode_payload(payload: Any) -> Any:
    """``payload`` as a JSON value (raises :class:`InvalidInputError` if it cannot be)."""
    plain = _plain(payload, "payload")
    json.dumps(plain)
    return plain


def decode_payload(stored: Any) -> Any:
    """Revive the chat messages of a payload encoded by :func:`encode_payload`."""
    from langchain_core.load import load

    # langchain-core >= 1.2.5 can restrict what it revives; older versions revive only
    # langchain's own classes anyway, and the payload is our own encoding of messages.
    options: dict[str, Any] = (
        {"allowed_objects": "messages"}
        if "allowed_objects" in inspect.signature(load).parameters
        else {}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load(stored, **options)


def durable_configurable(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The configurable values of ``config`` that JSON can hold (internal ``__`` keys dropped)."""
    configurable = dict((config or {}).get("configurable") or {})
    kept: dict[str, Any] = {}
    for key, value in configurable.items():
        if key.startswith("__") or key == TASK_ID_KEY:
            continue
        try:
            kept[key] = _plain(value, f"config['configurable'][{key!r}]")
        except InvalidInputError:
            logger.debug("configurable %r is not JSON; the durable task runs without it", key)
    return kept


def thread_key(thread_id: Any, config: Mapping[str, Any] | None, *, explicit: bool) -> str:
    """The debounce key: the thread id given, else the config's, else a key of its own.

    A submit without any thread id debounces with nothing (upstream shares one key between all
    of them, so unrelated conversations cancelled each other).
    """
    if not explicit:
        thread_id = ((config or {}).get("configurable") or {}).get("thread_id")
    if thread_id is None:
        return f"unthreaded:{uuid.uuid4().hex}"
    if isinstance(thread_id, str) and not thread_id.strip():
        # one key for every such submission: unrelated conversations would replace each other
        where = "thread_id" if explicit else "config['configurable']['thread_id']"
        raise InvalidInputError(
            f"{where}={thread_id!r} is empty: submissions of every conversation would share it "
            "and replace each other. Pass the conversation's id, or thread_id=None for no "
            "debouncing."
        )
    if isinstance(thread_id, (str, int, uuid.UUID)) and not isinstance(thread_id, bool):
        return str(thread_id)
    raise InvalidInputError(
        f"thread_id={thread_id!r} is a {type(thread_id).__name__}: pass a str, int or UUID "
        "(the conversation the submission belongs to), or None for no debouncing."
    )


def check_delay(after_seconds: Any) -> None:
    """Refuse a delay that is not a finite number of seconds >= 0 (NaN and infinity included:
    a task due at no real time would never run)."""
    number = not isinstance(after_seconds, bool) and isinstance(after_seconds, numbers.Real)
    if not number or not math.isfinite(after_seconds) or after_seconds < 0:
        raise InvalidInputError(
            f"after_seconds={after_seconds!r} is not a delay: pass a finite number of seconds "
            ">= 0 (0 runs the task as soon as a worker is free)."
        )
