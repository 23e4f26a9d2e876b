"""Retrieval quality of the embedded store: dense only, lexical only (BM25) and hybrid.

Builds the labelled set of bench/data/retrieval_set.py (memories about two dozen people: facts,
dialogue turns, names, numbers, dates, near-duplicates, with paraphrased questions), stores it in
a SqliteStore with local MiniLM embeddings, and reports recall@1/5/10 and MRR per part and
overall for the three rankings (lexical: the store's BM25 alone, ``Ranking(dense_weight=0)``),
with the hybrid/best-single ratio. Seed 3 (the test split) by default; ``--seed 1 --tune`` (or
2) sweeps the fusion weight on a development split.

    python bench/retrieval.py [--seed 3] [--tune]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings
from langgraph.store.base import PutOp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from data.retrieval_set import PARTS, Question, build

from langmem.embeddings import MiniLMEmbeddings
from langmem.stores import SqliteStore
from langmem.stores.ranking import Ranking

K = (1, 5, 10)


class CachedEmbeddings(Embeddings):
    """Embeds each distinct text once (the sweep asks the same queries many times)."""

    def __init__(self, inner: MiniLMEmbeddings) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.cache: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.embed_documents(missing)))
        return [self.cache[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def metrics(rankings: list[list[str]], questions: list[Question]) -> dict[str, float]:
    out = {f"R@{k}": 0.0 for k in K}
    out["MRR"] = 0.0
    for ranking, question in zip(rankings, questions):
        if question.answer in ranking:
            position = ranking.index(question.answer) + 1
            out["MRR"] += 1.0 / position
            for k in K:
                out[f"R@{k}"] += position <= k
    return {name: value / max(len(questions), 1) for name, value in out.items()}


def evaluate(
    seed: int, embeddings: CachedEmbeddings, folder: Path, ranking: Ranking | None = None
) -> dict[str, Any]:
    memories, questions = build(seed)
    index: Any = {"dims": 384, "embed": embeddings, "fields": ["text"]}
    path = folder / f"retrieval-{seed}.sqlite"
    hybrid = SqliteStore(path, index=index, ranking=ranking)
    if not hybrid.search(("bench",), limit=1):
        hybrid.batch([PutOp(("bench",), m.key, {"text": m.text}) for m in memories])
    dense = SqliteStore(path, index=index, hybrid=False)
    lexical = SqliteStore(path, index=index, ranking=Ranking(dense_weight=0.0))
    rankings: dict[str, list[list[str]]] = {"dense": [], "lexical": [], "hybrid": []}
    for question in questions:
        rankings["dense"].append([h.key for h in dense.search(("bench",), query=question.text)])
        rankings["lexical"].append([h.key for h in lexical.search(("bench",), query=question.text)])
        rankings["hybrid"].append([h.key for h in hybrid.search(("bench",), query=question.text)])
    report: dict[str, Any] = {"memories": len(memories), "questions": len(questions), "parts": {}}
    for part in (*PARTS, "overall"):
        chosen = [i for i, q in enumerate(questions) if part in ("overall", q.part)]
        subset = [questions[i] for i in chosen]
        report["parts"][part] = {
            mode: metrics([rankings[mode][i] for i in chosen], subset) for mode in rankings
        } | {"n": len(subset)}
    for store in (hybrid, dense, lexical):
        store.close()
    return report


def show(report: dict[str, Any], seed: int) -> bool:
    print(
        f"retrieval quality, seed {seed}: {report['memories']} memories, "
        f"{report['questions']} questions, {Ranking()}"
    )
    columns = ("R@1", "R@5", "R@10", "MRR")
    header = f"{'part':<16}{'n':>4}  {'mode':<8}" + "".join(f"{m:>8}" for m in columns)
    print(header)
    ok = True
    for part, row in report["parts"].items():
        for mode in ("dense", "lexical", "hybrid"):
            values = row[mode]
            first = mode == "dense"
            line = f"{part if first else '':<16}{row['n'] if first else '':>4}  {mode:<8}"
            print(line + "".join(f"{values[m]:>8.3f}" for m in columns))
        best = max(row["dense"]["R@10"], row["lexical"]["R@10"])
        ratio = row["hybrid"]["R@10"] / best if best else float("inf")
        strict = part == "overall"
        passed = (row["hybrid"]["R@10"] > best) if strict else (row["hybrid"]["R@10"] >= best)
        ok &= passed
        print(
            f"{'':<22}hybrid R@10 / best single = {ratio:.3f} "
            f"({'>' if strict else '>='} 1 required: {'ok' if passed else 'MISSED'})"
        )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--tune", action="store_true", help="sweep the lexical weight")
    args = parser.parse_args()
    embeddings = CachedEmbeddings(MiniLMEmbeddings())
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if args.tune:
            for weight in (0.7, 0.75, 0.8, 0.85, 0.9):
                ranking = Ranking(dense_weight=weight)
                report = evaluate(args.seed, embeddings, Path(tmp), ranking)
                parts = report["parts"]
                print(
                    f"dense weight {weight:.1f}: "
                    + "  ".join(f"{p}={parts[p]['hybrid']['R@10']:.3f}" for p in parts)
                    + f"  overall MRR={parts['overall']['hybrid']['MRR']:.3f}"
                )
            return
        ok = show(evaluate(args.seed, embeddings, Path(tmp)), args.seed)
    print(f"({time.perf_counter() - started:.1f} s)")
    print("target met" if ok else "target MISSED")


if __name__ == "__main__":
    main()
