"""Does our own trained MiniLM cross-encoder help as a re-ranker? (session 10)

The re-ranker is ``langmem.stores._minilm_rerank.MiniLMReranker`` (not a built-in): the shipped
MiniLM fine-tuned as a cross-encoder on public dialogue QA data none of our benchmarks use
(scripts/train_reranker.py, bench/rerank_data.py), its adapter file inside the package, run by
the numpy forward pass of ``langmem.embeddings._cross``. This bench scores it on the dev (and,
only if dev passes the rule, once on the test) splits of bench/conversations.py,
bench/realmem.py and bench/longmemeval.py, and on bench/retrieval.py's labelled set (dev seeds
1 and 2, test seed 3). LoCoMo is never run.

What it reads: the store's candidates of every question, captured once with the default
ranking (bench/model_signals.py's depth-150 captures for the three long-dialogue benchmarks,
bench/ranking_robust.py's for retrieval; both under ``$XDG_CACHE_HOME/langmem-bench``). The
default hybrid's best 30 texts of each question are scored by the re-ranker (cached per adapter
file digest: ``trained-rerank-SPLIT-BENCH-30-DIGEST.pickle``), then mixed exactly as
``Ranking(rerank=..., rerank_depth=N, rerank_weight=w)`` mixes them (bench/model_signals.py's
``reranked``: both sides min-max normalised over the best N, then ``w * r + (1 - w) * fused``;
the results past N keep their order).

Beside it, with the same choice of ``N`` and ``w``:

- ``cos``, the untrained control: the base MiniLM bi-encoder's cosine of the query and each
  text (the cosine the store already computed from the same MiniLM vectors) used as the
  re-ranker's score, so any gain over it is the training's;
- ``maxsim``, session 8's late interaction over the untrained token states (dev and test at
  N = 30 only, read from session 8's cache when it is there);
- the single rankers (dense alone, BM25 alone) and the default hybrid, per question type.

Adoption is decided by ``RULE`` (written and committed before any trained adapter was scored on
any of these benchmarks). Whatever the result, the re-ranker stays opt-in (its CPU per query is
hundreds of times the search's).

Commands (session 10; the lead re-runs them on a quiet machine, one BLAS thread each; RealMem
and LongMemEval need their data's git copies once, docs/bench-data.md):

    # dev: score each benchmark once (cached per adapter; one process each to use the cores;
    # about 20 min of CPU in all, RealMem the longest), then choose N and w for the trained
    # re-ranker and the control, with the two-fold check and the per-type tables
    for b in conversations realmem longmemeval retrieval; do
        python bench/trained_rerank.py --split dev --score-only $b & done; wait
    # (or split one benchmark over processes: --score-only realmem --part 0/2, --part 1/2)
    nice -n 5 python bench/trained_rerank.py --split dev --choose
    # cost at the chosen setting: CPU seconds per query, one thread, load average printed
    python bench/trained_rerank.py --split dev --cost --depth N --weight W
    # test split, once, at the setting chosen on dev (only if dev passed the rule)
    python bench/trained_rerank.py --split test --depth N --weight W

Every printout says which adapter file (path, SHA-256 prefix, the git commit that last changed
it) produced the numbers. Session 10 ran the dev commands above for the first quick adapter
(621fdef) and then for the trained one (c090c6a; chosen N 20, w 0.05, ``--cost --depth 20
--weight 0.05``); neither passed the dev rule, so the test split was not run
(docs/ranking.md, "Session 10: a trained re-ranker").
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import model_signals as ms
import ranking_robust as robust

from langmem.embeddings._blas import single_threaded_blas

RULE = (
    "Written at 18:41 UTC on 2026-12-01 and committed before any trained adapter was scored on "
    "any of our benchmarks (conversations, RealMem, LongMemEval, retrieval; LoCoMo is never "
    "run). Session 8's rule (bench/model_signals.py RULE) for a named built-in re-ranker, with "
    "the depth chosen too. Signal: MiniLMReranker's score (the trained cross-encoder with the "
    "adapter the package ships at the run's commit) of the default hybrid's best N texts, mixed "
    "as Ranking(rerank=..., rerank_depth=N, rerank_weight=w) mixes it (min-max over the head). "
    "Choice on dev: N in 10/20/30 and w in 0.05..1.00 (step 0.05) by one objective: the worst "
    "over the three long-dialogue benchmarks of the mean R@10 gain over the default, ties (3 "
    "decimals) broken by the mean of the three, then the smaller w, then the smaller N. "
    "Recommend the setting (in docs, as the built-in's documented setting) only if at the "
    "chosen (N, w): (1) the dev R@10 gain is at least 2 paired standard errors on all three; "
    "(2) the two-fold gain (N and w picked on one half of the namespaces, scored on the other) "
    "is positive on all three; (3) bench/retrieval.py's dev R@10 (seeds 1, 2) with the "
    "re-ranker is at least 0.96; then the test split, run once at that setting: (4) no loss "
    "beyond 2 paired standard errors on any benchmark's R@10 or MRR, (5) the mean of the three "
    "R@10 gains at least 0.01, (6) retrieval's test R@10 (seed 3) at least 0.96. The untrained "
    "control (cos: the base MiniLM's cosine as the re-ranker's score) goes through the same "
    "choice and is reported beside it. The adapter that decides is the newest one s10-train "
    "committed when the dev run starts; a dev run of an earlier adapter is reported with its "
    "commit and decides nothing once a newer one has been run; the test split is run at most "
    "once, for the deciding adapter, and only if it passed (1)-(3). Whatever the numbers, "
    "rerank='minilm' stays opt-in (its cost breaks the 1 ms search target)."
)
"""The adoption rule, fixed before any trained adapter was scored here (see the commit)."""

DEPTHS = (10, 20, 30)
HEAD = max(DEPTHS)
SIGNALS = ("cross", "cos", "maxsim")
"""The trained re-ranker, the untrained control, session 8's maxsim (reference)."""
BENCHES = (*ms.BENCHES, "retrieval")


# ---------------------------------------------------------------------------------------------
# The re-ranker and what it scores


def adapter() -> tuple[Path, str, str]:
    """The shipped adapter file, its SHA-256 prefix and the last commit that changed it."""
    from langmem.embeddings._cross import ADAPTER_PATH

    digest = hashlib.sha256(ADAPTER_PATH.read_bytes()).hexdigest()[:12]
    try:
        commit = subprocess.run(
            ["git", "log", "-1", "--format=%h %cI", "--", str(ADAPTER_PATH)],
            capture_output=True,
            text=True,
            check=False,
            cwd=ADAPTER_PATH.parent,
        ).stdout.strip()
    except OSError:
        commit = ""
    return ADAPTER_PATH, digest, commit or "(not committed)"


def calls_of(split: str, bench: str) -> list[dict[str, Any]]:
    """The captured questions: session 8's depth-150 captures, or retrieval's robust capture."""
    if bench == "retrieval":
        return robust.captured(split, "retrieval")["retrieval"]
    return ms.captured(split, bench)


def head_rows(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per question: the default's order (keys), its fused scores, the best ``HEAD`` texts, and
    the control's scores (their stored cosine with the query)."""
    rows = []
    for call in calls:
        order, fused = ms.default_order(call)
        top = order[:HEAD]
        rows.append(
            {
                "group": call["group"],
                "kind": call["kind"],
                "evidence": call["evidence"],
                "query": call["query"],
                "order": [call["keys"][i] for i in order],
                "fused": fused[:HEAD],
                "texts": [call["texts"][i] for i in top],
                "cos": np.asarray(call["cosines"][top], dtype=np.float64),
                "dense": robust.top(call, "dense"),
                "BM25": robust.top(call, "BM25"),
            }
        )
    return rows


def _score(rows: list[dict[str, Any]], bench: str, split: str) -> list[np.ndarray]:
    """MiniLMReranker's scores of each row's best ``HEAD`` texts (one encoder thread)."""
    from langmem.stores._minilm_rerank import MiniLMReranker

    reranker = MiniLMReranker()
    reranker._load().workers = 1  # one thread: the scores do not depend on it
    started, cpu = time.perf_counter(), time.process_time()
    scores = []
    with single_threaded_blas():
        for number, row in enumerate(rows):
            scores.append(np.asarray(reranker.rerank(row["query"], row["texts"])))
            if number % 100 == 99:
                print(f"  {bench} {split}: {number + 1}/{len(rows)} questions", flush=True)
    print(
        f"{bench} {split}: {len(rows)} questions scored in "
        f"{time.perf_counter() - started:.0f} s (CPU {time.process_time() - cpu:.0f} s, "
        f"load average {os.getloadavg()[0]:.2f})",
        flush=True,
    )
    return scores


def scored(
    split: str, bench: str, digest: str, part: tuple[int, int] | None = None
) -> list[dict[str, Any]]:
    """The bench's rows with the trained re-ranker's scores (``cross``) of the best ``HEAD``,
    computed once per adapter digest, and ``maxsim`` where session 8 cached it. ``part``
    ``(i, n)`` scores only every ``n``-th question from the ``i``-th and caches that part (the
    whole is then put together from the ``n`` parts, with no new scores)."""
    rows = head_rows(calls_of(split, bench))
    path = ms.cache_dir() / f"trained-rerank-{split}-{bench}-{HEAD}-{digest}.pickle"
    if part is not None:
        piece = path.with_name(f"{path.stem}-part{part[0]}of{part[1]}.pickle")
        if not path.exists() and not piece.exists():
            got = _score(rows[part[0] :: part[1]], f"{bench} (part {part[0]} of {part[1]})", split)
            with piece.open("wb") as f:
                pickle.dump(got, f)
        return rows
    if not path.exists():
        scores: list[Any] = [None] * len(rows)
        for n in range(2, 9):
            pieces = [path.with_name(f"{path.stem}-part{i}of{n}.pickle") for i in range(n)]
            if all(p.exists() for p in pieces):
                for i, piece in enumerate(pieces):
                    with piece.open("rb") as f:
                        scores[i::n] = pickle.load(f)
                break
        else:
            scores = _score(rows, bench, split)
        with path.open("wb") as f:
            pickle.dump(scores, f)
    with path.open("rb") as f:
        for row, given in zip(rows, pickle.load(f), strict=True):
            row["cross"] = given
    late = ms.cache_dir() / f"model-signals-{split}-{bench}-{HEAD}-tokens.pickle"
    if late.exists():
        with late.open("rb") as f:
            for row, old in zip(rows, pickle.load(f), strict=True):
                if old["order"][:HEAD] == row["order"][:HEAD]:
                    row["maxsim"] = old["maxsim"]
    return rows


# ---------------------------------------------------------------------------------------------
# The choice of (N, w) and the two-fold check


Subset = Callable[[dict[str, Any]], bool]


def choose(data: dict[str, list[dict[str, Any]]], signal: str, subset: Subset) -> tuple[int, float]:
    """``(N, w)`` by RULE's objective on ``subset``: bench/model_signals.py's ``choose`` per
    depth (worst benchmark's mean R@10 gain, then the mean, then the smaller w), then the
    depth by the same key (then the smaller N)."""
    best: tuple[float, float, float, int] | None = None
    for depth in DEPTHS:
        weight, gains = ms.choose(data, signal, depth, subset)
        key = (round(min(gains), 3), float(np.mean(gains)), -weight, -depth)
        if best is None or key > best:
            best = key
    assert best is not None
    return -best[3], -best[2]


def gain(
    rows: list[dict[str, Any]], signal: str, depth: int, weight: float, column: int = 2
) -> np.ndarray:
    """Per question: the variant's metric minus the default's (column 2: R@10, 3: MRR)."""
    variant = ms.table(rows, signal, weight, depth)[:, column]
    return variant - ms.table(rows, None, 0.0, depth)[:, column]


def two_fold(data: dict[str, list[dict[str, Any]]], signal: str) -> tuple[list[float], str]:
    """Out-of-fold R@10 gain per benchmark: (N, w) picked on one half of the namespaces (
    bench/model_signals.py's ``in_half``), scored on the other."""
    picked = [choose(data, signal, ms.in_half(half)) for half in (0, 1)]
    out = []
    for rows in data.values():
        diff: list[float] = []
        for half, (depth, weight) in zip((1, 0), picked, strict=True):
            diff += list(gain([r for r in rows if ms.in_half(half)(r)], signal, depth, weight))
        out.append(float(np.mean(diff)))
    shown = " / ".join(f"N {d} w {w:.2f}" for d, w in picked)
    return out, shown


# ---------------------------------------------------------------------------------------------
# Printouts


def singles(data: dict[str, list[dict[str, Any]]]) -> None:
    """R@1/5/10/MRR per question type of the single rankers and the default hybrid."""
    print("\n== Single rankers and the default hybrid (R@1 / R@5 / R@10 / MRR within the top 10)")
    print(f"{'bench':<14}{'type':<28}{'n':>5}  {'dense':<30}{'BM25':<30}{'default hybrid':<30}")
    for bench, rows in data.items():
        labels = [ms.kinds(r) for r in rows]
        every = sorted(set().union(*labels), key=lambda k: (k == "overall", k.islower(), k))
        for kind in every:
            chosen = [r for r, held in zip(rows, labels, strict=True) if kind in held]
            cells = []
            for name in ("dense", "BM25", None):
                got = [ms.metrics(r, r[name] if name else r["order"]) for r in chosen]
                cells.append(" / ".join(f"{np.mean([g[m] for g in got]):.3f}" for m in ms.METRICS))
            print(f"{bench:<14}{kind:<28}{len(chosen):>5}  " + "".join(f"{c:<30}" for c in cells))


def grid(data: dict[str, list[dict[str, Any]]], signal: str) -> None:
    """R@10 and MRR gains over the default per benchmark for each N and a few w (w 1: the
    re-ranker's order alone, the stage's default ``rerank_weight``)."""
    print(f"\n== {signal}: R@10 / MRR gain over the default per (N, w), conv. / RealMem / LME")
    for depth in DEPTHS:
        for weight in (0.1, 0.25, 0.5, 0.75, 1.0):
            cells = []
            for rows in data.values():
                r10, mrr = gain(rows, signal, depth, weight), gain(rows, signal, depth, weight, 3)
                cells.append(f"{r10.mean():+.3f} / {mrr.mean():+.3f}")
            print(f"  N {depth:>2} w {weight:.2f}: " + "   ".join(cells))


def verdict_dev(
    data: dict[str, list[dict[str, Any]]],
    signal: str,
    depth: int,
    weight: float,
    folds: list[float],
) -> bool:
    """RULE's dev conditions (1)-(3) for ``signal`` at ``(depth, weight)``, printed."""
    ok = True
    for (bench, rows), fold in zip(data.items(), folds, strict=True):
        d = gain(rows, signal, depth, weight)
        two_se = d.mean() >= 2 * ms.se(d) and d.mean() > 0
        ok &= two_se and fold > 0
        print(
            f"  {bench:<14} R@10 gain {d.mean():+.3f} (s.e. {ms.se(d):.3f}; "
            f"{d.mean() / ms.se(d) if ms.se(d) else float('inf'):.1f} s.e.): "
            f"{'ok' if two_se else 'FAILS'} >= 2 s.e.; two-fold {fold:+.3f}: "
            f"{'ok' if fold > 0 else 'FAILS'} > 0"
        )
    return ok


def retrieval_check(rows: list[dict[str, Any]], signal: str, depth: int, weight: float) -> bool:
    table = ms.table(rows, signal, weight, depth)
    base = ms.table(rows, None, 0.0, depth)
    r10 = float(table[:, 2].mean())
    print(
        f"  bench/retrieval.py R@10 with {signal} at N {depth} w {weight:.2f}: {r10:.3f} "
        f"(default {base[:, 2].mean():.3f}; MRR {table[:, 3].mean():.3f} against "
        f"{base[:, 3].mean():.3f}): {'ok' if r10 >= 0.96 else 'FAILS'} >= 0.96"
    )
    return r10 >= 0.96


def verdict_test(data: dict[str, list[dict[str, Any]]], depth: int, weight: float) -> bool:
    """RULE's test conditions (4)-(5), printed."""
    ok, gains = True, []
    for bench, rows in data.items():
        for column, name in ((2, "R@10"), (3, "MRR")):
            d = gain(rows, "cross", depth, weight, column)
            loses = d.mean() < -2 * ms.se(d)
            ok &= not loses
            print(
                f"  {bench:<14} {name} gain {d.mean():+.3f} (s.e. {ms.se(d):.3f}): "
                f"{'FAILS (loss beyond 2 s.e.)' if loses else 'ok'}"
            )
            if column == 2:
                gains.append(float(d.mean()))
    mean = float(np.mean(gains))
    print(f"  mean R@10 gain {mean:+.3f}: {'ok' if mean >= 0.01 else 'FAILS'} >= 0.01")
    return ok and mean >= 0.01


def cost(data: dict[str, list[dict[str, Any]]], depth: int, questions: int) -> None:
    """CPU seconds per query of MiniLMReranker at ``depth`` (one thread; its first-use load
    timed apart), with the load average."""
    from langmem.stores._minilm_rerank import MiniLMReranker

    reranker = MiniLMReranker()
    started = time.process_time()
    reranker._load().workers = 1  # CPU time of one thread (two workers: about the same CPU)
    reranker.rerank("warm up", ["load the weights"])
    loaded = time.process_time() - started
    print(
        f"\n== Cost of MiniLMReranker at depth {depth}: CPU seconds per query "
        f"(time.process_time, one encoder thread, one BLAS thread), {questions} questions per "
        f"benchmark; first use (loading the weights) {loaded:.2f} s CPU; load average "
        f"{os.getloadavg()[0]:.2f} (2 cores shared)"
    )
    with single_threaded_blas():
        for bench, rows in data.items():
            spent, sizes = [], []
            for row in rows[:questions]:
                texts = row["texts"][:depth]
                sizes.append(sum(len(t) for t in texts))
                t = time.process_time()
                reranker.rerank(row["query"], texts)
                spent.append(time.process_time() - t)
            print(
                f"  {bench:<14} {np.mean(spent):.3f} s per query (median {np.median(spent):.3f}, "
                f"max {np.max(spent):.3f}); {np.mean(sizes):.0f} characters in the best {depth}"
            )


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--choose", action="store_true", help="dev: pick N and w, check RULE")
    parser.add_argument("--depth", type=int, choices=DEPTHS, help="N: with --weight, report it")
    parser.add_argument("--weight", type=float, help="w: with --depth, report that setting")
    parser.add_argument("--cost", action="store_true", help="CPU per query at --depth")
    parser.add_argument("--questions", type=int, default=10, help="questions per bench (--cost)")
    parser.add_argument(
        "--score-only",
        choices=BENCHES,
        help="only score (and cache) this benchmark's split, then stop: run one process per "
        "benchmark to use several cores, then the report reads the caches",
    )
    parser.add_argument(
        "--part",
        help="with --score-only: I/N scores every N-th question from the I-th (0-based), so N "
        "processes share one benchmark; the report puts the N parts together",
    )
    args = parser.parse_args()
    if args.choose and args.split != "dev":
        parser.error("--choose picks N and w on dev only")
    if args.split == "test" and (args.depth is None or args.weight is None):
        parser.error("the test split is run once, at the setting chosen on dev: --depth, --weight")
    path, digest, commit = adapter()
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared by several jobs)")
    print(f"adapter {path} (sha256 {digest}, last committed {commit})")
    print(f"Decision rule: {RULE}\n")
    if args.score_only:
        part = tuple(int(x) for x in args.part.split("/")) if args.part else None
        scored(args.split, args.score_only, digest, part)  # type: ignore[arg-type]
        return
    everything = {b: scored(args.split, b, digest) for b in BENCHES}
    retrieval = everything.pop("retrieval")
    data = everything  # the three long-dialogue benchmarks of the objective
    singles(data | {"retrieval": retrieval})
    settings: list[tuple[str, int, float]] = []
    if args.choose:
        print("\n== (N, w) chosen on dev; two-fold: picked on one half, scored on the other")
        passed = {}
        for signal in ("cross", "cos"):
            depth, weight = choose(data, signal, lambda r: True)
            folds, shown = two_fold(data, signal)
            print(f"{signal}: N {depth}, w {weight:.2f} (two-fold picks {shown})")
            ok = verdict_dev(data, signal, depth, weight, folds)
            ok &= retrieval_check(retrieval, signal, depth, weight)
            passed[signal] = ok
            print(f"  -> {'PASSES' if ok else 'does not pass'} RULE's dev conditions (1)-(3)")
            settings.append((signal, depth, weight))
        grid(data, "cross")
        if all("maxsim" in r for rows in data.values() for r in rows):
            settings.append(("maxsim", 30, 0.45))  # session 8's chosen setting, for reference
    if args.depth is not None and args.weight is not None:
        settings = [("cross", args.depth, args.weight), ("cos", args.depth, args.weight)]
        if all("maxsim" in r for rows in data.values() for r in rows):
            settings.append(("maxsim", 30, 0.45))
    for signal, depth, weight in settings:
        ms.report(data, signal, weight, depth, f"{args.split} split, N {depth}")
        if signal != "maxsim":
            retrieval_check(retrieval, signal, depth, weight)
    if args.split == "test" and args.depth is not None and args.weight is not None:
        print(f"\n== RULE's test conditions at N {args.depth}, w {args.weight:.2f}")
        ok = verdict_test(data, args.depth, args.weight)
        ok &= retrieval_check(retrieval, "cross", args.depth, args.weight)
        print(f"  -> {'PASSES' if ok else 'does not pass'} RULE's test conditions (4)-(6)")
    if args.cost:
        cost(data | {"retrieval": retrieval}, args.depth or 20, args.questions)


if __name__ == "__main__":
    main()
