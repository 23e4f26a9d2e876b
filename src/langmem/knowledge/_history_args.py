"""The argument checks of :class:`~langmem.History`: namespaces, keys, run and thread ids, and
moments ("as of", "since": datetimes, ISO 8601 text or epoch seconds)."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from typing import Any

from langgraph.store.base import SearchItem

from langmem.errors import InvalidInputError

Moment = _dt.datetime | str | float


def _labels(namespace: Sequence[str]) -> tuple[str, ...]:
    """``namespace`` as a tuple; a string is refused (``tuple("memories")`` is one label per
    letter, so a put would land in another namespace and a read would find nothing)."""
    if isinstance(namespace, (str, bytes)):
        raise InvalidInputError(
            f"namespace={namespace!r} is a {type(namespace).__name__}, not a tuple of labels: "
            f"pass a tuple, e.g. ({namespace!r},) or ('memories', 'user-123')."
        )
    try:
        labels = tuple(namespace)
    except TypeError:
        labels = None
    if labels is None or not all(isinstance(label, str) for label in labels):
        raise InvalidInputError(
            f"namespace={namespace!r} is not a tuple of string labels: pass one, e.g. "
            "('memories', 'user-123')."
        )
    return labels


def _key(key: Any) -> str:
    """A memory's key, which is text: another type was stored as text by one store and refused
    by another, and its records were never found again (they hold the key as given)."""
    if not isinstance(key, str):
        raise InvalidInputError(
            f"key={key!r:.60} is a {type(key).__name__}, not text: memory keys are strings. "
            f"Pass str(key), e.g. {str(key)[:40]!r}."
        )
    return key


def _id(name: str, value: Any) -> str:
    """A run or thread id as text; None or empty text would silently match nothing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInputError(
            f"{name}={value!r} names no {name.split('_')[0]}: pass the id the changes were "
            f"recorded with (History.changes() lists each change's {name})."
        )
    return str(value)


def _current(item: SearchItem, ended: float | None, moment: float) -> bool:
    """Whether the live ``item`` was current at ``moment``: written by then, or the update
    that made it current had ended its previous value (``ended``) by then."""
    if item.updated_at.timestamp() <= moment:
        return True
    return ended is not None and item.created_at.timestamp() < ended <= moment


def _epoch(moment: Moment) -> float:
    if isinstance(moment, (int, float)) and not isinstance(moment, bool):
        try:
            seconds = float(moment)
        except OverflowError:  # an int past a float's range
            seconds = math.nan
        if math.isnan(seconds):
            raise InvalidInputError(
                f"{moment!r:.60} is not a time (epoch seconds must be a number within a float's "
                "range, not NaN): pass a datetime, an ISO 8601 string or epoch seconds."
            )
        return seconds
    if isinstance(moment, str):
        try:
            moment = _dt.datetime.fromisoformat(moment)
        except ValueError:
            raise InvalidInputError(
                f"{moment!r} is not a time: pass a datetime, an ISO 8601 string or epoch seconds."
            ) from None
    if isinstance(moment, _dt.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_dt.timezone.utc)
        return moment.timestamp()
    raise InvalidInputError(
        f"{moment!r} is not a time: pass a datetime, an ISO 8601 string or epoch seconds."
    )
