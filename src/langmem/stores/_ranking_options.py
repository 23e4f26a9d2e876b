""":class:`Ranking`: the parameters of the hybrid ranking rule, each checked against its own
rule when a ranking is made (what each one does: the rule in :mod:`langmem.stores.ranking`,
which re-exports this class).
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from langmem.errors import RankingOptionError

if TYPE_CHECKING:
    from langmem.stores._rerank import Reranker, RerankFunction

FUSIONS = ("minmax", "absolute", "rrf", "learned")
"""The ways :func:`~langmem.stores.ranking.rank` can put the dense and the lexical side on one
scale (see "Fusion" in :mod:`langmem.stores.ranking`)."""


@dataclass(frozen=True)
class Ranking:
    """The parameters of :func:`~langmem.stores.ranking.rank` (defaults chosen on the dev
    splits of bench/conversations.py and bench/realmem.py, reported on their test splits;
    docs/ranking.md has the numbers).

    Attributes:
        dense_weight: share of the dense side in the fused score (the rest is BM25).
        k1: BM25 term-frequency saturation.
        b: BM25 length normalisation (0: none, 1: full).
        depth: how many texts by cosine are candidates at least (thread neighbours are found
            among the candidates).
        thread_boost: share of the gap to the best same-thread neighbour's score that an item
            gains (0: off, at most 1).
        thread_window: seconds between two items of a thread for them to be neighbours.
        recency_weight: share of the gap to 1 that the newest candidate gains (0: off).
        recency_half_life: seconds after which the recency term halves.
        fusion: how each side is put on ``[0, 1]``: ``"absolute"`` (clipped cosine, BM25 over
            the query's IDF mass), ``"minmax"`` (each side min-max normalised over the
            candidates), ``"rrf"`` (reciprocal ranks), or ``"learned"``: a fixed logistic
            model of the rule's parts; see "Fusion" and "Learned fusion" in
            :mod:`langmem.stores.ranking`.
        rrf_k: the rank offset of ``"rrf"`` (larger: flatter).
        redundancy: share of its score an item loses when its text is a near-duplicate of a
            better item's (0: off, at most 1); see "Redundancy" in :mod:`langmem.stores.ranking`.
        redundancy_threshold: the cosine between two texts from which the lower-ranked one
            is a near-copy (loses the whole ``redundancy`` share).
        redundancy_ramp: how far below the threshold a lower-ranked text starts to lose
            score, in proportion to how close it is (0: only near-copies lose).
        redundancy_depth: how many of the best items are compared with each other (for
            redundancy and supersede).
        supersede: share of its score an item loses when a newer item among the best
            ``redundancy_depth`` is a near-copy of it (0: off, at most 1); see "Supersede"
            in :mod:`langmem.stores.ranking`.
        supersede_threshold: the cosine between two texts from which the older one is
            superseded by the newer.
        restate: share of its score an item loses when a newer item among the best
            ``redundancy_depth`` restates it (a cosine of at least ``restate_threshold`` and
            the same query words; 0: off, at most 1); see :mod:`langmem.stores._restated`.
        restate_threshold: the cosine between two texts from which the newer one may restate
            the older.
        feedback_docs: a second pass (pseudo-relevance feedback, see
            :mod:`langmem.stores._feedback`): how many of the first pass's best items give
            expansion terms (0: off, one pass).
        feedback_terms: how many expansion terms the second pass adds at most (0: off).
        feedback_weight: an expansion term's weight relative to a query term, for the best
            one (the others in proportion; 0: off).
        feedback_fetch: whether the second pass also fetches the texts holding the expansion
            terms (else it ranks the one-pass candidates only; on the dev split both rank
            alike, the fetch costs an index lookup).
        centering: share of the dense candidates' mean vector taken off the query before the
            dense side is computed (0: off, at most 1); see "Centering" in
            :mod:`langmem.stores.ranking`.
        rerank: an optional re-ranker run after this ranking (``None``: off): an object with
            ``rerank(query, texts) -> scores`` (and optionally ``async arerank``), or such a
            function (:class:`langmem.stores.Reranker`); see :mod:`langmem.stores._rerank`
            and "Re-ranking" in docs/ranking.md.
        rerank_depth: how many of the best results (from the first, whatever page is asked)
            the re-ranker orders; the rest follow in this ranking's order.
        rerank_weight: the re-ranker's share when its scores are mixed with this ranking's
            (1: its order alone; 0: this ranking's order).
        rerank_fallback: when the re-ranker raises or returns unusable scores: ``False``
            (the default) raises :class:`~langmem.errors.RerankerError`; ``True`` warns
            (:class:`~langmem.errors.RerankerWarning`) and returns this ranking's order.

    Numbers are stored as plain ``int`` (the counts) and ``float`` (the rest), whatever real
    number type was given (docs/ranking.md lists each parameter's range).

    Raises:
        RankingOptionError: a value its parameter's rule refuses (NaN, text, ``True`` for a
            number, out of range...); a ``ValueError`` naming the parameter, the value, the rule
            and the fix, with the parameter and the value as ``field`` and ``value``.
    """

    dense_weight: float = 0.8
    k1: float = 1.2
    b: float = 0.9
    depth: int = 50
    thread_boost: float = 0.35
    thread_window: float = 300.0
    recency_weight: float = 0.05
    recency_half_life: float = 7 * 86400.0
    fusion: str = "absolute"
    rrf_k: float = 60.0
    redundancy: float = 0.0
    redundancy_threshold: float = 0.8
    redundancy_ramp: float = 0.0
    redundancy_depth: int = 20
    supersede: float = 0.0
    supersede_threshold: float = 0.9
    restate: float = 0.0
    restate_threshold: float = 0.6
    feedback_docs: int = 0
    feedback_terms: int = 8
    feedback_weight: float = 0.5
    feedback_fetch: bool = False
    centering: float = 0.0
    rerank: Reranker | RerankFunction | None = field(default=None, hash=False)
    rerank_depth: int = 20
    rerank_weight: float = 1.0
    rerank_fallback: bool = False

    def __post_init__(self) -> None:
        if self.rerank is not None:
            object.__setattr__(self, "rerank", _reranker(self.rerank))
        given = dict(vars(self))  # as passed, for the messages
        for name, value in given.items():
            kind = _KINDS.get(name)
            if kind is not None and type(value) is not kind:  # else it is already as stored
                object.__setattr__(self, name, _number(name, value))
        for name, (ok, rule) in _RULES.items():
            value = getattr(self, name)
            if not ok(value):
                nan = " (NaN is not a number)" if _is_nan(value) else ""
                raise RankingOptionError(
                    f"Ranking({name}={_shown(given[name])}) is out of range{nan}: {name} "
                    f"{rule}; fix: pass a value in that range, e.g. the default {name}="
                    f"{_DEFAULTS[name]!r}.",
                    field=name,
                    value=given[name],
                )

    def __repr__(self) -> str:
        # as the dataclass writes it, with a re-ranker shown by its type when its own repr is
        # long (a model's repr can run to pages)
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            text = repr(value)
            if f.name == "rerank" and value is not None and len(text) > 80:
                text = f"<{type(value).__qualname__} object>"
            shown.append(f"{f.name}={text}")
        return f"Ranking({', '.join(shown)})"

    def __deepcopy__(self, memo: dict[int, Any]) -> Ranking:
        # immutable, and a re-ranker is a handle on a model or a service: copies share it
        return self

    @property
    def provenance(self) -> bool:
        """Whether candidates need their thread and time."""
        return self.thread_boost > 0 or self.times

    @property
    def times(self) -> bool:
        """Whether every candidate needs its time, also without a thread (recency, supersede
        and restate compare items by time; the thread boost only items of one thread)."""
        return (
            self.recency_weight > 0
            or self.supersede > 0
            or self.restate > 0
            or self.fusion == "learned"
        )

    @property
    def feedback(self) -> bool:
        """Whether searches make a second pass with expansion terms (see ``feedback_docs``;
        never with ``dense_weight=1``, where word matches do not count)."""
        return (
            self.feedback_docs > 0
            and self.feedback_terms > 0
            and self.feedback_weight > 0
            and self.dense_weight < 1.0
        )


def _number(name: str, value: Any) -> Any:
    """``value`` of the number parameter ``name`` as the rule reads it: a Python ``int`` for a
    count (a whole float such as 50.0, from JSON say, is 50), else a ``float`` (an int too
    large for one is an infinity); a value of another kind is kept for its rule to refuse.
    Not a number (text, ``True``/``False``, ``None``...): a :class:`RankingOptionError`."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, Decimal)):
        raise RankingOptionError(
            f"Ranking({name}={_shown(value)}) is not a number: {name} {_RULES[name][1]}; "
            f"fix: pass it as a number, e.g. the default {name}={_DEFAULTS[name]!r}.",
            field=name,
            value=value,
        )
    if name in _COUNTS:
        if isinstance(value, numbers.Integral):
            return int(value)
        whole = _real(value)
        return int(whole) if math.isfinite(whole) and whole.is_integer() else value
    return _real(value)


def _real(value: Any) -> float:
    """``float(value)``, or an infinity of its sign for an int too large for a float."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
    except ValueError:  # a signalling NaN (Decimal("sNaN"))
        return math.nan


def _reranker(value: Any) -> Any:
    """``value`` as a re-ranker (:func:`._rerank.checked`), or a :class:`RankingOptionError`."""
    from langmem.stores import _rerank

    method = inspect.getattr_static(value, "rerank", None)
    if isinstance(value, type) and not isinstance(method, (staticmethod, classmethod)):
        # the class where an instance was meant: calling it would make an instance, not scores
        raise RankingOptionError(
            f"Ranking(rerank={value.__qualname__}) is a class, not a re-ranker: rerank is None, "
            "an object with a rerank(query, texts) method returning one score per text, or "
            f"such a function; fix: pass an instance, e.g. Ranking(rerank={value.__qualname__}"
            "()).",
            field="rerank",
            value=value,
        )
    try:
        return _rerank.checked(value)
    except ValueError as exc:  # its message names the value, the rule and the fix
        raise RankingOptionError(str(exc), field="rerank", value=value) from None


def _shown(value: object) -> str:
    """``repr(value)`` for a message, cut short when long (an int of a thousand digits)."""
    try:
        text = repr(value)
    except ValueError:  # an int past Python's limit for turning it into text
        return f"<an int of {value.bit_length() if isinstance(value, int) else '?'} bits>"
    return text if len(text) <= 60 else f"{text[:40]}...({len(text)} characters)"


def _is_nan(value: object) -> bool:
    return isinstance(value, (float, Decimal)) and value != value


def _between(low: float, high: float) -> Callable[[Any], bool]:
    return lambda value: bool(low <= value <= high)  # False for NaN


def _finite(low: float) -> Callable[[Any], bool]:
    # an infinite weight turns scores into NaN (inf / inf, inf * 0)
    return lambda value: bool(low <= value < math.inf)


def _count(low: int) -> Callable[[Any], bool]:
    return lambda value: type(value) is int and low <= value <= _MOST


_MOST = 1_000_000_000
"""The largest count a parameter takes: a count that large already takes every text a store
holds; larger ones overflow PostgreSQL's LIMIT (a bigint) once doubled."""

_COUNTS = ("depth", "redundancy_depth", "feedback_docs", "feedback_terms", "rerank_depth")
"""The parameters that count texts: whole numbers, and a float such as 50.0 is taken as 50."""

_COUNT_FROM_0 = f"is an int from 0 to {_MOST:_}"
_COUNT_FROM_1 = f"is an int from 1 to {_MOST:_}"
_LARGE = 1e6
"""The bound of ``k1`` and ``feedback_weight``: BM25 multiplies them with term counts, IDFs and
length ratios, and past about 1e300 a product overflows (then inf / inf is NaN); well below,
at 1e6, BM25 already counts terms linearly and an expansion term outweighs the query."""

_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "dense_weight": (_between(0.0, 1.0), "goes from 0 to 1"),
    "k1": (_between(0.0, _LARGE), "goes from 0 to 1e6"),
    "b": (_between(0.0, 1.0), "goes from 0 to 1"),
    "depth": (_count(1), _COUNT_FROM_1),
    "thread_boost": (_between(0.0, math.inf), "is a number >= 0"),
    "thread_window": (_between(0.0, math.inf), "is a number of seconds >= 0"),
    "recency_weight": (_finite(0.0), "is a finite number >= 0"),
    "recency_half_life": (lambda value: bool(value > 0.0), "is a number of seconds > 0"),
    "fusion": (lambda value: value in FUSIONS, f"is one of {', '.join(FUSIONS)}"),
    "rrf_k": (lambda value: bool(0.0 < value < math.inf), "is a finite number > 0"),
    "redundancy": (_between(0.0, 1.0), "goes from 0 to 1"),
    "redundancy_threshold": (_between(-1.0, 1.0), "goes from -1 to 1"),
    "redundancy_ramp": (_between(0.0, 2.0), "goes from 0 to 2"),
    "redundancy_depth": (_count(1), _COUNT_FROM_1),
    "supersede": (_between(0.0, 1.0), "goes from 0 to 1"),
    "supersede_threshold": (_between(-1.0, 1.0), "goes from -1 to 1"),
    "restate": (_between(0.0, 1.0), "goes from 0 to 1"),
    "restate_threshold": (_between(-1.0, 1.0), "goes from -1 to 1"),
    "feedback_docs": (_count(0), _COUNT_FROM_0),
    "feedback_terms": (_count(0), _COUNT_FROM_0),
    "feedback_weight": (_between(0.0, _LARGE), "goes from 0 to 1e6"),
    "feedback_fetch": (lambda value: isinstance(value, bool), "is True or False"),
    "centering": (_between(0.0, 1.0), "goes from 0 to 1"),
    "rerank_depth": (_count(1), _COUNT_FROM_1),
    "rerank_weight": (_between(0.0, 1.0), "goes from 0 to 1"),
    "rerank_fallback": (lambda value: isinstance(value, bool), "is True or False"),
}
"""Each :class:`Ranking` parameter's rule: a check (False for NaN) and how to say it."""

_DEFAULTS = {f.name: f.default for f in fields(Ranking)}

_NOT_NUMBERS = ("fusion", "feedback_fetch", "rerank", "rerank_fallback")
"""The parameters that are not numbers (checked by their own rule)."""

_KINDS = {n: int if n in _COUNTS else float for n in _DEFAULTS if n not in _NOT_NUMBERS}
"""Each number parameter's stored type (:func:`_number`)."""
