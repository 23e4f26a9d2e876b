"""Retrieval over long multi-session conversations: dense, lexical (BM25) and hybrid rankings.

Builds bench/data/conversations.py (24 users, 14 sessions each, about 700 turns per user),
stores every turn as a memory the way langmem writes them (``content``, ``thread_id``,
``created_at``/``updated_at`` in the value; namespace per user) in a SqliteStore with local
MiniLM embeddings, and asks each question within its user's namespace. Reports recall@1/5/10
(the share of a question's evidence turns in the top k) and MRR (first evidence turn) per
question type, for the single rankers beside the hybrid ones (the default and variants of it
with one part changed, and the default before session 5), with the paired standard error of
the default's R@10 against each, on the ``test`` users (``--split dev`` to look at the
development users; ``--tune`` sweeps the ranking parameters on dev).

Embeddings are cached outside the repository (``$XDG_CACHE_HOME/langmem-bench``, else
``~/.cache/langmem-bench``); delete the folder to recompute them.

    python bench/conversations.py [--split test] [--tune]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings
from langgraph.store.base import PutOp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from data.conversations import KINDS, Conversation, Question, build

from langmem.embeddings import MiniLMEmbeddings
from langmem.stores import SqliteStore

try:  # the ranking module (absent on code before it existed: then only dense and hybrid)
    from langmem.stores import ranking as rules
    from langmem.stores.ranking import Ranking
except ImportError:  # pragma: no cover - comparing with older code
    Ranking = None  # type: ignore[assignment,misc]

K = (1, 5, 10)


class CachedEmbeddings(Embeddings):
    """MiniLM vectors of the benchmark's texts, computed once and kept on disk (not in the repo)."""

    model_id = "bench-cached-minilm"

    def __init__(self, texts: list[str]) -> None:
        digest = hashlib.sha256("\n".join(sorted(set(texts))).encode()).hexdigest()[:16]
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        path = base / "langmem-bench" / f"conversations-{digest}.npz"
        unique = sorted(set(texts))
        if path.exists():
            matrix = np.load(path)["vectors"]
        else:
            started = time.perf_counter()
            matrix = np.asarray(MiniLMEmbeddings().embed_documents(unique), dtype=np.float32)
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, vectors=matrix)
            print(f"(embedded {len(unique)} texts in {time.perf_counter() - started:.0f} s)")
        self.vectors = dict(zip(unique, matrix))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.vectors[t].tolist() for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.vectors[text].tolist()  # type: ignore[no-any-return]


def load(conversations: list[Conversation], path: Path, embed: Embeddings) -> None:
    store = SqliteStore(path, index={"dims": 384, "embed": embed, "fields": ["content"]})
    for conversation in conversations:
        store.batch(
            [
                PutOp(
                    ("bench", conversation.user),
                    turn.key,
                    {
                        "content": turn.text,
                        "speaker": turn.speaker,
                        "thread_id": turn.thread,
                        "created_at": turn.time.isoformat(),
                        "updated_at": turn.time.isoformat(),
                    },
                )
                for turn in conversation.turns
            ]
        )
    store.close()


def metrics(rankings: list[list[str]], questions: list[Question]) -> dict[str, float]:
    out = dict.fromkeys([*(f"R@{k}" for k in K), "MRR"], 0.0)
    for ranking, question in zip(rankings, questions):
        positions = [ranking.index(e) + 1 for e in question.evidence if e in ranking]
        if positions:
            out["MRR"] += 1.0 / min(positions)
        for k in K:
            out[f"R@{k}"] += sum(p <= k for p in positions) / len(question.evidence)
    return {name: value / max(len(questions), 1) for name, value in out.items()}


def modes() -> dict[str, dict[str, Any]]:
    """Ranking name -> store settings."""
    chosen: dict[str, dict[str, Any]] = {"dense": {"hybrid": False}}
    if Ranking is not None:
        default = Ranking()
        replace = dataclasses.replace
        names = {f.name for f in dataclasses.fields(Ranking)}
        plain = {"thread_boost": 0.0, "recency_weight": 0.0}
        if "redundancy" in names:
            plain["redundancy"] = 0.0
        if "supersede" in names:
            plain["supersede"] = 0.0
        chosen["lexical"] = {"ranking": replace(default, dense_weight=0.0, **plain)}
        chosen["hybrid"] = {}
        if "supersede" in names:  # the default before session 5 (docs/ranking.md)
            old = replace(
                default,
                thread_boost=0.5,
                recency_weight=0.0,
                recency_half_life=30 * 86400.0,
                supersede=0.0,
            )
            chosen["old default"] = {"ranking": old}
            chosen["+ supersede"] = {"ranking": replace(default, supersede=0.3)}
            chosen["no recency"] = {"ranking": replace(default, recency_weight=0.0)}
        else:
            chosen["+ recency"] = {"ranking": replace(default, recency_weight=0.1)}
        chosen["minmax"] = {"ranking": replace(default, fusion="minmax")}
        chosen["rrf"] = {"ranking": replace(default, fusion="rrf", rrf_k=10.0, dense_weight=0.7)}
        chosen["no thread"] = {"ranking": replace(default, thread_boost=0.0)}
        if "redundancy" in names:  # near-copies marked down (off by default)
            chosen["+ redundancy"] = {"ranking": replace(default, redundancy=0.3)}
            if "redundancy_ramp" in names:
                ramp = replace(default, redundancy=0.3, redundancy_ramp=0.2)
                chosen["+ ramp 0.2"] = {"ranking": ramp}
        if "feedback_docs" in names:  # the second pass (pseudo-relevance feedback)
            chosen["+ feedback 5"] = {"ranking": replace(default, feedback_docs=5)}
        if "centering" in names:  # the query centred on the dense candidates (session 6)
            chosen["+ centering"] = {"ranking": replace(default, centering=0.1)}
            both = replace(default, centering=0.1, supersede=0.3)
            chosen["+ sup + cent"] = {"ranking": both}
        if "learned" in getattr(rules, "FUSIONS", ()):  # fitted weights (session 6)
            chosen["learned"] = {"ranking": replace(default, fusion="learned")}
        if "restate" in names:  # older tellings restated by newer ones (session 7)
            chosen["+ restate"] = {"ranking": replace(default, restate=0.2)}
            both = replace(default, restate=0.2, supersede=0.3)
            chosen["+ rest + sup"] = {"ranking": both}
            chosen["+ r + s + c"] = {"ranking": replace(both, centering=0.1)}
    else:
        chosen["hybrid"] = {}
    return chosen


def rank_all(
    store: SqliteStore, conversations: list[Conversation]
) -> tuple[list[Question], list[list[str]]]:
    questions: list[Question] = []
    rankings: list[list[str]] = []
    for conversation in conversations:
        for question in conversation.questions:
            hits = store.search(("bench", conversation.user), query=question.text, limit=10)
            questions.append(question)
            rankings.append([h.key for h in hits])
    return questions, rankings


def report(path: Path, embed: Embeddings, chosen: list[Conversation]) -> dict[str, Any]:
    index: Any = {"dims": 384, "embed": embed, "fields": ["content"]}
    table: dict[str, Any] = {}
    per_question: dict[str, list[float]] = {}
    for mode, settings in modes().items():
        store = SqliteStore(path, index=index, **settings)
        questions, rankings = rank_all(store, chosen)
        store.close()
        per_question[mode] = [metrics([r], [q])["R@10"] for r, q in zip(rankings, questions)]
        table[mode] = {
            kind: metrics(
                [r for r, q in zip(rankings, questions) if kind in ("overall", q.kind)],
                [q for q in questions if kind in ("overall", q.kind)],
            )
            for kind in (*KINDS, "overall")
        }
    table["n"] = {
        kind: sum(kind in ("overall", q.kind) for c in chosen for q in c.questions)
        for kind in (*KINDS, "overall")
    }
    table["paired"] = per_question
    return table


def paired(per_question: dict[str, list[float]], mode: str, other: str) -> str:
    """R@10 of ``mode`` minus ``other``, question by question: the mean and its standard error
    (a difference within about two standard errors is noise)."""
    gains = np.asarray(per_question[mode]) - np.asarray(per_question[other])
    error = float(gains.std(ddof=1) / np.sqrt(len(gains)))
    return f"{mode} - {other}: R@10 {gains.mean():+.3f} (paired standard error {error:.3f})"


def show(table: dict[str, Any], split: str, turns: int) -> bool:
    n = table.pop("n")
    per_question = table.pop("paired")
    print(f"conversations benchmark, {split} split: {turns} turns, {n['overall']} questions")
    columns = ("R@1", "R@5", "R@10", "MRR")
    print(f"{'type':<13}{'n':>4}  {'ranking':<13}" + "".join(f"{c:>8}" for c in columns))
    ok = True
    for kind in (*KINDS, "overall"):
        for number, (mode, rows) in enumerate(table.items()):
            label = f"{kind if number == 0 else '':<13}{n[kind] if number == 0 else '':>4}"
            print(f"{label}  {mode:<13}" + "".join(f"{rows[kind][c]:>8.3f}" for c in columns))
        singles = [table[m][kind]["R@10"] for m in ("dense", "lexical") if m in table]
        margin = table["hybrid"][kind]["R@10"] - max(singles)
        need = 0.08 if kind == "overall" else 0.05
        ok &= margin >= need
        print(
            f"{'':<19}hybrid R@10 - best single = {margin:+.3f} "
            f"(>= {need} wanted: {'ok' if margin >= need else 'MISSED'})"
        )
    for other in per_question:
        if other != "hybrid":
            print(paired(per_question, "hybrid", other))
    return ok


def _dev_scores(store: SqliteStore, dev: list[Conversation]) -> dict[str, float]:
    """R@10 per type and overall, and overall MRR, of the store's ranking on ``dev``."""
    questions, rankings = rank_all(store, dev)
    scores = {
        kind: metrics(
            [r for r, q in zip(rankings, questions) if kind in ("overall", q.kind)],
            [q for q in questions if kind in ("overall", q.kind)],
        )["R@10"]
        for kind in (*KINDS, "overall")
    }
    scores["MRR"] = metrics(rankings, questions)["MRR"]
    return scores


def _sweep(store: SqliteStore, dev: list[Conversation], label: str, options: list[Any]) -> Any:
    """Score each ranking on dev; the best by overall R@10, then MRR."""
    best: tuple[float, float, Any] | None = None
    print(f"-- {label}")
    for option in options:
        store.ranking = option
        scores = _dev_scores(store, dev)
        described = ", ".join(
            f"{f.name}={getattr(option, f.name)}"
            for f in dataclasses.fields(option)
            if getattr(option, f.name) != getattr(Ranking(), f.name)
        )
        print(f"{described or 'defaults'}: " + " ".join(f"{k}={v:.3f}" for k, v in scores.items()))
        key = (round(scores["overall"], 4), round(scores["MRR"], 4))
        if best is None or key > best[:2]:
            best = (*key, option)
    assert best is not None
    print(f"   best: {best[2]}")
    return best[2]


def tune(path: Path, embed: Embeddings, dev: list[Conversation]) -> None:
    """Choose the ranking on dev, one group of parameters at a time starting from the default:
    fusion and weight, BM25's k1 and b, candidate depth, the thread boost, recency,
    redundancy, then supersede; each stage keeps the best so far."""
    assert Ranking is not None
    index: Any = {"dims": 384, "embed": embed, "fields": ["content"]}
    store = SqliteStore(path, index=index)
    replace = dataclasses.replace
    best = Ranking()
    fusions = [
        replace(best, fusion=fusion, dense_weight=weight)
        for fusion in ("absolute", "minmax")
        for weight in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)
    ]
    fusions += [
        replace(best, fusion="rrf", dense_weight=weight, rrf_k=k)
        for k in (10.0, 60.0)
        for weight in (0.5, 0.7, 0.9)
    ]
    best = _sweep(store, dev, "fusion and weight", fusions)
    bm25 = [replace(best, k1=k1, b=b) for k1 in (0.9, 1.2, 1.6) for b in (0.5, 0.75, 0.9)]
    best = _sweep(store, dev, "BM25 k1 and b", bm25)
    best = _sweep(store, dev, "depth", [replace(best, depth=d) for d in (20, 50, 100)])
    threads = [replace(best, thread_boost=0.0)] + [
        replace(best, thread_boost=boost, thread_window=window)
        for boost in (0.2, 0.35, 0.5, 0.7)
        for window in (150.0, 300.0, 900.0)
    ]
    best = _sweep(store, dev, "thread boost", threads)
    recency = [replace(best, recency_weight=w) for w in (0.0, 0.05, 0.1, 0.2, 0.4)]
    best = _sweep(store, dev, "recency", recency)
    redundancy = [replace(best, redundancy=0.0)] + [
        replace(best, redundancy=share, redundancy_threshold=threshold, redundancy_ramp=ramp)
        for share in (0.3, 0.5, 0.8)
        for threshold in (0.7, 0.8, 0.9)
        for ramp in (0.0, 0.1, 0.2)
    ]
    best = _sweep(store, dev, "redundancy", redundancy)
    supersede = [replace(best, supersede=0.0)] + [
        replace(best, supersede=share, supersede_threshold=threshold)
        for share in (0.2, 0.3, 0.5)
        for threshold in (0.85, 0.9, 0.95)
    ]
    best = _sweep(store, dev, "supersede", supersede)
    print(f"best on dev: {best}")
    _against_default(store, dev, best)
    store.close()


def _against_default(store: SqliteStore, dev: list[Conversation], best: Any) -> None:
    """The best ranking's R@10 gain over the default on dev, with its paired standard error:
    a gain within about two standard errors is noise, not a reason to change the default."""
    per_question = {}
    for name, ranking in (("default", Ranking()), ("best", best)):
        store.ranking = ranking
        questions, rankings = rank_all(store, dev)
        per_question[name] = [metrics([r], [q])["R@10"] for r, q in zip(rankings, questions)]
    print(f"on dev, {paired(per_question, 'best', 'default')}, {len(questions)} questions")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--tune", action="store_true", help="sweep ranking parameters on dev")
    args = parser.parse_args()
    conversations = build()
    texts = [t.text for c in conversations for t in c.turns]
    texts += [q.text for c in conversations for q in c.questions]
    embed = CachedEmbeddings(texts)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "conversations.sqlite"
        load(conversations, path, embed)
        split = "dev" if args.tune else args.split
        chosen = [c for c in conversations if c.split == split]
        if args.tune:
            tune(path, embed, chosen)
            return
        ok = show(report(path, embed, chosen), split, sum(len(c.turns) for c in chosen))
    print(f"({time.perf_counter() - started:.1f} s)")
    print("targets met" if ok else "some target MISSED")


if __name__ == "__main__":
    main()
