"""The optional re-ranking stage of the stores' searches: ``Ranking(rerank=...)``.

A store first ranks a query by its own rule (:mod:`langmem.stores.ranking`, or the cosine with
``hybrid=False``). With a re-ranker set, a search with a query then:

1. takes the store's best ``rerank_depth`` results (after namespace and filter), counted from
   the first result whatever page is asked, so that every page within the depth comes from one
   and the same re-ranked list (the store ranks ``max(rerank_depth, offset + limit)``; a search
   that refreshes TTLs refreshes those of all the results it ranked so, as read);
2. asks the re-ranker once, ``rerank(query, texts)``, with each result's text as the store
   indexed it (its indexed fields, joined by a newline); it returns one number per text,
   higher for more relevant;
3. orders those results by ``rerank_weight * r + (1 - rerank_weight) * f``, where ``r`` and
   ``f`` are the re-ranker's and the store's scores min-max normalised over them (ties keep
   the store's order; weight 1, the default, is the re-ranker's order alone);
4. gives the results their new places with the store's own scores of those places: the
   ``k``-th re-ranked result gets the ``k``-th best store score among them. So ``score`` stays
   in the store's range (``[0, 1]`` for a hybrid search), results stay in descending order of
   score, and the results past the depth follow, in the store's order, with their own scores
   (never above a re-ranked one). ``explain`` shows the re-ranker's score (``reranked``), the
   store's place (``fused_rank``) and score (``fused_score``).

Async searches call ``arerank`` when the re-ranker has one (or await an ``async def``
function), else run the sync call on a worker thread; both are one flow
(:mod:`langmem._flow`). The re-ranker runs outside the store's transaction and lock; in a batch
with writes, the re-ranked searches run and are re-ranked first (reading the state before the
batch's writes), so a failing re-ranker leaves the store as it was.

Its output is checked like any model output: a sequence (list, tuple, 1-D array) of as many
real, finite numbers as texts. A re-ranker that raises or returns anything else fails the
search with :class:`~langmem.errors.RerankerError` naming the value, the rule and the fix; with
``rerank_fallback=True`` the search warns (:class:`~langmem.errors.RerankerWarning`) and returns
the store's order instead.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import numbers
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, cast, runtime_checkable

from langgraph.store.base import Op, PutOp, Result, SearchItem, SearchOp

from langmem._flow import Flow, ModelCall, run_async, run_sync
from langmem.errors import RerankerError, RerankerWarning
from langmem.stores import _writes
from langmem.stores.ranking import Explanation, Ranking


@runtime_checkable
class Reranker(Protocol):
    """What ``Ranking(rerank=...)`` takes: ``rerank(query, texts)`` returns one score per text
    (higher: more relevant; any real scale). An ``async def arerank(query, texts)``, when
    present, serves async searches. A plain function ``(query, texts) -> scores`` (or an
    ``async def`` one, for async searches) works too.

    Example:
        >>> class Overlap:
        ...     def rerank(self, query, texts):
        ...         words = set(query.lower().split())
        ...         return [len(words & set(t.lower().split())) for t in texts]
        >>> isinstance(Overlap(), Reranker)
        True
    """

    def rerank(self, query: str, texts: Sequence[str]) -> Sequence[float]: ...


RerankFunction = Callable[[str, Sequence[str]], Any]
"""A function taking the query and the texts and returning one score per text (or an
awaitable of them, for async searches)."""

BUILT_IN: dict[str, Callable[[], Reranker | RerankFunction]] = {}
"""Named re-rankers: ``Ranking(rerank="name")`` and ``langmem memories search --ranking
rerank=name`` build ``BUILT_IN[name]()`` (none ship yet; a local model would register here)."""


def checked(value: Any) -> Reranker | RerankFunction:
    """``value`` as a re-ranker (a name is looked up in :data:`BUILT_IN`), or a ``ValueError``
    naming it, the rule and the fix (as every :class:`Ranking` parameter)."""
    if isinstance(value, str):
        return named(value)
    if callable(getattr(value, "rerank", None)) or callable(value):
        return value  # type: ignore[no-any-return]
    raise ValueError(
        f"Ranking(rerank={value!r}) is not a re-ranker: rerank is None, an object with a "
        "rerank(query, texts) method returning one score per text, or such a function; fix: "
        "pass e.g. Ranking(rerank=lambda query, texts: model.predict([(query, t) for t in "
        "texts])), or rerank=None for none."
    )


def named(name: str) -> Reranker | RerankFunction:
    """The built-in re-ranker called ``name``, or a ``ValueError`` listing the names."""
    factory = BUILT_IN.get(name)
    if factory is None:
        known = ", ".join(sorted(BUILT_IN)) or "none are built in yet"
        raise ValueError(
            f"Ranking(rerank={name!r}) names no built-in re-ranker (the names: {known}); fix: "
            "pass a re-ranker object or function from Python, e.g. Ranking(rerank=my_reranker) "
            "(docs/ranking.md, Re-ranking), or leave rerank unset."
        )
    return factory()


def active(ranking: Any) -> Ranking | None:
    """``ranking`` when it is a :class:`Ranking` with a re-ranker (the stores' one check)."""
    if isinstance(ranking, Ranking) and ranking.rerank is not None:
        return ranking
    return None


# ------------------------------------------------------------------ what the store runs


@dataclass(frozen=True)
class Inner:
    """A store's own step without the stage (its batch, or explain), sync and async; driven by
    :mod:`langmem._flow` as a :class:`ModelCall` runnable."""

    sync: Callable[[Any], Any]
    asynchronous: Callable[[Any], Awaitable[Any]]

    def invoke(self, value: Any, config: Any = None) -> Any:
        return self.sync(value)

    async def ainvoke(self, value: Any, config: Any = None) -> Any:
        return await self.asynchronous(value)


@dataclass(frozen=True)
class _Ask:
    """The re-ranker as a :class:`ModelCall` runnable: input ``(query, texts)``."""

    reranker: Any

    def invoke(self, value: tuple[str, list[str]], config: Any = None) -> Any:
        out = self.call(value)
        if inspect.isawaitable(out):
            if inspect.iscoroutine(out):
                out.close()  # never awaited: no "never awaited" warning
            raise _Unusable(
                "an awaitable (it is async); the rule: a sync search needs scores returned "
                "directly",
                "give it a sync rerank(query, texts), or search with the async API "
                "(asearch / aexplain)",
            )
        return out

    async def ainvoke(self, value: tuple[str, list[str]], config: Any = None) -> Any:
        reranker = self.reranker
        call = getattr(reranker, "arerank", None)
        if callable(call):
            return await call(*value)
        if getattr(reranker, "rerank", None) is None and _is_async(reranker):
            return await reranker(*value)
        out = await asyncio.to_thread(self.call, value)  # a sync one: off the event loop
        return await out if inspect.isawaitable(out) else out

    def call(self, value: tuple[str, list[str]]) -> Any:
        """``rerank(query, texts)`` of the object, or the function itself."""
        method = getattr(self.reranker, "rerank", None)
        return (method or self.reranker)(*value)


def _is_async(function: Any) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


class _Unusable(Exception):
    """The re-ranker's output broke a rule: what it was, and the fix."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix


# ------------------------------------------------------------------ the stage


def reranks(op: Op) -> bool:
    """Whether the stage re-ranks ``op``: a search with a query whose page is well formed and
    not empty (any other is left to the store, which runs it or refuses it as without the
    stage)."""
    return (
        isinstance(op, SearchOp)
        and isinstance(op.query, str)
        and bool(op.query)
        and all(isinstance(n, int) and not isinstance(n, bool) for n in (op.limit, op.offset))
        and op.limit > 0
        and op.offset >= 0
    )


def widened(op: SearchOp, depth: int) -> SearchOp:
    """What the store ranks for ``op``: the first ``max(depth, offset + limit)`` results (with
    ``op``'s TTL refresh: the results the re-ranker reads count as read)."""
    limit = max(depth, op.offset + op.limit)
    return SearchOp(op.namespace_prefix, op.filter, limit, 0, op.query, op.refresh_ttl)


def batch_flow(
    ops: list[Op],
    ranking: Ranking,
    inner: Inner,
    fields: _writes.IndexPaths | None,
) -> Flow[list[Result]]:
    """A store batch with the stage: ``inner`` runs ops as the store does without it;
    ``fields``: the store's indexed fields (``None``: no index, nothing to re-rank)."""
    picked = [i for i, op in enumerate(ops) if reranks(op)] if fields is not None else []
    if not picked or fields is None:
        results: list[Result] = yield ModelCall(inner, ops)
        return results
    depth = ranking.rerank_depth
    wide: list[Op] = list(ops)
    for i in picked:
        wide[i] = widened(ops[i], depth)  # type: ignore[arg-type]
    writes = any(isinstance(op, PutOp) for op in ops)
    if writes:  # the re-ranked reads first, so a failing re-ranker stops the writes
        found = yield ModelCall(inner, [wide[i] for i in picked])
        results = [None] * len(ops)
        for i, listed in zip(picked, found):
            results[i] = listed
    else:
        results = yield ModelCall(inner, wide)
    for i in picked:
        op = cast(SearchOp, ops[i])
        items = cast(list[SearchItem], results[i])
        texts = [item_text(item, fields) for item in items[:depth]]
        scores = yield from _asked(ranking, op.query or "", texts)
        page = _reordered(items, scores, ranking)[op.offset : op.offset + op.limit]
        results[i] = [hit for hit, _ in page]
    if writes:
        asked = set(picked)
        rest = [i for i in range(len(ops)) if i not in asked]
        done = yield ModelCall(inner, [ops[i] for i in rest])
        for i, result in zip(rest, done):
            results[i] = result
    return results


def explain_flow(
    op: SearchOp, ranking: Ranking, inner: Inner, fields: _writes.IndexPaths | None
) -> Flow[list[tuple[SearchItem, Explanation]]]:
    """A store's ``explain`` with the stage (``inner``: its explain of one op without it)."""
    if fields is None or not reranks(op):
        found: list[tuple[SearchItem, Explanation]] = yield ModelCall(inner, op)
        return found
    depth = ranking.rerank_depth
    pairs: list[tuple[SearchItem, Explanation]] = yield ModelCall(inner, widened(op, depth))
    texts = [item_text(hit, fields) for hit, _ in pairs[:depth]]
    scores = yield from _asked(ranking, op.query or "", texts)
    out = [
        (
            item,
            replace(
                why, score=item.score, reranked=given, fused_rank=at + 1, fused_score=hit.score
            ),
        )
        for (hit, why), (item, at, given) in _reordered(pairs, scores, ranking, explained=True)
    ]
    return out[op.offset : op.offset + op.limit]


def _asked(ranking: Ranking, query: str, texts: list[str]) -> Flow[list[float] | None]:
    """The re-ranker's checked scores of ``texts`` (``None``: none asked, or it failed and
    ``rerank_fallback`` keeps the store's order)."""
    if not texts:
        return None
    reranker = ranking.rerank
    error: RerankerError
    try:
        out = yield ModelCall(_Ask(reranker), (query, list(texts)))
        return _scores(out, texts)
    except _Unusable as bad:
        error = _error(reranker, query, texts, bad)
    except Exception as exc:  # the re-ranker's own error: chained as the cause
        error = _failure(reranker, query, texts, exc)
        error.__cause__ = exc
    if not ranking.rerank_fallback:
        raise error
    kept = str(error).split(" Fix: ", 1)[0]
    warnings.warn(
        RerankerWarning(f"{kept} Kept the store's own order (Ranking(rerank_fallback=True))."),
        stacklevel=2,
    )
    return None


def _scores(out: Any, texts: list[str]) -> list[float]:
    """``out`` as one finite float per text, or :class:`_Unusable`."""
    fix_list = "return a list of floats, one per text, in the order of the texts"
    if isinstance(out, (str, bytes, Mapping)) or out is None:
        raise _Unusable(f"{_shown(out)}; the rule: a sequence of numbers", fix_list)
    if hasattr(out, "ndim") and hasattr(out, "tolist"):  # numpy, torch...
        if out.ndim != 1:
            shape = tuple(getattr(out, "shape", ()))
            raise _Unusable(
                f"an array of shape {shape}; the rule: one dimension, one score per text",
                "flatten it (e.g. scores.reshape(-1)) when each row holds one score, or "
                + fix_list,
            )
        out = out.tolist()
    if not isinstance(out, Sequence):
        kind = type(out).__name__
        raise _Unusable(
            f"a {kind} ({_shown(out)}); the rule: a sequence with a length (list, tuple or 1-D "
            "array), read once",
            f"return list(...) of it: {fix_list}",
        )
    if len(out) != len(texts):
        raise _Unusable(
            f"{len(out)} scores for {len(texts)} texts ({_shown(out)}); the rule: exactly one "
            "score per text",
            fix_list,
        )
    scores: list[float] = []
    for at, value in enumerate(out):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise _Unusable(
                f"{value!r} (a {type(value).__name__}) as the score of text {at} "
                f"({_shown(texts[at])}); the rule: every score is a real number",
                "convert each score with float(...) (True/False: 1.0/0.0)",
            )
        number = float(value)
        if not math.isfinite(number):
            raise _Unusable(
                f"{number!r} as the score of text {at} ({_shown(texts[at])}); the rule: every "
                "score is finite (no NaN or infinity)",
                "fix the model or API call that produced it, or map such values to a low score",
            )
        scores.append(number)
    return scores


def _reordered(
    entries: Sequence[Any], scores: list[float] | None, ranking: Ranking, *, explained: bool = False
) -> list[Any]:
    """``entries`` (SearchItems, or ``(SearchItem, Explanation)`` pairs with ``explained``) in
    the stage's order, each a pair of the entry with its new :class:`SearchItem`, or with
    ``explained`` ``(new item, place in the store's order, the re-ranker's score)``."""
    hits: list[SearchItem] = [e[0] if explained else e for e in entries]
    head = len(scores) if scores is not None else 0
    order = list(range(len(hits)))
    values: list[float | None] = [hit.score for hit in hits]
    if scores is not None and head:
        order[:head] = _order([hits[i].score for i in range(head)], scores, ranking.rerank_weight)
        if all(v is not None for v in values[:head]):
            values[:head] = sorted(values[:head], reverse=True)  # type: ignore[type-var]
    out: list[Any] = []
    for k, i in enumerate(order):
        hit = hits[i]
        item = hit if values[k] == hit.score else _scored(hit, values[k])
        if explained:
            given = scores[i] if scores is not None and i < head else None
            out.append((entries[i], (item, i, given)))
        else:
            out.append((item, i))
    return out


def _order(fused: list[float | None], given: list[float], weight: float) -> list[int]:
    """The head's positions by ``weight * r + (1 - weight) * f`` (both min-max normalised;
    ties keep the store's order)."""
    count = len(given)
    if any(f is None for f in fused):
        fused = [float(count - i) for i in range(count)]  # no store scores: its order
    r = _unit(given)
    f = _unit([float(v) for v in fused if v is not None])
    mix = [weight * a + (1.0 - weight) * b for a, b in zip(r, f)]
    return sorted(range(count), key=lambda i: (-mix[i], i))


def _unit(values: list[float]) -> list[float]:
    low, high = min(values), max(values)
    if not math.isfinite(high - low):  # finite scores whose span overflows (+-1e308)
        values = [v / 4.0 for v in values]
        low, high = low / 4.0, high / 4.0
    span = high - low
    return [(v - low) / span if span > 0 else 0.0 for v in values]


def _scored(hit: SearchItem, score: float | None) -> SearchItem:
    return SearchItem(
        namespace=hit.namespace,
        key=hit.key,
        value=hit.value,
        created_at=hit.created_at,
        updated_at=hit.updated_at,
        score=score,
    )


def item_text(item: SearchItem, fields: _writes.IndexPaths) -> str:
    """The text the re-ranker reads for ``item``: its indexed texts (the store's fields), as
    the store embedded them, joined by a newline."""
    value = item.value
    if len(fields) == 1 and isinstance(value, dict):  # one plain field (a third of the cost)
        path, tokens = fields[0]
        if tokens == [path]:
            text = value.get(path)
            if isinstance(text, str):
                return text
    op = PutOp(tuple(item.namespace), item.key, value)
    return "\n".join(text for _, text in _writes.texts_of(op, fields))


# ------------------------------------------------------------------ messages


def _name(reranker: Any) -> str:
    return getattr(reranker, "__qualname__", None) or type(reranker).__qualname__


def _shown(value: Any, room: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= room else text[: room - 3] + "..."


def _error(reranker: Any, query: str, texts: list[str], bad: _Unusable) -> RerankerError:
    return RerankerError(
        f"re-ranker {_name(reranker)} returned {bad.problem}, for query {_shown(query)} and "
        f"{len(texts)} texts. Fix: {bad.fix}; or pass Ranking(rerank_fallback=True) to keep "
        "the store's own order when the re-ranker fails. Nothing stored was changed.",
        reranker=reranker,
        query=query,
    )


def _failure(reranker: Any, query: str, texts: list[str], exc: Exception) -> RerankerError:
    return RerankerError(
        f"re-ranker {_name(reranker)} raised {type(exc).__name__}: {exc} (query "
        f"{_shown(query)}, {len(texts)} texts). Fix: make rerank(query, texts) return one score "
        "per text (the cause is chained below); or pass Ranking(rerank_fallback=True) to keep "
        "the store's own order when the re-ranker fails. Nothing stored was changed.",
        reranker=reranker,
        query=query,
    )


# ------------------------------------------------------------------ drivers


def batch(
    ops: Iterable[Op],
    ranking: Ranking,
    inner: Inner,
    fields: _writes.IndexPaths | None,
) -> list[Result]:
    """Run :func:`batch_flow` with blocking calls."""
    return run_sync(batch_flow(list(ops), ranking, inner, fields))


async def abatch(
    ops: Iterable[Op],
    ranking: Ranking,
    inner: Inner,
    fields: _writes.IndexPaths | None,
) -> list[Result]:
    """Run :func:`batch_flow` with asyncio."""
    return await run_async(batch_flow(list(ops), ranking, inner, fields))
