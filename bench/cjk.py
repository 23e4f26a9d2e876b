"""Retrieval of Chinese text: CMRC 2018's questions against its passages' sentences.

Public data we did not write: CMRC 2018 (https://github.com/ymcui/cmrc2018, CC BY-SA 4.0),
Chinese Wikipedia passages with questions whose answers are spans of them, read from a git copy
of that repository once (``--source GIT_DIR``, or ``$LANGMEM_CMRC2018``) and cached as the
other data sets (nothing of it is kept here: bench/data/cmrc2018.py, bench/data/sources.py).
Every sentence of the chosen passages is stored as a memory (``content``) in one namespace of
a SqliteStore with the local MiniLM embeddings; each question is searched as it was written,
and the relevant memory is the sentence its answer starts in.
Reported: recall@1/5/10 and MRR of the dense ranking, the lexical one alone (BM25,
``dense_weight=0``) and the default hybrid, with paired standard errors.

Passages are split in two by their order in the file: even positions ``dev``, odd ``test``.

``--baseline REF`` also runs this benchmark on the langmem of git revision ``REF`` (its
``src/`` in a temporary folder, in a subprocess, same data and vectors) and prints both, with
each ranking's paired difference (after - before).

    python bench/cjk.py [--source GIT_DIR] [--split test|dev|all] [--baseline REF]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from langgraph.store.base import PutOp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conversations import CachedEmbeddings
from data import cmrc2018

from langmem.stores import SqliteStore
from langmem.stores.ranking import Ranking

NAMESPACE = ("cmrc",)
K = (1, 5, 10)
MODES = ("dense", "lexical", "hybrid")


@dataclass(frozen=True)
class Question:
    text: str
    relevant: str


def read(split: str, source: Path | None) -> tuple[dict[str, str], list[Question]]:
    """The memories (key -> sentence) and questions of ``split``."""
    data = cmrc2018.read(source)
    chosen = {
        number
        for number in range(len(data["articles"]))
        if split == "all" or split == ("dev" if number % 2 == 0 else "test")
    }
    memories = {
        f"{number:04d}-{at:03d}": sentence
        for number in sorted(chosen)
        for at, sentence in enumerate(data["articles"][number][2])
    }
    questions = [
        Question(text, f"{number:04d}-{at:03d}")
        for text, number, at in data["questions"]
        if number in chosen
    ]
    return memories, questions


def every_text(source: Path | None) -> list[str]:
    memories, questions = read("all", source)
    return [*memories.values(), *(q.text for q in questions)]


def settings() -> dict[str, dict[str, Any]]:
    plain = replace(Ranking(), thread_boost=0.0, recency_weight=0.0)
    return {
        "dense": {"hybrid": False},
        "lexical": {"ranking": replace(plain, dense_weight=0.0)},
        "hybrid": {},
    }


def scores(split: str, source: Path | None) -> dict[str, dict[str, list[float]]]:
    """Ranking -> metric -> per-question values."""
    memories, questions = read(split, source)
    embed = CachedEmbeddings(every_text(source))
    index: Any = {"dims": 384, "embed": embed, "fields": ["content"]}
    out: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cjk.sqlite"
        store = SqliteStore(str(path), index=index)
        store.batch([PutOp(NAMESPACE, key, {"content": text}) for key, text in memories.items()])
        store.close()
        for mode, options in settings().items():
            store = SqliteStore(str(path), index=index, **options)
            per: dict[str, list[float]] = {f"R@{k}": [] for k in K}
            per["MRR"] = []
            for q in questions:
                keys = [hit.key for hit in store.search(NAMESPACE, query=q.text, limit=10)]
                place = keys.index(q.relevant) + 1 if q.relevant in keys else None
                for k in K:
                    per[f"R@{k}"].append(float(place is not None and place <= k))
                per["MRR"].append(1.0 / place if place else 0.0)
            store.close()
            out[mode] = per
    return out


def _error(values: np.ndarray[Any, Any]) -> float:
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def show(label: str, table: dict[str, dict[str, list[float]]]) -> None:
    columns = (*(f"R@{k}" for k in K), "MRR")
    print(f"{label}")
    print(f"  {'ranking':<10}" + "".join(f"{c:>8}" for c in columns))
    for mode, per in table.items():
        print(f"  {mode:<10}" + "".join(f"{np.mean(per[c]):>8.3f}" for c in columns))
    for other in ("dense", "lexical"):
        for metric in ("R@10", "MRR"):
            gains = np.asarray(table["hybrid"][metric]) - np.asarray(table[other][metric])
            print(
                f"  hybrid - {other}: {metric} {gains.mean():+.3f}"
                f" (paired standard error {_error(gains):.3f})"
            )


def baseline(ref: str, split: str, source: Path | None) -> dict[str, dict[str, list[float]]]:
    """:func:`scores` on the langmem of git revision ``ref`` (run in a subprocess)."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", ref, "src"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        out = Path(tmp) / "scores.json"
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src")}
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--split",
                split,
                *(["--source", str(source)] if source is not None else []),
                "--json",
                str(out),
            ],
            check=True,
            env=env,
        )
        found: dict[str, dict[str, list[float]]] = json.loads(out.read_text())
        return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="test")
    parser.add_argument("--baseline", metavar="REF", help="also run git revision REF's langmem")
    parser.add_argument(
        "--source",
        type=Path,
        help=cmrc2018.SOURCE.help() + " (read once, then cached)",
    )
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    started = time.perf_counter()
    memories, questions = read(args.split, args.source)
    if args.json is not None:  # the baseline's subprocess
        args.json.write_text(json.dumps(scores(args.split, args.source)))
        return
    import langmem

    print(
        f"CMRC 2018 (Chinese), {args.split} split: {len(memories)} sentences,"
        f" {len(questions)} questions; langmem from {Path(langmem.__file__).parent}"
    )
    after = scores(args.split, args.source)
    if args.baseline:
        before = baseline(args.baseline, args.split, args.source)
        show(f"before ({args.baseline}):", before)
        show("after (this checkout):", after)
        print("after - before, question by question:")
        for mode in MODES:
            for metric in ("R@1", "R@10", "MRR"):
                gains = np.asarray(after[mode][metric]) - np.asarray(before[mode][metric])
                print(
                    f"  {mode:<8} {metric:<5} {gains.mean():+.3f}"
                    f" (paired standard error {_error(gains):.3f})"
                )
    else:
        show("this checkout:", after)
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
