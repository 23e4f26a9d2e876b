"""``--ranking KEY=VALUE[,KEY=VALUE...]`` of ``langmem memories search``: ranking options for
one search (the fields of :class:`langmem.stores.ranking.Ranking`)."""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from langmem.errors import ConfigurationError, RankingOptionError
from langmem.stores import _rerank
from langmem.stores.ranking import Ranking

NAMES = tuple(f.name for f in dataclasses.fields(Ranking))
"""The keys ``--ranking`` takes, in the order of :class:`Ranking`."""

_EXAMPLE = "--ranking restate=0.2,supersede=0.3"
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")

ranking_option = click.option(
    "--ranking",
    "ranking",
    multiple=True,
    metavar="KEY=VALUE[,KEY=VALUE...]",
    help="Ranking options for this search, e.g. restate=0.2,supersede=0.3 or fusion=learned "
    "(the fields of langmem.stores.ranking.Ranking; docs/ranking.md). Repeatable.",
)


def parse_ranking(given: tuple[str, ...]) -> dict[str, Any]:
    """``("restate=0.2,fusion=learned",)`` -> ``{"restate": 0.2, "fusion": "learned"}``,
    checked as :class:`Ranking` checks them (a :class:`ConfigurationError` naming the key)."""
    options: dict[str, Any] = {}
    written: dict[str, str] = {}
    for text in given:
        for pair in text.split(","):
            name, sep, raw = (part.strip() for part in pair.partition("="))
            if not sep or not name:
                raise ConfigurationError(
                    f"--ranking {pair!r} is not KEY=VALUE: write it like {_EXAMPLE}."
                )
            if name not in NAMES:
                raise ConfigurationError(
                    f"--ranking {name}={raw}: {name!r} is not a ranking option; the options are "
                    f"{', '.join(NAMES)}. Fix: use one of them, e.g. {_EXAMPLE}."
                )
            if name in written:
                raise ConfigurationError(
                    f"--ranking {name}={raw}: {name} is given twice ({name}={written[name]} "
                    f"before); each option is given once. Fix: keep the one you mean."
                )
            options[name] = _value(name, raw)
            written[name] = raw
    try:
        Ranking(**options)
    except RankingOptionError as exc:  # it names the option it refused
        shown = written.get(exc.field, repr(exc.value))
        raise ConfigurationError(f"--ranking {exc.field}={shown}: {exc}") from None
    return options


def _value(name: str, raw: str) -> Any:
    """``raw`` as ``name`` takes it: a string for ``fusion``, a bool for ``feedback_fetch``,
    an int when it is written as one, else a float; text that is none of them stays text (and
    :class:`Ranking` says it is not a number)."""
    if name == "fusion":
        return raw
    if name == "rerank":
        return _reranker(raw)
    if name in ("feedback_fetch", "rerank_fallback"):
        if raw.lower() in _TRUE + _FALSE:
            return raw.lower() in _TRUE
        raise ConfigurationError(
            f"--ranking {name}={raw}: {name} is true or false. "
            f"Fix: write {name}=true or {name}=false."
        )
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            continue
    return raw


def _reranker(name: str) -> Any:
    """The built-in re-ranker called ``name`` (a command line cannot pass a function)."""
    if name.lower() in ("", "none", "off"):
        return None
    try:
        return _rerank.named(name)
    except ValueError:
        known = ", ".join(sorted(_rerank.BUILT_IN)) or "none are built in yet"
        raise ConfigurationError(
            f"--ranking rerank={name}: rerank takes the name of a built-in re-ranker (the "
            f"names: {known}); a re-ranker of your own (a cross-encoder, an API) is set from "
            "Python: Ranking(rerank=my_reranker) (docs/ranking.md, Re-ranking). Fix: drop "
            "rerank= from --ranking."
        ) from None


def apply(store: Any, options: dict[str, Any]) -> None:
    """Set ``store.ranking`` to its ranking with ``options`` (this opened store only)."""
    if not options:
        return
    current = getattr(store, "ranking", None)
    if not isinstance(current, Ranking):
        raise ConfigurationError(
            f"search --ranking needs a store with langmem's hybrid ranking; "
            f"{type(store).__name__} has none (use a sqlite:// or postgresql:// store). "
            "Run the search without --ranking."
        )
    store.ranking = dataclasses.replace(current, **options)
