"""Numeric options: whole numbers (``--limit``, ``--dims``...) and durations (``--older-than``).

click's range types let ``nan`` through (no comparison with NaN is true, so ``--older-than nan``
passed ``x>=0`` and purged nothing) and ``inf`` or ``1e309`` too, and their messages say
"not a valid integer range". These refuse every value outside the rule with one message naming
the value, the rule and an example (exit code 2, as any usage mistake).
"""

from __future__ import annotations

import math
from typing import Any

import click


def _example(param: click.Parameter | None, value: str) -> str:
    name = param.opts[0] if param is not None and param.opts else "the option"
    return f"{name} {value}"


class Whole(click.IntRange):
    """A whole number of ``minimum`` or more."""

    def __init__(self, minimum: int, example: int) -> None:
        super().__init__(min=minimum)
        self.example = example

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(
                f"{value!r} is not a whole number of {self.min} or more: give one, e.g. "
                f"{_example(param, str(self.example))}.",
                param,
                ctx,
            )


class Seconds(click.FloatRange):
    """A finite number of seconds, 0 or more."""

    def __init__(self) -> None:
        super().__init__(min=0)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            seconds = super().convert(value, param, ctx)
        except click.BadParameter:
            seconds = math.nan
        if not math.isfinite(seconds):
            self.fail(
                f"{value!r} is not a finite number of seconds of 0 or more: give one, e.g. "
                f"{_example(param, '86400')} (a day).",
                param,
                ctx,
            )
        return seconds
