"""Session 7's screening of new ranking signals on captured candidates (dev splits only).

Reads what the store handed to the ranking rule per question (``python bench/ranking_capture.py
--split dev`` first) and, for the rules that look beyond the candidates, every text of each
question's namespace (bench/conversations.py's users, RealMem's people with the question's
``session`` filter, bench/retrieval.py's seeds; retrieval's MiniLM vectors are cached under
``$XDG_CACHE_HOME/langmem-bench``). Prints R@10 per benchmark with the paired standard error of
the gain over the default, and the conversations' R@10 per type, for:

1. ``restate``: the shipped rule (:mod:`langmem.stores._restated`) over a grid of shares and
   thresholds, alone and on top of supersede, and variants of its word condition (supersede's
   own condition, the query's rarest matched word shared, the same matched words, pairs of one
   thread excluded).
2. An entity second hop: the best BM25 holders of the query's rarest matched word ("bridges")
   give their words at least as rare (names); the namespace's texts holding those words join
   the candidates with a share of the bridge's score (or a chain score), optionally lifting
   the bridge itself.
3. Query-adaptive fusion weights: from the share of the query's IDF mass some candidate holds,
   or from how flat the dense top 10 is.

    python bench/ranking_session7.py [--only restate|hop|adaptive]
    python bench/ranking_session7.py --retrieval-seed 3   # the options on bench/retrieval.py
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import conversations as conv
import realmem
from ranking_capture import cache_path

from langmem.stores import ranking as rules
from langmem.stores._similarity import alike, unit_cosines

Group = dict[str, Any]


def _group(keys: list[str], texts: list[str], vectors: Any, threads: Any, times: Any) -> Group:
    docs = [rules.document(t) for t in texts]
    rows: dict[str, list[int]] = {}
    for i, doc in enumerate(docs):
        for term in doc.terms:
            rows.setdefault(term, []).append(i)
    matrix = np.asarray(vectors, dtype=np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return {
        "keys": keys,
        "index": {k: i for i, k in enumerate(keys)},
        "docs": docs,
        "rows": rows,
        "vectors": matrix,
        "threads": threads,
        "times": times,
    }


def _frequencies(texts: list[str]) -> dict[str, int]:
    df: dict[str, int] = {}
    for text in texts:
        for term in set(rules.analyze(text)):
            df[term] = df.get(term, 0) + 1
    return df


def corpora() -> dict[str, Any]:
    """Every namespace's texts, by benchmark (store-wide ``df`` as each bench's store holds)."""
    out: dict[str, Any] = {}
    built = conv.build()
    texts = [t.text for c in built for t in c.turns] + [q.text for c in built for q in c.questions]
    embed = conv.CachedEmbeddings(texts)
    out["conversations"] = {
        "df": _frequencies([t.text for c in built for t in c.turns]),
        "N": sum(len(c.turns) for c in built),
        "groups": {
            c.user: _group(
                [t.key for t in c.turns],
                [t.text for t in c.turns],
                [embed.vectors[t.text] for t in c.turns],
                [t.thread for t in c.turns],
                [t.time.timestamp() for t in c.turns],
            )
            for c in built
        },
    }
    every = realmem.texts()
    embed = conv.CachedEmbeddings(every + [q.text for q in realmem.read("all")[1]])
    for split in ("dev", "test"):
        people, _ = realmem.read(split)
        groups = {}
        for p in people:
            ms = p["memories"]
            group = _group(
                [m[0] for m in ms],
                [m[4] for m in ms],
                [embed.vectors[m[4]] for m in ms],
                [m[3] for m in ms],
                [
                    (datetime.fromisoformat(m[2]) + timedelta(seconds=n)).timestamp()
                    for n, m in enumerate(ms)
                ],
            )
            group["session"] = np.asarray([m[1] for m in ms])
            groups[p["name"]] = group
        out[f"realmem-{split}"] = {
            "df": _frequencies([m[4] for p in people for m in p["memories"]]),
            "N": sum(len(p["memories"]) for p in people),
            "groups": groups,
        }
    for seed in (1, 2, 3):
        out[f"retrieval-{seed}"] = _retrieval(seed)
    return out


def _retrieval(seed: int) -> dict[str, Any]:
    from data.retrieval_set import build

    memories, _ = build(seed)
    texts = [m.text for m in memories]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "langmem-bench" / f"retrieval-seed{seed}.npz"
    if path.exists():
        vectors = np.load(path)["vectors"]
    else:
        from langmem.embeddings import MiniLMEmbeddings

        vectors = np.asarray(MiniLMEmbeddings().embed_documents(texts), dtype=np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, vectors=vectors)
    none = [None] * len(texts)
    group = _group([m.key for m in memories], texts, vectors, none, none)
    return {"df": _frequencies(texts), "N": len(texts), "groups": {"all": group}}


def attach(calls: list[dict[str, Any]], split: str, stores: dict[str, Any]) -> None:
    """Each captured question's namespace, allowed rows and candidates' rows in it."""
    sessions = iter(q.session for q in realmem.read(split)[1])
    for call in calls:
        if call["bench"] == "conversations":
            store, allowed = stores["conversations"], None
            group = store["groups"][call["group"]]
        elif call["bench"] == "realmem":
            store = stores[f"realmem-{split}"]
            group = store["groups"][call["group"]]
            allowed = group["session"] < next(sessions)
        else:
            store = stores[f"retrieval-{call['group'].split()[1]}"]
            group, allowed = store["groups"]["all"], None
        call["store"], call["namespace"], call["allowed"] = store, group, allowed
        call["rows"] = [group["index"][k] for k in call["keys"]]


def _candidates(call: dict[str, Any]) -> list[rules.Candidate]:
    return [
        rules.Candidate(i, float(c), rules.Document(t, n), th, tm, i)
        for i, (c, (t, n), th, tm) in enumerate(
            zip(call["cosines"], call["documents"], call["threads"], call["times"], strict=True)
        )
    ]


def _similarity(vectors: Any) -> rules.Similarity:
    def similarity(chosen: Any, floor: float) -> list[tuple[int, int, float]]:
        return alike(unit_cosines(vectors[[int(c.text) for c in chosen]]), floor)

    return similarity


def _corpus(call: dict[str, Any]) -> rules.Corpus:
    n, average, frequencies = call["corpus"]
    return rules.Corpus(n, average, frequencies)


def ranked(call: dict[str, Any], ranking: rules.Ranking) -> list[rules.Explanation]:
    similarity = _similarity(call["vectors"])
    return rules.rank(
        _candidates(call), call["terms"], _corpus(call), ranking, similarity=similarity
    )


def _recall(call: dict[str, Any], keys: list[str]) -> float:
    top = set(keys[:10])
    return sum(e in top for e in call["evidence"]) / len(call["evidence"])


Rule = Callable[[dict[str, Any]], list[str]]
"""A ranking of one captured question: its keys, best first."""


def by_ranking(ranking: rules.Ranking) -> Rule:
    return lambda call: [call["keys"][w.item] for w in ranked(call, ranking)]


def show(
    calls: list[dict[str, Any]], label: str, rule: Rule, base: list[float] | None
) -> list[float]:
    scores = [_recall(call, rule(call)) for call in calls]
    parts = []
    for bench in ("conversations", "realmem", "retrieval"):
        at = [i for i, c in enumerate(calls) if c["bench"] == bench]
        text = f"{bench[:5]} {np.mean([scores[i] for i in at]):.3f}"
        if base is not None:
            gains = np.asarray([scores[i] - base[i] for i in at])
            error = gains.std(ddof=1) / np.sqrt(len(gains))
            text += f" ({gains.mean():+.3f}, s.e. {error:.3f})"
        parts.append(text)
    kinds: dict[str, list[float]] = {}
    for call, score in zip(calls, scores):
        if call["bench"] == "conversations":
            kinds.setdefault(call["kind"], []).append(score)
    types = " ".join(f"{k[:5]} {np.mean(v):.3f}" for k, v in kinds.items())
    print(f"{label:<34} " + "  ".join(parts) + f" | {types}", flush=True)
    return scores


# -- 1. restate and variants of its word condition -------------------------------------------


def restated_variant(
    ranking: rules.Ranking, share: float, threshold: float, condition: str
) -> Rule:
    """``ranking``, then an older item among the best 20 loses ``share`` when a newer one with
    a cosine of at least ``threshold`` passes ``condition``."""

    def rule(call: dict[str, Any]) -> list[str]:
        first = ranked(call, ranking)
        head = first[: ranking.redundancy_depth]
        corpus = _corpus(call)
        weight = {
            t: rules.idf(corpus.documents, corpus.frequencies.get(t, 0)) for t in call["terms"]
        }
        held = {t for terms, _ in call["documents"] for t in terms}
        rarest = max(held, key=lambda t: (weight[t], t)) if held else None
        cosines = unit_cosines(call["vectors"][[w.item for w in head]])
        times = [call["times"][w.item] for w in head]
        threads = [call["threads"][w.item] for w in head]
        older = set()
        for i, j in zip(*np.nonzero(cosines >= threshold)):
            if i == j or times[i] is None or times[j] is None or not times[i] < times[j]:
                continue
            old, new = head[i].matched.keys(), head[j].matched.keys()
            ok = {
                "supersede's (old words within the new)": old <= new,
                "the rarest matched word in both": rarest in old and rarest in new,
                "the same matched words": bool(old) and old == new,
                "shipped, pairs of one thread excluded": bool(old)
                and old <= new
                and (threads[i] is None or threads[i] != threads[j]),
            }[condition]
            if ok:
                older.add(int(i))
        scores = [w.score * (1 - share) if k in older else w.score for k, w in enumerate(head)]
        order = sorted(range(len(head)), key=lambda k: (-scores[k], -head[k].cosine))
        return [call["keys"][w.item] for w in [head[k] for k in order] + first[len(head) :]]

    return rule


def restate_sweep(calls: list[dict[str, Any]], base: list[float]) -> None:
    supersede = rules.Ranking(supersede=0.3)
    for threshold in (0.9, 0.8, 0.7, 0.65, 0.6, 0.55, 0.5):
        for share in (0.15, 0.2, 0.25, 0.3, 0.5):
            shipped = rules.Ranking(restate=share, restate_threshold=threshold)
            show(calls, f"restate {share} from {threshold}", by_ranking(shipped), base)
            both = dataclasses.replace(shipped, supersede=0.3)
            show(calls, "  + supersede 0.3", by_ranking(both), base)
    for condition in (
        "supersede's (old words within the new)",
        "the rarest matched word in both",
        "the same matched words",
        "shipped, pairs of one thread excluded",
    ):
        for threshold in (0.7, 0.6, 0.5):
            rule = restated_variant(rules.Ranking(), 0.2, threshold, condition)
            show(calls, f"{condition[:24]} 0.2 from {threshold}", rule, base)
    show(calls, "supersede 0.3 (for comparison)", by_ranking(supersede), base)


# -- 2. an entity second hop -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Hop:
    bridges: int = 1  # best BM25 holders of the rarest matched query word
    terms: int = 2  # their words at least as rare (within ``slack`` of its IDF), at most
    slack: float = 0.0
    share: float = 0.8  # a hit scores at least share * bridge score * its share of the terms
    chain: bool = False  # instead: hit and bridge score at least the pair's fused score
    lift: float = 0.0  # a bridge with hits gains lift * (1 - its score) * the best hit's score
    rare_bridges: bool = True  # a bridge must hold such a word (not "my sister is nice")
    dense: int = 0  # also the texts nearest each bridge's vector, at most this many per bridge
    base: rules.Ranking = dataclasses.field(default_factory=rules.Ranking)


def hopped(hop: Hop) -> Rule:
    def rule(call: dict[str, Any]) -> list[str]:
        first = ranked(call, hop.base)
        keys = list(call["keys"])
        corpus = _corpus(call)
        weight = {
            t: rules.idf(corpus.documents, corpus.frequencies.get(t, 0)) for t in call["terms"]
        }
        held = {t for w in first for t in w.matched}
        if not held:
            return [keys[w.item] for w in first]
        rarest = max(held, key=lambda t: (weight[t], t))
        store, group, allowed = call["store"], call["namespace"], call["allowed"]
        rows = list(call["rows"])

        def rare(w: rules.Explanation) -> list[str]:
            doc = group["docs"][rows[w.item]]
            floor = weight[rarest] - hop.slack
            return [
                t
                for t in doc.terms
                if t not in weight and rules.idf(store["N"], store["df"].get(t, 0)) >= floor
            ]

        holders = sorted(
            (w for w in first if rarest in w.matched), key=lambda w: (-w.bm25, keys[w.item])
        )
        if hop.rare_bridges:
            holders = [w for w in holders if rare(w)]
        bridges = holders[: hop.bridges]
        bridge_rows = {rows[b.item] for b in bridges}
        ok = (
            (lambda i: i not in bridge_rows)
            if allowed is None
            else (lambda i: bool(allowed[i]) and i not in bridge_rows)
        )
        found: dict[str, tuple[float, float]] = {}  # term -> (idf, best bridge score)
        for b in bridges:
            for t in rare(b):
                if any(ok(i) for i in group["rows"].get(t, [])):
                    value = rules.idf(store["N"], store["df"].get(t, 0))
                    found[t] = (value, max(found.get(t, (0.0, 0.0))[1], b.score))
        kept = sorted(found, key=lambda t: (-found[t][0], t))[: hop.terms]
        near: dict[int, float] = {}  # dense hop: row -> best bridge score * cosine with it
        for b in bridges if hop.dense else ():
            cosines = group["vectors"] @ group["vectors"][rows[b.item]]
            taken = [int(i) for i in np.argsort(-cosines) if ok(int(i))][: hop.dense]
            for i in taken:
                value = b.score * max(float(cosines[i]), 0.0)
                near[i] = max(near.get(i, 0.0), value)
        if not kept and not near:
            return [keys[w.item] for w in first]
        mass = sum(found[t][0] for t in kept)
        hits: dict[int, float] = {}
        for t in kept:
            for i in group["rows"][t]:
                if ok(i):
                    hits[i] = hits.get(i, 0.0) + found[t][0]
        # hits outside the candidates join them (cosine with the query, query terms only)
        candidates = _candidates(call)
        vectors = call["vectors"]
        where = {r: k for k, r in enumerate(rows)}
        extra = [i for i in sorted(set(hits) | set(near)) if i not in where]
        if extra:
            query = call["vector"] / max(float(np.linalg.norm(call["vector"])), 1e-12)
            for i in extra:
                doc = group["docs"][i]
                terms = {t: n for t, n in doc.terms.items() if t in weight}
                at = len(candidates)
                candidates.append(
                    rules.Candidate(
                        at,
                        float(group["vectors"][i] @ query),
                        rules.Document(terms, doc.length),
                        group["threads"][i],
                        group["times"][i],
                        at,
                    )
                )
                where[i] = at
                rows.append(i)
                keys.append(group["keys"][i])
            vectors = np.concatenate([vectors, group["vectors"][extra]])
            first = rules.rank(
                candidates, call["terms"], corpus, hop.base, similarity=_similarity(vectors)
            )
        by_item = {w.item: w for w in first}
        scores = {w.item: w.score for w in first}
        mass_q = sum(weight.values())
        best_hit = 0.0
        for i, held_mass in hits.items():
            item = where[i]
            hit = by_item[item]
            best_hit = max(best_hit, hit.score)
            if not hop.chain:
                bridge = max(found[t][1] for t in kept if t in group["docs"][i].terms)
                scores[item] = max(scores[item], hop.share * bridge * min(held_mass / mass, 1.0))
                continue
            for b in bridges:
                doc = group["docs"][rows[b.item]]
                if not any(t in doc.terms and t in group["docs"][i].terms for t in kept):
                    continue
                union = set(hit.matched) | set(b.matched)
                lexical = min(sum(weight[t] for t in union) / mass_q, 1.0)
                alpha = hop.base.dense_weight
                pair = hop.share * (alpha * max(hit.dense, b.dense) + (1 - alpha) * lexical)
                scores[item] = max(scores[item], pair)
                scores[b.item] = max(scores[b.item], pair)
        for i, value in near.items():
            item = where[i]
            best_hit = max(best_hit, by_item[item].score)
            scores[item] = max(scores[item], hop.share * value)
        if hop.lift > 0:
            for b in bridges:
                scores[b.item] += hop.lift * best_hit * (1 - scores[b.item])
        order = sorted(scores, key=lambda item: (-scores[item], -by_item[item].cosine))
        return [keys[item] for item in order]

    return rule


def hop_sweep(calls: list[dict[str, Any]], base: list[float]) -> None:
    for start in (rules.Ranking(), rules.Ranking(restate=0.2, supersede=0.3)):
        label = "on the default" if start == rules.Ranking() else "on restate + supersede"
        print(f"-- entity hop, {label}")
        reference = show(calls, "(no hop)", by_ranking(start), base)
        for bridges in (1, 3):
            for slack in (0.0, 2.0):
                for share, chain, lift in ((0.8, False, 1.0), (1.0, True, 0.0), (1.0, False, 0.0)):
                    hop = Hop(bridges, 2, slack, share, chain, lift, base=start)
                    text = f"{bridges} br, slack {slack}, {'chain' if chain else 'max'} {share}"
                    show(calls, text + f", lift {lift}", hopped(hop), reference)
        loose = Hop(1, 3, 0.0, 0.8, rare_bridges=False, base=start)
        show(calls, "1 bridge, any holder, max 0.8", hopped(loose), reference)
        for bridges, dense, share, lift in ((1, 5, 0.8, 0.0), (3, 5, 0.8, 1.0), (3, 10, 1.0, 0.0)):
            hop = Hop(bridges, 2, 2.0, share, lift=lift, dense=dense, base=start)
            text = f"{bridges} br + {dense} nearest, max {share}, lift {lift}"
            show(calls, text, hopped(hop), reference)


# -- 3. query-adaptive fusion weights ---------------------------------------------------------


def adaptive(feature: str, low: float, high: float) -> Rule:
    """``dense_weight`` from ``low`` (feature 0) to ``high`` (feature 1), clipped to [0.5, 1]."""

    def rule(call: dict[str, Any]) -> list[str]:
        corpus = _corpus(call)
        weight = {
            t: rules.idf(corpus.documents, corpus.frequencies.get(t, 0)) for t in call["terms"]
        }
        held = {t for terms, _ in call["documents"] for t in terms}
        if feature == "matched IDF share":
            mass = sum(weight.values())
            value = sum(weight[t] for t in held if t in weight) / mass if mass else 0.0
        else:  # the dense top 10's spread (best cosine - 10th), over 0.4
            top = np.sort(call["cosines"])[::-1]
            value = float(top[0] - top[min(9, len(top) - 1)]) / 0.4
        alpha = min(max(low + (high - low) * value, 0.5), 1.0)
        return by_ranking(rules.Ranking(dense_weight=alpha))(call)

    return rule


def adaptive_sweep(calls: list[dict[str, Any]], base: list[float]) -> None:
    for feature in ("matched IDF share", "dense spread"):
        for low, high in ((0.9, 0.7), (0.9, 0.6), (0.85, 0.7), (0.7, 0.9), (0.7, 0.8)):
            show(calls, f"{feature} {low} -> {high}", adaptive(feature, low, high), base)


OPTIONS = {
    "default": rules.Ranking(),
    "+ restate": rules.Ranking(restate=0.2),
    "+ restate + supersede": rules.Ranking(restate=0.2, supersede=0.3),
    "+ restate + supersede + centering": rules.Ranking(restate=0.2, supersede=0.3, centering=0.1),
}
"""Session 7's options, as bench/conversations.py and bench/realmem.py print them."""


def retrieval(seed: int) -> None:
    """bench/retrieval.py's hybrid R@10 (and MRR) of each option on one seed."""
    import tempfile

    import retrieval as labelled

    from langmem.embeddings import MiniLMEmbeddings

    embeddings = labelled.CachedEmbeddings(MiniLMEmbeddings())
    for label, ranking in OPTIONS.items():
        with tempfile.TemporaryDirectory() as tmp:
            overall = labelled.evaluate(seed, embeddings, Path(tmp), ranking)["parts"]["overall"]
        print(
            f"bench/retrieval.py seed {seed}, {label}: hybrid R@10 {overall['hybrid']['R@10']:.3f}"
            f" MRR {overall['hybrid']['MRR']:.3f} (dense {overall['dense']['R@10']:.3f},"
            f" BM25 {overall['lexical']['R@10']:.3f})",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("restate", "hop", "adaptive"))
    parser.add_argument("--retrieval-seed", type=int, help="run the options on bench/retrieval.py")
    args = parser.parse_args()
    if args.retrieval_seed is not None:
        retrieval(args.retrieval_seed)
        return
    with cache_path("dev").open("rb") as f:
        calls = pickle.load(f)
    attach(calls, "dev", corpora())
    base = show(calls, "default", by_ranking(rules.Ranking()), None)
    if args.only in (None, "restate"):
        restate_sweep(calls, base)
    if args.only in (None, "hop"):
        hop_sweep(calls, base)
    if args.only in (None, "adaptive"):
        adaptive_sweep(calls, base)


if __name__ == "__main__":
    main()
