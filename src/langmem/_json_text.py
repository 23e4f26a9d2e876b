"""JSON text that other JSON readers can parse: infinite numbers written as ``1e999``.

``json.dumps`` writes ``Infinity`` and ``NaN``, which are not JSON: SQLite's JSON functions,
``jq`` and JavaScript refuse them. ``1e999`` is a valid JSON number that SQLite reads as
infinity and ``json.loads`` as ``math.inf``, so an infinite number still round-trips. NaN has no
JSON number; callers choose to refuse it or to keep ``NaN``.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from typing import Any


class NaNFound(ValueError):
    """``value`` holds NaN at :attr:`path` (e.g. ``value['a'][2]``)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"NaN at {path}")
        self.path = path


def dumps(value: Any, *, refuse_nan: bool, root: str = "value", **options: Any) -> str:
    """``json.dumps(value, **options)`` with infinities written ``1e999`` / ``-1e999``.

    NaN raises :class:`NaNFound` naming where it is when ``refuse_nan``, else stays ``NaN``.

    Example:
        >>> dumps({"a": float("inf"), "b": [float("-inf")]}, refuse_nan=True)
        '{"a": 1e999, "b": [-1e999]}'
    """
    text = json.dumps(value, **options)
    if "NaN" not in text and "Infinity" not in text:  # how json.dumps spells them
        return text
    marker = f"langmem-infinity-{uuid.uuid4().hex}"
    replaced = _marked(value, root, marker, refuse_nan)
    if replaced is value:
        return text  # the words were inside strings
    text = json.dumps(replaced, **options)
    return text.replace(f'"+{marker}"', "1e999").replace(f'"-{marker}"', "-1e999")


def _marked(value: Any, path: str, marker: str, refuse_nan: bool) -> Any:
    """``value`` with infinite floats replaced by ``"+marker"`` / ``"-marker"`` (the very same
    object when it holds none)."""
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            if refuse_nan:
                raise NaNFound(path)
            return value
        return f"+{marker}" if value > 0 else f"-{marker}"
    if isinstance(value, Mapping):
        pairs = {k: _marked(v, f"{path}[{k!r}]", marker, refuse_nan) for k, v in value.items()}
        return value if all(pairs[k] is v for k, v in value.items()) else pairs
    if isinstance(value, (list, tuple)):
        items = [_marked(v, f"{path}[{n}]", marker, refuse_nan) for n, v in enumerate(value)]
        return value if all(a is b for a, b in zip(items, value)) else items
    return value
