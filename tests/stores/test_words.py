"""Each matrix row's words, split once (``_words``), count a query's terms as splitting the text
again would: after adds, removals, replacements, compactions, and for rows installed from a
saved matrix."""

from __future__ import annotations

import random

import numpy as np

from langmem.stores import _search
from langmem.stores import ranking as rules
from langmem.stores._vectors import VectorIndex

_WORD_TEXT = (
    "alice lives lived living lisbon oslo café Zoë crème 2019 4821 lh-1234 the of and tea "
    "teas kyoto straße 東京 한국어 running runs ran glass boxes city cities x y"
)
WORDS = _WORD_TEXT.split()


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 14)))


def _expected(text: str, terms: list[str]) -> rules.Document:
    """What the search counted before words were kept: the text split again."""
    term_of = {w: t for t in terms for w in rules.forms(t) if rules._term(w) == t}
    counts: dict[str, int] = {}
    for word in rules.tokens(text):
        if word in term_of:
            counts[term_of[word]] = counts.get(term_of[word], 0) + 1
    return rules.Document(counts, rules.length(text)) if counts else _search._NO_TERMS


def _check(index: VectorIndex, rng: random.Random, live: dict[int, str]) -> None:
    ids = list(live)
    for _ in range(20):
        picked = rng.sample(ids, min(len(ids), rng.randint(1, 40)))
        terms = rules.query_terms(_text(rng))
        rows = [index.row_of[v] for v in picked]
        got = _search._documents(index, picked, terms, rows)
        assert got == [_expected(live[v], terms) for v in picked]


def _rows(start: int, texts: list[str]) -> list[tuple[int, int, str, bytes, str, int]]:
    vector = np.ones(4, dtype=np.float32).tobytes()
    return [
        (start + i, start + i, "ns", vector, text, rules.length(text))
        for i, text in enumerate(texts)
    ]


def test_counts_follow_adds_removals_and_compactions() -> None:
    rng = random.Random(3)
    index = VectorIndex(4)
    live: dict[int, str] = {}
    next_id = 1
    for _ in range(12):
        texts = [_text(rng) for _ in range(rng.randint(1, 400))]
        index.add(_rows(next_id, texts))
        live.update(zip(range(next_id, next_id + len(texts)), texts))
        next_id += len(texts)
        gone = rng.sample(list(live), len(live) // 3)
        index.remove(gone)  # compacts once a quarter of the rows are dead
        for vector_id in gone:
            del live[vector_id]
        replaced = rng.sample(list(live), min(5, len(live)))
        new_texts = [_text(rng) for _ in replaced]
        index.add([row for v, t in zip(replaced, new_texts) for row in _rows(v, [t])])
        live.update(zip(replaced, new_texts))
        _check(index, rng, live)


def test_rows_installed_from_a_saved_matrix_keep_their_words() -> None:
    rng = random.Random(5)
    index = VectorIndex(4)
    texts = [_text(rng) for _ in range(300)]
    index.add(_rows(1, texts))
    index.remove(range(1, 301, 3))  # dead rows are not saved
    live = {v: t for v, t in zip(range(1, 301), texts) if (v - 1) % 3}
    installed = VectorIndex(4)
    installed.install(index.saved())
    _check(installed, rng, live)
    more = [_text(rng) for _ in range(50)]
    installed.add(_rows(301, more))
    _check(installed, rng, live | dict(zip(range(301, 351), more)))
