"""The JSON text langmem's PostgreSQL connections send for ``jsonb``: values read back as stored.

``jsonb`` keeps a number as ``numeric`` and prints it back without exponent, so a float that
``json.dumps`` writes with a positive exponent (``1e+16`` and up, ``1e+308``) came back as an
``int`` (``10000000000000000``), a different value in Python (``10**308 != 1e308``), where the
embedded store, which keeps the JSON text, returns the float. Written out in full with a
fraction (``10000000000000000.0``), it reads back as the same float. Every other value is
``json.dumps``' text, as psycopg sends by default. Not kept: the sign of ``-0.0`` (``numeric``
has no negative zero; it reads back ``0.0``, equal to it).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def dumps(value: Any) -> str:
    """``json.dumps(value)``, with floats of positive exponent written out in full."""
    text = json.dumps(value)
    if "e+" not in text:  # no such float (nor a string holding "e+"): the common case
        return text
    return _encoded(value)


def _encoded(value: Any) -> str:
    if isinstance(value, float):
        shortest = float.__repr__(value)  # also for float subclasses (numpy's repr differs)
        if "e+" in shortest:
            return format(Decimal(shortest), "f") + ".0"
        return json.dumps(value)
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(
                f"{json.dumps(key if isinstance(key, str) else json.dumps(key))}: {_encoded(item)}"
                for key, item in value.items()
            )
            + "}"
        )
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_encoded(item) for item in value) + "]"
    return json.dumps(value)
