"""SQLite and PostgreSQL rank alike on random corpora full of ties: copies of one text under
other keys and namespaces (same BM25, same cosine), the same words in another order (same
BM25), texts in two fields, threads, rewrites and deletes (which reorder both stores' rows).

Each corpus is ranked with the default ranking, with a dense cut through its texts, and with
the second pass (with and without the cut). Each is built from its seed;
``LANGMEM_PARITY_SEEDS`` runs more of them here, ``bench/parity_ties.py`` hundreds. A failure
names the seed, the ranking and the query."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from langgraph.store.base import BaseStore, PutOp

from langmem.stores import PostgresStore, SqliteStore
from langmem.stores.ranking import Explanation, Ranking

SEEDS = int(os.environ.get("LANGMEM_PARITY_SEEDS", "24"))
FIRST_SEED = int(os.environ.get("LANGMEM_PARITY_FIRST_SEED", "0"))
_SYLLABLES = ["ka", "lo", "mi", "ren", "tus", "bel", "dor", "an", "vi", "sko", "pe", "gra"]
_ENDINGS = ["", "", "", "s", "ed", "ing", "es"]
_FILLER = ["the", "and", "of", "my", "not", "is"]  # stop words: in df, never terms
_LABELS = ["a", "b", "a-b", "a0"]  # ("a", "b") < ("a-b",) as labels, "a.b" > "a-b" as text


class TextVectors(Embeddings):
    """A random unit vector per distinct text (seeded by the text): equal texts tie exactly,
    other texts never do (hashing vectors of short texts tie across texts, at 0 or 1/3, and
    numpy and pgvector round such ties differently)."""

    model_id = "test-text-vectors"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        vector = np.random.default_rng(seed).standard_normal(16)
        return (vector / np.linalg.norm(vector)).tolist()  # type: ignore[no-any-return]


def _index() -> dict[str, Any]:
    return {"dims": 16, "embed": TextVectors(), "fields": ["content", "note"]}


@dataclasses.dataclass
class Corpus:
    """One seed's writes (puts and deletes, in order) and queries."""

    seed: int
    writes: list[PutOp]
    queries: list[str]
    rankings: list[Ranking]


def corpus(seed: int, texts: tuple[int, int] = (10, 24)) -> Corpus:
    """A small corpus whose texts tie in many ways (see the module docstring), of between
    ``texts`` items (bench/parity_ties.py ``--texts`` takes more)."""
    rng = random.Random(seed)
    tag = "".join(chr(ord("a") + int(d)) for d in str(seed))  # words of no other corpus
    stems = list(dict.fromkeys("".join(rng.sample(_SYLLABLES, 2)) + tag for _ in range(14)))

    def word() -> str:
        return rng.choice(stems) + rng.choice(_ENDINGS)

    def fresh() -> str:
        words = [word() for _ in range(rng.randint(1, 6))]
        words += rng.sample(_FILLER, rng.randint(0, 2))
        rng.shuffle(words)
        return " ".join(words)

    bases = [fresh() for _ in range(rng.randint(3, 7))]

    def text() -> str:
        roll = rng.random()
        if roll < 0.5:
            return rng.choice(bases)  # a copy: the same BM25 and the same cosine
        if roll < 0.7:
            words = rng.choice(bases).split()
            rng.shuffle(words)  # the same BM25, another vector (word pairs count)
            return " ".join(words)
        return fresh()

    root = f"c{seed}"
    # at most 30 texts: every text holding a query word is a candidate on both stores (past
    # that, both keep the best by FTS5's bm25(): tests/postgres/test_parity_lexical.py)
    keys = rng.sample(range(1000), rng.randint(*texts))
    writes: list[PutOp] = []
    placed: dict[str, tuple[str, ...]] = {}
    for number, key in enumerate(keys):
        namespace = (root, rng.choice(_LABELS))
        value: dict[str, Any] = {"content": text()}
        if rng.random() < 0.25 and len(keys) + number < 30:
            value["note"] = text()
        if rng.random() < 0.5:
            value["thread_id"] = rng.choice(["t1", "t2"])
        # Every item names its time: the stores' own write clocks differ by milliseconds, which
        # moves recency by ~1e-12 and can flip an exact tie between the two stores.
        value["created_at"] = f"2026-03-01T10:{number % 60:02d}:{rng.randrange(3) * 20:02d}+00:00"
        placed[f"k{key:03d}"] = namespace
        writes.append(PutOp(namespace, f"k{key:03d}", value))
    for key in rng.sample(sorted(placed), len(placed) // 4):  # rewrites and deletes
        if rng.random() < 0.3:
            writes.append(PutOp(placed[key], key, None))
        else:
            rewritten = {"content": text(), "created_at": "2026-03-02T09:00:00+00:00"}
            writes.append(PutOp(placed[key], key, rewritten))
    queries = []
    for _ in range(4):
        words = [word() for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            words.append(rng.choice(["zyx", "not", "the"]))
        queries.append(" ".join(words))
    depth = rng.randint(2, 6)  # a cut among the dense candidates, often through a tie
    feedback = Ranking(
        feedback_docs=rng.randint(1, 3),
        feedback_terms=rng.randint(1, 4),
        feedback_weight=rng.choice([0.5, 1.0]),
        feedback_fetch=rng.random() < 0.5,
    )
    rankings = [
        Ranking(),
        Ranking(depth=depth),
        dataclasses.replace(feedback, depth=depth),
        dataclasses.replace(feedback, depth=50),  # every text of the corpus a dense candidate
    ]
    return Corpus(seed, writes, queries, rankings)


CLOSE = 1e-6
"""How far two floats computed from cosines may be apart (numpy's and pgvector's last bits)."""
EXACT = ("bm25", "lexical", "expansion", "matched")
"""Parts computed from the same integer counts with the same arithmetic: equal to the bit."""


def _parts(why: Explanation) -> dict[str, Any]:
    """An explanation's parts (not its backend's item id)."""
    return {k: v for k, v in dataclasses.asdict(why).items() if k != "item"}


def _untied(rows: list[tuple[str, float, dict[str, Any]]]) -> list[Any]:
    """``rows`` (key, score, parts; best first) with the key left out where another row has
    the same score (within :data:`CLOSE`), or at the lowest score shown (a row past the limit
    may share it): the order of exact ties is each store's order of candidates."""
    scores = [score for _, score, _ in rows]
    lowest = min(scores, default=0.0)

    def tied(score: float) -> bool:
        return sum(abs(score - other) <= CLOSE for other in scores) > 1 or score <= lowest + CLOSE

    return [(None if tied(score) else key, score, parts) for key, score, parts in rows]


def same(one: list[Any], other: list[Any]) -> bool:
    """Whether two :func:`_untied` lists agree: keys, exact parts to the bit, the rest within
    :data:`CLOSE`."""
    if len(one) != len(other):
        return False
    for (key, score, parts), (key2, score2, parts2) in zip(one, other):
        if key != key2 or abs(score - score2) > CLOSE or parts.keys() != parts2.keys():
            return False
        for name, value in parts.items():
            if name in EXACT or not isinstance(value, float):
                if value != parts2[name]:
                    return False
            elif abs(value - parts2[name]) > CLOSE:
                return False
    return True


def results(store: BaseStore, case: Corpus) -> dict[str, Any]:
    """Every query's explained results and search results, under each ranking."""
    out: dict[str, Any] = {}
    root = (f"c{case.seed}",)
    for number, ranking in enumerate(case.rankings):
        store.ranking = ranking  # type: ignore[attr-defined]
        for query in case.queries:
            name = f"seed {case.seed} ranking {number} ({ranking}) query {query!r}"
            explained = store.explain(root, query, limit=6)  # type: ignore[attr-defined]
            out[name] = _untied([(h.key, w.score, _parts(w)) for h, w in explained])
            hits = store.search(root, query=query, limit=6)
            out[name + " search"] = _untied([(h.key, h.score or 0.0, {}) for h in hits])
    return out


def compare(
    sqlite: BaseStore, postgres: BaseStore, seeds: range, texts: tuple[int, int] = (10, 24)
) -> list[str]:
    """The results that differ between the two stores over ``seeds`` (name and both), each
    corpus of between ``texts`` items."""
    cases = [corpus(seed, texts) for seed in seeds]
    for store in (sqlite, postgres):
        for case in cases:
            store.batch(case.writes)
    differ = []
    for case in cases:
        one, other = results(sqlite, case), results(postgres, case)
        differ += [
            f"{name}:\n  sqlite   {one[name]}\n  postgres {other[name]}"
            for name in one
            if not same(one[name], other[name])
        ]
    return differ


def test_random_tied_corpora_rank_alike_on_both_stores(tmp_path: Path, pg_database: str) -> None:
    sqlite = SqliteStore(tmp_path / "ties.sqlite", index=_index())  # type: ignore[arg-type]
    postgres = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
    try:
        differ = compare(sqlite, postgres, range(FIRST_SEED, FIRST_SEED + SEEDS))
    finally:
        sqlite.close()
        postgres.close()
    assert not differ, f"{len(differ)} results differ, first: {differ[0]}"


@pytest.mark.parametrize(("copies", "boosted"), [(8, 7), (20, 2)])
def test_texts_tied_at_the_dense_cut_are_all_candidates(
    tmp_path: Path, pg_database: str, copies: int, boosted: int
) -> None:
    """Copies of one text tie on cosine where the dense candidates end (6 texts for 3
    results): all are candidates on both stores, up to 12 dense candidates in all (then the
    first written), so the same copy in the best result's thread gets its thread boost on both
    (keeping the first listed copies, as PostgreSQL did, or any of them, as SQLite did, could
    leave it out on one store only)."""
    ranking = Ranking(depth=1, dense_weight=0.5)
    found = []
    for store in (
        SqliteStore(tmp_path / "cut.sqlite", index=_index(), ranking=ranking),  # type: ignore[arg-type]
        PostgresStore.from_url(pg_database, index=_index(), ranking=ranking),  # type: ignore[arg-type]
    ):
        try:
            when = "2026-03-01T10:00:{:02d}+00:00"
            best = {"content": "alpha", "thread_id": "t1", "created_at": when.format(0)}
            writes = [PutOp(("cut",), "best", best)]
            for number in range(copies):
                thread = "t1" if number in (boosted, copies - 1) else f"other{number}"
                value = {"content": "omega", "thread_id": thread, "created_at": when.format(9)}
                writes.append(PutOp(("cut",), f"copy{number:02d}", value))
            store.batch(writes)
            hits = store.search(("cut",), query="alpha", limit=3)
            found.append([(h.key, round(h.score or 0.0, 5)) for h in hits])
        finally:
            store.close()  # type: ignore[attr-defined]
    assert found[0] == found[1] and found[0][1][0] == f"copy{boosted:02d}"
    # past the bound the copy written last is no candidate: not boosted, so not second
    assert copies < 12 or f"copy{copies - 1:02d}" not in [key for key, _ in found[0][:2]]


class _AwayVectors(Embeddings):
    """ "away N" points away from every other text (a negative cosine with the query), blank
    texts are all zeros (cosine 0: pgvector's NaN), any other text along the first axis."""

    model_id = "test-away"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        vector = [0.0] * 8
        if text.startswith("away "):
            number = int(text.split()[1])
            vector[0], vector[1 + number % 7] = -0.3 - 0.1 * (number % 5), 0.9
        elif text.strip():
            vector[0] = 1.0
        return vector


def test_a_zero_vector_is_a_dense_candidate_on_both_stores(
    tmp_path: Path, pg_database: str
) -> None:
    """A zero vector's cosine counts as 0 (above negative cosines) when the dense candidates
    are picked, not only when they are scored: PostgreSQL sorted pgvector's NaN last."""
    index: Any = {"dims": 8, "embed": _AwayVectors(), "fields": ["content"]}
    found = []
    for store in (
        SqliteStore(tmp_path / "zero.sqlite", index=index, ranking=Ranking(depth=1)),
        PostgresStore.from_url(pg_database, index=index, ranking=Ranking(depth=1)),
    ):
        try:
            store.batch(
                [PutOp(("z",), f"away{n}", {"content": f"away {n}"}) for n in range(5)]
                + [PutOp(("z",), "blank", {"content": "  "})]
            )
            found.append([(h.key, h.score) for h in store.search(("z",), query="q", limit=1)])
        finally:
            store.close()
    assert found[0] == found[1] and found[0][0][0] == "blank"
