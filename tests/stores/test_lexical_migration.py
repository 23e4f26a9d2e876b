"""Migration 9 on a file written before it that holds long texts and CJK texts together: one
migration gives each row its lexical text (``ranking.lexical_text``: a text over
``LEXICAL_CHARS`` bytes cut first, then CJK runs as bigrams) in ``lm_lexical`` where it differs,
re-indexes and re-counts those rows, and counts again the analyzed length of the rows whose
terms changed (a word over ``MAX_WORD_BYTES`` is no term now) without counting every row
again. The file is written by langmem's code at main (``written_by_main``)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from langmem.stores import SqliteStore, _lengths, ranking
from langmem.stores._lexical_texts import LENGTHS_AFTER, LENGTHS_BEFORE
from langmem.stores._migrations import MIGRATIONS
from tests.stores.test_cjk_migration import INDEX, _rows, written_by_main
from tests.stores.test_term_docs import assert_exact


def _han(n: int, seed: int) -> str:
    """``n`` Han characters of the first 10,000 of the block (their bigrams nearly all
    distinct), so no Hangul and none of the words below, in runs of 50 (FTS5 before migration
    9 took a whole run as one word, and cut a very long one inside a character)."""
    rnd = random.Random(seed)
    han = "".join(chr(0x4E00 + rnd.randrange(10_000)) for _ in range(n))
    return " ".join(han[i : i + 50] for i in range(0, n, 50))


LONG_ASCII = "needlefirst " + " ".join(f"w{i:06d}" for i in range(45_000)) + " needlelast"
LONG_CJK = "东京 needlecjk " + _han(200_000, 1) + " 서울 needletail"
LONG_WORD = "note " + "x" * (ranking.MAX_WORD_BYTES + 500) + " alpha"
TEXTS = [
    LONG_ASCII,
    "我住在东京，每天早上喝咖啡。",
    LONG_CJK,
    "Alice lives in Lisbon and likes green tea.",
    LONG_WORD,
    "Zoë's café serves crème brûlée",
    "저는 서울에 살아요.",
    "Bob moved to Oslo in 2019",  # deleted by the writer
]


def test_a_file_from_main_with_long_and_cjk_texts_gets_one_lexical_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(LONG_ASCII) > ranking.LEXICAL_CHARS  # the premises: both cut, one bigrammed
    assert len(LONG_CJK.encode()) > ranking.LEXICAL_CHARS
    path = written_by_main(tmp_path, TEXTS)
    before = _rows(path)
    assert before["version"] == 8 and before["fingerprint"] == LENGTHS_BEFORE
    assert {"needlelast", "needletail", "needlefirst"} <= before["words"]

    def recount(conn: sqlite3.Connection) -> int:
        raise AssertionError("every length counted again: only the rows changed needed it")

    monkeypatch.setattr(_lengths, "recount", recount)
    lexical = ranking.Ranking(dense_weight=0.0, thread_boost=0.0, recency_weight=0.0)
    with SqliteStore(path, index=INDEX, ranking=lexical) as store:
        assert_exact(path)
        after = _rows(path)
        assert after["version"] == len(MIGRATIONS) and after["fingerprint"] == LENGTHS_AFTER
        words = after["words"]
        assert {"needlefirst", "needlecjk", "东京", "서울", "咖啡"} <= words
        assert not {"needlelast", "needletail", "我住在东京"} & words  # past the cuts; a run
        changed: dict[str, Any] = {}
        for (vector_id, text, old_length, _), (same_id, _, length, derived) in zip(
            before["rows"], after["rows"]
        ):
            assert same_id == vector_id and length == ranking.length(text)
            lexical_text = ranking.lexical_text(text)
            assert derived == (None if lexical_text == text else lexical_text)
            changed[text] = (derived is not None, length != old_length)
        assert changed[LONG_ASCII] == (True, True)  # cut
        assert changed[LONG_CJK] == (True, True)  # cut, then bigrams
        assert changed[LONG_WORD] == (False, True)  # not cut, but its long word is no term
        assert changed[TEXTS[1]] == (True, True)
        assert changed[TEXTS[3]] == changed[TEXTS[5]] == (False, False)
        cjk = ranking.lexical_text(LONG_CJK)
        assert cjk.startswith(" 东京  needlecjk  ") and "서울" not in cjk
        cut = ranking.lexical_cut(LONG_CJK)  # a Han character counts two (it starts 2 bigrams)
        weight = len(cut) + sum(1 for c in cut if "\u4e00" <= c <= "\u9fff")
        assert LONG_CJK.startswith(cut) and ranking.LEXICAL_CHARS - 2 < weight <= 250_000

        def best(query: str) -> list[str]:
            return [h.key for h, why in store.explain(("m",), query, limit=3) if why.matched]

        assert best("needlefirst") == ["k0"] and best("needlelast") == []
        assert best("needlecjk") == ["k2"] and best("needletail") == []
        assert set(best("东京")) == {"k1", "k2"}
        store.delete(("m",), "k0")  # removed as indexed: the counts stay exact
        store.delete(("m",), "k2")
        store.put(("m",), "k9", {"text": LONG_CJK})
        assert_exact(path)
        assert best("needlecjk") == ["k9"]
