"""The ``ranking=`` argument of the stores: a :class:`Ranking`, checked where it is given."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langmem.errors import ConfigurationError
from langmem.stores.ranking import Ranking


def checked(value: Any, store: str) -> Ranking:
    """``value`` as the store's ranking (``None``: the defaults), or a clear error."""
    if value is None:
        return Ranking()
    if isinstance(value, Ranking):
        return value
    if isinstance(value, Mapping):
        names = ", ".join(f"{k}={v!r}" for k, v in value.items())
        fix = f"pass ranking=Ranking({names})"
    else:
        fix = "pass ranking=Ranking(...), e.g. Ranking(restate=0.2)"
    raise ConfigurationError(
        f"{store}(ranking={value!r}): ranking must be a langmem.stores.ranking.Ranking (or None "
        f"for the defaults), not a {type(value).__name__}. Fix: {fix}."
    )
