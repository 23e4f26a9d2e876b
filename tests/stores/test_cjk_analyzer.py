"""The analyzer splits Chinese, Japanese and Korean runs into overlapping bigrams (a lone
character stays a term), for texts and queries alike, and every other text as before."""

from __future__ import annotations

import random
import re
import sqlite3
import unicodedata

import pytest

from langmem.stores import _pg_tokens
from langmem.stores._cjk import CHARACTER
from langmem.stores.ranking import analyze, length, lexical_text, query_terms, tokens


def test_a_chinese_run_becomes_its_overlapping_bigrams() -> None:
    assert tokens("我住在东京") == ["我住", "住在", "在东", "东京"]
    # the query shares one word with the text: before, each was a single token of its own
    assert set(query_terms("东京在哪里")) & set(analyze("我住在东京")) == {"东京"}


def test_a_lone_cjk_character_is_a_term_and_a_latin_letter_still_is_not() -> None:
    assert analyze("猫 and a dog") == ["猫", "dog"]
    assert analyze("2024年") == ["2024", "年"]
    assert length("猫 x y") == 1


def test_japanese_kana_and_kanji_pair_across_scripts() -> None:
    assert tokens("日本語のテキスト") == ["日本", "本語", "語の", "のテ", "テキ", "キス", "スト"]
    assert tokens("iPhone15を買った") == ["iphone15", "を買", "買っ", "った"]
    assert tokens("コーヒー") == ["コー", "ーヒ", "ヒー"]  # the long vowel mark is a letter


def test_korean_stays_in_syllables_and_spaces_split_words() -> None:
    assert tokens("서울에 살아요") == ["서울", "울에", "살아", "아요"]
    assert tokens("나 서울") == ["나", "서울"]  # before: compatibility-decomposed into jamo
    assert all(len(t) <= 2 for t in tokens("한국어 텍스트 검색"))


def test_full_width_digits_and_letters_are_their_ascii_selves() -> None:
    assert lexical_text("ＡＢＣ１２３") == "ABC123"
    assert tokens("ＡＢＣ１２３") == tokens("abc123") == ["abc123"]
    assert tokens("２０２４年３月") == ["2024", "年", "3", "月"]


def test_half_width_katakana_is_katakana() -> None:
    assert tokens("ｶﾀｶﾅ ｶﾞｲﾄﾞ") == tokens("カタカナ ガイド")


def test_cjk_punctuation_ends_a_run() -> None:
    assert tokens("東京。大阪、京都「駅」・名古屋！") == [
        "東京",
        "大阪",
        "京都",
        "駅",
        "名古",
        "古屋",
    ]


def test_mixed_scripts_split_where_the_script_changes() -> None:
    assert tokens("Alice在Google工作") == ["alice", "在", "google", "工作"]
    assert tokens("Привет東京") == ["привет", "東京"]


# the analyzer's split before CJK bigrams, kept here to compare with (not langmem's code)
_OLD_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def _old_tokens(text: str) -> list[str]:
    lowered = text.lower()
    if not lowered.isascii():
        decomposed = unicodedata.normalize("NFKD", lowered)
        lowered = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _OLD_TOKEN.findall(lowered)


NON_CJK = [
    "Alice lived in Lisbon, then moved to Oslo in 2019",
    "Zoë's flight LH-1234, 07:45 -- don't, won't",
    "Ünïcödé naïve café crème brûlée straße ﬁnal Ǆemal İstanbul",
    "Привет мир Ελληνικά العربية हिन्दी தமிழ் ไทย",
    "🎉party🎉 x² H₂O ⅷ ㎏ ① snake_case e-mail me@example.com",
    "",
]


@pytest.mark.parametrize("text", NON_CJK)
def test_other_texts_split_as_before(text: str) -> None:
    assert tokens(text) == _old_tokens(text)
    assert lexical_text(text) == text


def test_random_non_cjk_texts_split_as_before() -> None:
    """Any character below the CJK blocks (but Hangul jamo), and the full-width forms."""
    rng = random.Random(7)
    codes = [*range(0x20, 0x3000), *range(0xFF01, 0xFF66), *range(0xFFE0, 0xFFEF)]
    pool = [chr(c) for c in codes if CHARACTER.match(chr(c)) is None]
    for _ in range(2000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 30)))
        assert tokens(text) == _old_tokens(text), repr(text)


CJK = [
    "我住在东京，喜欢吃寿司。",
    "東京タワーに行きました！2024年３月",
    "서울에 살아요. 한국어 텍스트",
    "ｶﾀｶﾅ ＡＢＣ１２３ 豈 々 〆 〇 ー",
    "Alice在Google工作, 日本語のテキスト「引用」",
    "𠀋𠂉 extension B",
]


@pytest.mark.parametrize("text", CJK)
def test_the_words_are_those_fts5_finds_in_the_lexical_text(text: str) -> None:
    """What the SQLite store's FTS5 index holds of a text is what the analyzer splits."""
    with sqlite3.connect(":memory:") as conn:
        conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(t, tokenize='{_pg_tokens.TOKENIZER}')")
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance')")
        conn.execute("INSERT INTO f (rowid, t) VALUES (1, ?)", (lexical_text(text),))
        found = [w for (w,) in conn.execute("SELECT term FROM v ORDER BY offset")]
    assert tokens(text) == found
    assert _pg_tokens.words(text) == found
    assert tokens(lexical_text(text)) == tokens(text)  # splitting twice changes nothing
