"""The default queue name of a local executor, derived from what its reflector is.

Executors on one database share its task table; an executor claims the tasks of its queue name
and debounces per (queue, thread). With one fixed default name, two executors of different
reflectors on the default store (a semantic and an episodic manager, say) ran each other's
tasks and replaced each other's pending task of the same conversation. The name therefore
depends on the reflector, and only on what identifies it across restarts (so the next process
with the same reflector runs what a dead one left): the function or class that does the work
(a lambda's line too), the runnable's name, and for langmem's managers their namespace template
and schema names.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from langmem.tasks import TaskStatus

PREFIX = "reflection"


def default_queue_name(reflector: Any) -> str:
    """``reflection-<label>-<digest>`` for ``reflector``.

    Example:
        >>> from langchain_core.runnables import RunnableLambda
        >>> def semantic(payload): ...
        >>> default_queue_name(RunnableLambda(semantic)).startswith("reflection-semantic-")
        True
    """
    label, parts = _identity(reflector)
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8", "replace"), digest_size=5)
    tidy = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40] or "runnable"
    return f"{PREFIX}-{tidy}-{digest.hexdigest()}"


def _identity(reflector: Any) -> tuple[str, list[str]]:
    kind = type(reflector)
    parts = [f"{kind.__module__}.{kind.__qualname__}"]
    template = getattr(getattr(reflector, "namespace", None), "template", None)
    schemas = getattr(reflector, "schemas", None)
    if isinstance(template, tuple) or isinstance(schemas, tuple):
        parts.append("/".join(map(str, template or ())))
        parts.extend(getattr(s, "__name__", str(s)) for s in schemas or ())
        name = "/".join(str(p) for p in template or () if "{" not in str(p)) or kind.__name__
        return f"{kind.__name__}-{name}", parts
    named = getattr(reflector, "name", None)
    parts.append(str(named or ""))
    function = getattr(reflector, "func", None) or getattr(reflector, "afunc", None)
    if callable(function):
        qualname = str(getattr(function, "__qualname__", ""))
        parts.append(f"{getattr(function, '__module__', '')}.{qualname}")
        code = getattr(function, "__code__", None)
        if "<lambda>" in qualname and code is not None:  # lambdas of a module share a name
            parts.append(str(code.co_firstlineno))
        return str(named or getattr(function, "__name__", kind.__name__)), parts
    nodes = getattr(reflector, "nodes", None)
    if isinstance(nodes, dict):
        parts.extend(sorted(map(str, nodes)))
    get_name = getattr(reflector, "get_name", None)
    name = str(get_name()) if callable(get_name) else kind.__name__
    parts.append(name)
    return name, parts


UNFINISHED = (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.FAILED)


def left_behind(queue: Any, own: str, *, scan: int = 500) -> dict[str, int]:
    """Unfinished tasks (pending, running, failed) in queues that this executor's reflector
    may have used before: the old fixed default ``"reflection"`` (langmem before the name was
    derived) and other ``reflection-<label>-*`` queues of the same label (the reflector's code
    moved, which changes the digest). Counts per queue name, at most ``scan`` tasks read per
    status; an executor does not claim them, so :func:`stranded_warning` says how to."""
    label = own.rsplit("-", 1)[0] + "-"
    counts: dict[str, int] = {}
    for status in UNFINISHED:
        for task in queue.list(status=status, limit=scan):
            name = task.queue
            if name != own and (name == PREFIX or name.startswith(label)):
                counts[name] = counts.get(name, 0) + 1
    return counts


def stranded_warning(own: str, counts: dict[str, int]) -> str:
    """The warning for :func:`left_behind`'s counts: what, where, and the fix."""
    listed = ", ".join(f"{n} in {name!r}" for name, n in sorted(counts.items()))
    first = min(counts)
    return (
        f"This reflection executor uses the queue {own!r}, but unfinished tasks wait in other "
        f"queues that an earlier langmem or an earlier version of this reflector used "
        f"({listed}); no executor with the default queue claims them. To run them, start one "
        "executor once with that queue, e.g. LocalReflectionExecutor.with_options(reflector, "
        f"store, queue={first!r}), and let it drain; or inspect and cancel them with "
        f"`langmem queue list --queue {first}`. Name queues yourself (queue=...) to keep them "
        "stable across code changes."
    )
