"""Do signals from the MiniLM weights we already ship help as a re-ranking step? (session 8)

Reads what the store hands to the ranking rule for every question of a split of
bench/conversations.py, bench/realmem.py and bench/longmemeval.py (captured once with
``Ranking(depth=150)``, so the default hybrid's best 100 are known; the default's top 10 equals
the depth-50 store's: same R@10), in pickles outside the repository
(``$XDG_CACHE_HOME/langmem-bench/model-signals-SPLIT-BENCH-depth150.pickle``).

1. Diagnosis (``--diagnose``): how many evidence texts MiniLM truncates (it reads at most 256
   tokens, ``_minilm._MAX_TOKENS``), per benchmark and question type; and the default hybrid's
   R@10/20/30/50/100: the ceiling a re-ranker of the best N can reach.
2. Signals, each computed with MiniLM for the default's best ``--depth`` texts (30; cached
   outside the repository per family, ``model-signals-SPLIT-BENCH-DEPTH-FAMILY.pickle``;
   ``--families`` says which to compute or load):

   - ``cos``: the stored text's cosine again (a control: mixing it in only re-weights the dense
     side within the best N);
   - ``sent_max`` / ``sent_soft``: the text cut into sentences (long ones into 254-token
     windows), each embedded; the best sentence's cosine, or the softmax-pooled one (0.05);
   - ``maxsim`` / ``maxsim_idf``: late interaction over the last layer's token states (before
     pooling): each query token's best cosine with a text token, averaged over the query's
     tokens, uniformly or weighted by the token's IDF among the split's stored texts;
   - ``ctx``: the cosine of the query with the text read after the turn before it in its thread
     (session), and ``ctx_max``, the better of that and ``cos``.

   Each is mixed with the default's fused score, ``(1 - w) * fused + w * signal``, for the best N
   only (the rest keep their order). ``w`` is picked on dev (``--choose``) by the objective
   written below before any signal was computed; a two-fold (by user / person / question) check
   picks ``w`` on one half and scores the other.
3. The decision rule, fixed before the test split was looked at (see ``RULE``).
4. ``--split test --signal NAME --weight W`` runs the test split once for one variant and the
   default.

``--cost`` times each signal from scratch (no cache: tokenizing and encoding the query and the N
texts, as a re-ranker would at query time) on 10 questions per benchmark: CPU seconds of the
process (time.process_time) per query, one thread, with the load average printed.

Session 8 ran (docs/ranking.md, "Session 8"; the sentence and context families on dev only,
as neither passed the dev rule):

    python bench/model_signals.py --split dev --diagnose
    python bench/model_signals.py --split dev --families stored,tokens --choose --cost \
        --signal maxsim --weight 0.45
    python bench/model_signals.py --split test --signal maxsim --weight 0.45
    python bench/model_signals.py --split dev --families stored,tokens,sentences,context --choose
    python bench/model_signals.py --split dev --families sentences,context --cost \
        --signal ctx --weight 0.15
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import pickle
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import conversations as conv
import longmemeval as lme
import ranking_capture as capture
import ranking_robust as robust
import realmem
from ranking_fit import _candidates, _similarity

from langmem.embeddings import MiniLMEmbeddings
from langmem.embeddings._blas import single_threaded_blas
from langmem.embeddings._minilm import _MAX_TOKENS
from langmem.stores import ranking as rules

BENCHES = ("conversations", "realmem", "longmemeval")
SIGNALS = ("cos", "sent_max", "sent_soft", "maxsim", "maxsim_idf", "ctx", "ctx_max")
WEIGHTS = tuple(round(0.05 * i, 2) for i in range(1, 21))
CEILING = (10, 20, 30, 50, 100)
METRICS = ("R@1", "R@5", "R@10", "MRR")
RULE = (
    "Objective for w (dev): the worst over the three benchmarks of the mean R@10 gain over the "
    "default, ties (3 decimals) broken by the mean gain. Adopt a signal as a named built-in "
    "re-ranker only if, at its chosen w, it gains on dev R@10 by at least 2 paired standard "
    "errors on all three benchmarks, its two-fold (out-of-fold w) gain is positive on all three, "
    "and then on the test split it loses on no benchmark's R@10 or MRR beyond 2 paired standard "
    "errors and gains on R@10 overall (mean of the three) by at least 0.01. Only signals a "
    "re-ranker rerank(query, texts) can compute take part: maxsim_idf (IDF over every stored "
    "text of the split) and ctx/ctx_max (the turn before in the thread) need more than the "
    "texts handed to it, so they are reported as what such knowledge would add, not adopted; "
    "the test split is run for the best of the others (added at 14:35 UTC, after the first dev "
    "numbers of the conversations and before any of RealMem or LongMemEval). Signals are mixed "
    "as Ranking(rerank=..., rerank_weight=w) mixes them (MIX, min-max over the head; switched "
    "from raw scores at 14:37 UTC, also before RealMem's or LongMemEval's numbers)."
)
ADOPTABLE = ("sent_max", "sent_soft", "maxsim")
"""The decision rule, written before any signal was computed (and before test was looked at)."""
SOFT = 0.05  # softmax temperature of sent_soft
DEPTH_CAPTURE = 150


def cache_dir() -> Path:
    return capture.cache_path("dev").parent


def captured(split: str, bench: str) -> list[dict[str, Any]]:
    """The bench's questions of ``split`` as the store hands them to the rule (depth 150)."""
    path = cache_dir() / f"model-signals-{split}-{bench}-depth{DEPTH_CAPTURE}.pickle"
    if not path.exists():
        ranking = rules.Ranking(depth=DEPTH_CAPTURE)
        if bench == "longmemeval":
            calls = robust.capture_longmemeval(split, ranking)
        elif bench == "conversations":
            calls = capture.capture_conversations(split, ranking)
        else:
            calls = capture.capture_realmem(split, ranking)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            pickle.dump(calls, f)
    with path.open("rb") as f:
        return pickle.load(f)  # type: ignore[no-any-return]


def default_order(call: dict[str, Any]) -> tuple[list[int], np.ndarray]:
    """Candidate rows in the default rule's order, with their fused scores."""
    n, average, frequencies = call["corpus"]
    ranked = rules.ranked_items(
        _candidates(call),
        call["terms"],
        rules.Corpus(n, average, frequencies),
        rules.Ranking(),
        similarity=_similarity(call),
    )
    return [row for _, row in ranked], np.asarray([s for s, _ in ranked], dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# The bench data: evidence texts, every stored text of a split, each turn's thread neighbour


def stored(split: str, bench: str) -> tuple[dict[str, str], dict[str, str | None]]:
    """Every stored text of the split by key, and the text before each in its thread."""
    texts: dict[str, str] = {}
    before: dict[str, str | None] = {}
    if bench == "conversations":
        for c in conv.build():
            if c.split != split:
                continue
            last: dict[str, str] = {}
            for t in c.turns:
                texts[t.key] = t.text
                before[t.key] = last.get(t.thread)
                last[t.thread] = t.text
    elif bench == "realmem":
        people, _ = realmem.read(split)
        for p in people:
            prior: dict[str, str] = {}
            for key, _session, _date, thread, text in p["memories"]:
                texts[key] = text
                before[key] = prior.get(thread)
                prior[thread] = text
    else:
        sessions, questions = lme.read(split)
        for sid in {sid for q in questions for sid, _ in q.history}:
            previous = None
            for position, text in sorted(sessions[sid]):
                key = f"{sid}#{position}"
                texts[key] = text
                before[key] = previous
                previous = text
    return texts, before


def kinds(call: dict[str, Any]) -> set[str]:
    """The labels a question is reported under (RealMem's "category / scope": each part)."""
    return set(call["kind"].split(" / ")) | {"overall"}


# ---------------------------------------------------------------------------------------------
# MiniLM: token states, sentence vectors


class Model:
    """MiniLM's encoder, used for token states (before pooling) and pooled vectors."""

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        self.encoder = MiniLMEmbeddings()._load()
        whole = Tokenizer.from_str(self.encoder.tokenizer.to_str())
        whole.no_truncation()
        whole.no_padding()
        self.whole = whole

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids without truncation (with ``[CLS]`` and ``[SEP]``)."""
        return [e.ids for e in self.whole.encode_batch(list(texts))]

    def _batches(self, windows: list[list[int]], size: int = 32) -> list[list[int]]:
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        return [order[s : s + size] for s in range(0, len(order), size)]

    def token_states(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Each text's unit-length token states, ``[CLS]``/``[SEP]`` left out; a text longer than
        the model reads is encoded in consecutive windows of 254 tokens, their states joined."""
        windows: list[list[int]] = []
        owner: list[int] = []
        for number, ids in enumerate(self.ids(texts)):
            body = ids[1:-1] or ids[:1]
            for start in range(0, len(body), _MAX_TOKENS - 2):
                windows.append([ids[0], *body[start : start + _MAX_TOKENS - 2], ids[-1]])
                owner.append(number)
        states: list[np.ndarray | None] = [None] * len(windows)
        for batch in self._batches(windows):
            x, mask = self.encoder.states([windows[i] for i in batch])
            for row, i in enumerate(batch):
                n = int(mask[row].sum())
                states[i] = np.array(x[row, 1 : n - 1], dtype=np.float32)
        parts: list[list[np.ndarray]] = [[] for _ in texts]
        for i, state in zip(owner, states, strict=True):
            assert state is not None
            parts[i].append(state)
        out = []
        for chunks in parts:
            joined = np.concatenate(chunks) if chunks else np.zeros((1, 384), np.float32)
            norms = np.linalg.norm(joined, axis=1, keepdims=True)
            out.append(joined / np.maximum(norms, 1e-12))
        return out

    def pooled(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors as ``MiniLMEmbeddings`` gives them (truncated at 256 tokens)."""
        ids = self.encoder.tokenize([str(t) for t in texts])
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for batch in self._batches(ids):
            out[batch] = self.encoder.forward([ids[i] for i in batch])
        return out


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str, model: Model) -> list[str]:
    """A text cut into sentences; a sentence longer than the model reads, into token windows."""
    parts = [p.strip() for p in _SENTENCE.split(text) if p and p.strip()] or [text]
    out = []
    for part, ids in zip(parts, model.ids(parts), strict=True):
        if len(ids) <= _MAX_TOKENS:
            out.append(part)
            continue
        body = ids[1:-1]
        for start in range(0, len(body), _MAX_TOKENS - 2):
            out.append(model.whole.decode(body[start : start + _MAX_TOKENS - 2]))
    return out


def maxsim(query: np.ndarray, text: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Late interaction: each query token's best cosine with a text token, averaged (weighted)."""
    best = (query @ text.T).max(axis=1)
    if weights is None:
        return float(best.mean())
    return float((best * weights).sum() / weights.sum())


class MaxSimReranker:
    """``maxsim`` as a re-ranker for ``Ranking(rerank=...)``: ``rerank(query, texts)`` gives each
    text the mean over the query's tokens of their best cosine with one of its tokens. Kept in
    the bench, not the library: see the decision in docs/ranking.md, "Session 8"."""

    def __init__(self, model: Model | None = None) -> None:
        self.model = model or Model()

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        with single_threaded_blas():
            query_tokens, *held = self.model.token_states([query, *texts])
        return [maxsim(query_tokens, tokens) for tokens in held]


def soft_pool(cosines: np.ndarray) -> float:
    weights = np.exp((cosines - cosines.max()) / SOFT)
    return float((weights * cosines).sum() / weights.sum())


def token_idf(texts: Sequence[str], model: Model) -> Callable[[list[int]], np.ndarray]:
    """BM25's IDF of each token id among ``texts`` (a token no text holds: the highest)."""
    frequency: collections.Counter[int] = collections.Counter()
    for ids in model.ids(texts):
        frequency.update(set(ids[1:-1]))
    n = len(texts)

    def weights(ids: list[int]) -> np.ndarray:
        return np.asarray(
            [math.log(1 + (n - frequency[i] + 0.5) / (frequency[i] + 0.5)) for i in ids],
            dtype=np.float64,
        )

    return weights


# ---------------------------------------------------------------------------------------------
# Signals for the default's best N


FAMILIES = {
    "cos": "stored",
    "sent_max": "sentences",
    "sent_soft": "sentences",
    "maxsim": "tokens",
    "maxsim_idf": "tokens",
    "ctx": "context",
    "ctx_max": "context",
}
"""What each signal needs encoded (the test split computes only the chosen signal's)."""


def compute(
    calls: list[dict[str, Any]],
    depth: int,
    split: str,
    bench: str,
    model: Model,
    families: frozenset[str] = frozenset(FAMILIES.values()),
) -> list[dict[str, Any]]:
    """Per question: the default's order (keys), its fused scores, and each signal of
    ``families`` for the best ``depth`` texts. Texts are encoded once per namespace (user,
    person or question)."""
    texts, before = stored(split, bench)
    idf = token_idf(sorted(set(texts.values())), model)
    out = []
    group = None
    states: dict[str, np.ndarray] = {}
    sentence_vectors: dict[str, np.ndarray] = {}
    context: dict[str, np.ndarray] = {}
    for number, call in enumerate(calls):
        if call["group"] != group:
            group, states, sentence_vectors, context = call["group"], {}, {}, {}
        order, fused = default_order(call)
        top = order[:depth]
        keys = [call["keys"][i] for i in top]
        chosen = [call["texts"][i] for i in top]
        new = sorted({t for t in chosen if t not in sentence_vectors})
        if new and "tokens" in families:
            states.update(zip(new, model.token_states(new), strict=True))
        if new and "sentences" in families:
            # a text of one sentence the model reads whole is its own stored vector
            stored_vector = {call["texts"][i]: call["vectors"][i] for i in top}
            cut = [sentences(t, model) for t in new]
            many = [(t, parts) for t, parts in zip(new, cut, strict=True) if len(parts) > 1]
            flat = [s for _, parts in many for s in parts]
            vectors = model.pooled(flat) if flat else np.zeros((0, 384), np.float32)
            at = 0
            for t, parts in many:
                sentence_vectors[t] = vectors[at : at + len(parts)]
                at += len(parts)
            for t, parts in zip(new, cut, strict=True):
                if len(parts) == 1:
                    sentence_vectors[t] = stored_vector[t][None, :].astype(np.float32)
        elif new:
            sentence_vectors.update((t, np.zeros((1, 384), np.float32)) for t in new)
        framed = {
            k: f"{before[k]}\n{t}"
            for k, t in zip(keys, chosen, strict=True)
            if before.get(k) and k not in context and "context" in families
        }
        if framed:
            context.update(zip(framed, model.pooled(list(framed.values())), strict=True))
        vector = call["vector"].astype(np.float32)
        cos = call["cosines"][top]
        row: dict[str, Any] = {
            "group": call["group"],
            "kind": call["kind"],
            "evidence": call["evidence"],
            "order": [call["keys"][i] for i in order],
            "fused": fused[:depth],
            "cos": cos,
        }
        if "tokens" in families:
            q_weights = idf(model.ids([call["query"]])[0][1:-1])
            q_states = model.token_states([call["query"]])[0]
            row["maxsim"] = np.asarray([maxsim(q_states, states[t]) for t in chosen])
            row["maxsim_idf"] = np.asarray([maxsim(q_states, states[t], q_weights) for t in chosen])
        if "sentences" in families:
            sent = [sentence_vectors[t] @ vector for t in chosen]
            row["sent_max"] = np.asarray([s.max() for s in sent])
            row["sent_soft"] = np.asarray([soft_pool(s) for s in sent])
        if "context" in families:
            ctx = [float(context[k] @ vector) if k in context else c for k, c in zip(keys, cos)]
            row["ctx"] = np.asarray(ctx)
            row["ctx_max"] = np.maximum(row["ctx"], cos)
        out.append(row)
        if number % 100 == 99:
            print(f"  {bench}: {number + 1} questions", flush=True)
    return out


def signals(
    split: str, bench: str, depth: int, model: Model | None, families: Sequence[str]
) -> list[dict[str, Any]]:
    """The signals of ``families`` for a split, each family computed and cached on its own."""
    merged: list[dict[str, Any]] = []
    for family in families:
        path = cache_dir() / f"model-signals-{split}-{bench}-{depth}-{family}.pickle"
        if not path.exists():
            started, cpu = time.perf_counter(), time.process_time()
            model = model or Model()
            rows = compute(captured(split, bench), depth, split, bench, model, frozenset({family}))
            with path.open("wb") as f:
                pickle.dump(rows, f)
            print(
                f"{bench} {split} {family}: {len(rows)} questions in "
                f"{time.perf_counter() - started:.0f} s (CPU {time.process_time() - cpu:.0f} s)",
                flush=True,
            )
        with path.open("rb") as f:
            rows = pickle.load(f)
        if not merged:
            merged = rows
        else:
            for into, row in zip(merged, rows, strict=True):
                into.update(row)
    return merged


# ---------------------------------------------------------------------------------------------
# Re-ranking and scoring


MIX = "unit"
"""How a signal is mixed with the fused score: ``"unit"``, as ``Ranking(rerank=...)`` does
(``stores/_rerank.py``: both min-max normalised over the re-ranked head, then
``w * signal + (1 - w) * fused``), or ``"raw"``, the raw scores mixed (``--mix raw``)."""


def _unit(values: np.ndarray) -> np.ndarray:
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def reranked(row: dict[str, Any], signal: str | None, weight: float, depth: int) -> list[str]:
    """The question's keys after mixing ``signal`` into the best ``depth`` (None: the default)."""
    if signal is None or weight == 0.0:
        return row["order"]
    n = min(depth, len(row["fused"]))
    fused, given = row["fused"][:n], row[signal][:n]
    if MIX == "unit":
        fused, given = _unit(fused), _unit(given)
    mixed = (1.0 - weight) * fused + weight * given
    head = np.argsort(-mixed, kind="stable")
    return [row["order"][i] for i in head] + row["order"][n:]


def metrics(row: dict[str, Any], keys: list[str]) -> dict[str, float]:
    positions = {k: p for p, k in enumerate(keys[:10], 1)}
    hits = [positions[e] for e in row["evidence"] if e in positions]
    out = {f"R@{k}": sum(p <= k for p in hits) / len(row["evidence"]) for k in (1, 5, 10)}
    out["MRR"] = 1.0 / min(hits) if hits else 0.0  # within the top 10, as the benches count
    return out


def table(rows: list[dict[str, Any]], signal: str | None, weight: float, depth: int) -> np.ndarray:
    """(questions x 4) R@1, R@5, R@10, MRR."""
    return np.asarray(
        [[metrics(r, reranked(r, signal, weight, depth))[m] for m in METRICS] for r in rows]
    )


def se(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def choose(
    data: dict[str, list[dict[str, Any]]], signal: str, depth: int, subset: Callable[[Any], bool]
) -> tuple[float, list[float]]:
    """The weight of the objective (worst bench's mean R@10 gain, then the mean) on ``subset``."""
    base = {
        b: table([r for r in rows if subset(r)], None, 0, depth)[:, 2] for b, rows in data.items()
    }
    best: tuple[float, float, float] | None = None
    gains: list[float] = []
    for w in WEIGHTS:
        got = [
            float((table([r for r in rows if subset(r)], signal, w, depth)[:, 2] - base[b]).mean())
            for b, rows in data.items()
        ]
        key = (round(min(got), 3), float(np.mean(got)), -w)
        if best is None or key > best:
            best, gains = key, got
    assert best is not None
    return -best[2], gains


def in_half(half: int) -> Callable[[dict[str, Any]], bool]:
    """Two folds by namespace (user, person, question): a stable hash of the group's name."""
    return lambda row: (sum(map(ord, str(row["group"]))) % 2) == half


def diagnose(split: str, model: Model) -> None:
    print(
        f"\n== Diagnosis ({split}): evidence texts longer than MiniLM reads ({_MAX_TOKENS} tokens)"
    )
    print(
        f"{'bench':<14}{'type':<28}{'evidence':>9}{'median':>7}{'p90':>6}{'max':>6}{'>256':>7}{'>128':>7}"
    )
    for bench in BENCHES:
        texts, _ = stored(split, bench)
        lengths: dict[str, list[int]] = collections.defaultdict(list)
        calls = captured(split, bench)
        every = [e for c in calls for e in c["evidence"]]
        counted = dict(zip(every, map(len, model.ids([texts[e] for e in every])), strict=True))
        for call in calls:
            for e in call["evidence"]:
                for kind in kinds(call):
                    lengths[kind].append(counted[e])
        for kind in sorted(lengths, key=lambda k: (k == "overall", k.islower(), k)):
            v = np.asarray(lengths[kind])
            print(
                f"{bench:<14}{kind:<28}{len(v):>9}{np.median(v):>7.0f}{np.percentile(v, 90):>6.0f}"
                f"{v.max():>6}{np.mean(v > 256):>7.3f}{np.mean(v > 128):>7.3f}"
            )
        v = np.asarray([len(i) for i in model.ids(list(texts.values()))])
        print(
            f"{bench:<14}{'(every stored text)':<28}{len(v):>9}{np.median(v):>7.0f}"
            f"{np.percentile(v, 90):>6.0f}{v.max():>6}{np.mean(v > 256):>7.3f}"
            f"{np.mean(v > 128):>7.3f}"
        )
    print(f"\n== Ceiling ({split}): the default hybrid's R@N (share of evidence in its best N)")
    for bench in BENCHES:
        calls = captured(split, bench)
        found: dict[str, list[list[float]]] = collections.defaultdict(list)
        for call in calls:
            order = [call["keys"][i] for i in default_order(call)[0]]
            got = [
                sum(e in order[:n] for e in call["evidence"]) / len(call["evidence"])
                for n in CEILING
            ]
            for kind in kinds(call):
                found[kind].append(got)
        sizes = [len(c["keys"]) for c in calls]
        print(f"{bench}: {len(calls)} questions, median {np.median(sizes):.0f} candidates")
        print(f"  {'type':<28}{'n':>5}" + "".join(f"{'R@' + str(n):>8}" for n in CEILING))
        for kind in sorted(found, key=lambda k: (k == "overall", k.islower(), k)):
            v = np.asarray(found[kind]).mean(axis=0)
            print(f"  {kind:<28}{len(found[kind]):>5}" + "".join(f"{x:>8.3f}" for x in v))


def report(
    data: dict[str, list[dict[str, Any]]], signal: str, weight: float, depth: int, title: str
) -> dict[str, tuple[float, float, float, float]]:
    """Per benchmark and type: the default and the variant side by side, with paired differences
    (mean and standard error). Returns each benchmark's overall R@10 and MRR gains with s.e."""
    print(f"\n== {title}: {signal} at w {weight:.2f}, re-ranking the default's best {depth}")
    print(
        f"{'bench':<14}{'type':<28}{'n':>5}  {'default R@1/5/10/MRR':<30}{'ours R@1/5/10/MRR':<30}"
        f"{'R@10 gain (s.e.)':<19}{'MRR gain (s.e.)':<19}{'R@10 ratio':>10}"
    )
    overall = {}
    for bench, rows in data.items():
        base, ours = table(rows, None, 0, depth), table(rows, signal, weight, depth)
        labels = [kinds(r) for r in rows]
        every = sorted(set().union(*labels), key=lambda k: (k == "overall", k.islower(), k))
        for kind in every:
            pick = np.asarray([kind in held for held in labels])
            b, o = base[pick], ours[pick]
            d10, dm = o[:, 2] - b[:, 2], o[:, 3] - b[:, 3]
            ratio = o[:, 2].mean() / b[:, 2].mean() if b[:, 2].mean() else float("nan")
            print(
                f"{bench:<14}{kind:<28}{pick.sum():>5}  "
                + f"{' / '.join(f'{x:.3f}' for x in b.mean(axis=0)):<30}"
                + f"{' / '.join(f'{x:.3f}' for x in o.mean(axis=0)):<30}"
                + f"{f'{d10.mean():+.3f} ({se(d10):.3f})':<19}"
                + f"{f'{dm.mean():+.3f} ({se(dm):.3f})':<19}"
                + f"{ratio:>10.3f}"
            )
            if kind == "overall":
                overall[bench] = (float(d10.mean()), se(d10), float(dm.mean()), se(dm))
    return overall


def cost(
    split: str, depth: int, model: Model, families: Sequence[str], questions: int = 10
) -> None:
    """CPU seconds per query of each signal from scratch (nothing cached), one thread."""
    print(
        f"\n== Cost per query, from scratch (query + the best {depth} texts encoded), one thread; "
        f"load average {os.getloadavg()[0]:.2f} (2 cores shared)"
    )
    for bench in BENCHES:
        calls = captured(split, bench)[:questions]
        _, before = stored(split, bench)
        spent: dict[str, list[float]] = collections.defaultdict(list)
        tokens = []
        with single_threaded_blas():
            for call in calls:
                top = default_order(call)[0][:depth]
                chosen = [call["texts"][i] for i in top]
                keys = [call["keys"][i] for i in top]
                tokens.append(sum(map(len, model.ids(chosen))))
                if "tokens" in families:
                    t = time.process_time()
                    MaxSimReranker(model).rerank(call["query"], chosen)
                    spent["maxsim (MaxSimReranker)"].append(time.process_time() - t)
                if "sentences" not in families:
                    continue
                t = time.process_time()
                vector = model.pooled([call["query"]])[0]
                cut = [sentences(x, model) for x in chosen]
                # one-sentence texts are their stored vectors: only the others are encoded
                flat = model.pooled([s for parts in cut if len(parts) > 1 for s in parts] or [""])
                float((flat @ vector).max())
                spent["sent_max (sentences)"].append(time.process_time() - t)
                if "context" not in families:
                    continue
                t = time.process_time()
                framed = [f"{before.get(k) or ''}\n{x}" for k, x in zip(keys, chosen, strict=True)]
                float((model.pooled(framed) @ vector).max())
                spent["ctx (previous turn + text)"].append(time.process_time() - t)
        print(
            f"{bench}: {len(calls)} queries, {np.mean(tokens):.0f} tokens in the best {depth} "
            "on average: "
            + "; ".join(f"{name} {1000 * np.mean(v):.0f} ms" for name, v in spent.items())
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument(
        "--depth", type=int, default=30, help="texts re-ranked (the default's best N)"
    )
    parser.add_argument("--diagnose", action="store_true")
    parser.add_argument("--choose", action="store_true", help="pick w per signal on dev, report")
    parser.add_argument("--cost", action="store_true")
    parser.add_argument("--signal", choices=SIGNALS, help="with --weight: report this variant")
    parser.add_argument("--weight", type=float)
    parser.add_argument("--mix", choices=("unit", "raw"), default="unit", help="see MIX")
    parser.add_argument(
        "--families",
        default="stored,tokens,sentences,context",
        help="signal families to compute or load (comma-separated; see FAMILIES)",
    )
    args = parser.parse_args()
    global MIX
    MIX = args.mix
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared by several jobs)")
    print(f"Decision rule: {RULE}")
    model = Model()
    if args.diagnose:
        diagnose(args.split, model)
    if args.split == "test" and args.signal is not None:
        families = [FAMILIES[args.signal]]  # the test split: only the chosen signal's
    else:
        families = args.families.split(",")
    data = {b: signals(args.split, b, args.depth, model, families) for b in BENCHES}
    present = [s for s in SIGNALS if all(s in rows[0] for rows in data.values())]
    if args.choose:
        if args.split != "dev":
            parser.error("--choose picks weights on dev only")
        print(f"\n== Weights chosen on dev (best {args.depth}); two-fold: w picked on one half")
        print(
            f"{'signal':<12}{'w':>6}"
            + "".join(f"{b[:13]:>24}" for b in BENCHES)
            + "   two-fold R@10 gain"
        )
        for signal in present:
            weight, gains = choose(data, signal, args.depth, lambda r: True)
            folds = []
            for half in (0, 1):
                w, _ = choose(data, signal, args.depth, in_half(half))
                folds.append(w)
            oof = []
            for rows in data.values():
                diff = []
                for half, w in zip((1, 0), folds, strict=True):
                    part = [r for r in rows if in_half(half)(r)]
                    diff += list(
                        table(part, signal, w, args.depth)[:, 2]
                        - table(part, None, 0, args.depth)[:, 2]
                    )
                oof.append(np.asarray(diff))
            errors = [
                se(
                    table(rows, signal, weight, args.depth)[:, 2]
                    - table(rows, None, 0, args.depth)[:, 2]
                )
                for rows in data.values()
            ]
            print(
                f"{signal:<12}{weight:>6.2f}"
                + "".join(
                    f"{f'{g:+.3f} ({e:.3f})':>24}" for g, e in zip(gains, errors, strict=True)
                )
                + "   "
                + " / ".join(f"{d.mean():+.3f}" for d in oof)
                + f"  (w {folds[0]:.2f} / {folds[1]:.2f})"
            )
    if args.signal is not None:
        if args.weight is None:
            parser.error("--signal needs --weight")
        report(data, args.signal, args.weight, args.depth, f"{args.split} split")
    if args.cost:
        cost(args.split, args.depth, model, families)


if __name__ == "__main__":
    main()
