"""Chinese, Japanese and Korean text for the lexical side: overlapping character bigrams.

These scripts write words without spaces between them, so a run such as ``東京に住んでいます``
is one word to a tokenizer that splits at spaces and punctuation (SQLite FTS5's ``unicode61``,
and :func:`langmem.stores.ranking.tokens` before this module): a query shares a word with such a
text only when the whole run is the same. The standard answer (Lucene's CJK analyzer, most
search engines' default for these languages) needs no dictionary: each run of CJK characters
becomes its overlapping pairs (``東京 京に に住 住ん んで でい いま ます``), a lone character
stays as it is, and a query is split the same way, so every two-character word it shares with a
text matches.

:func:`lexical_text` writes a text so that any tokenizer that splits at spaces sees those
bigrams: the text itself when it holds no CJK character (nothing changes for other texts), else
each run replaced by its bigrams, spaced out. The SQLite store's FTS5 index reads it
(``langmem_vectors.lm_lexical``, migration 9), PostgreSQL splits it into ``lm_words``, and the
analyzer splits it into the terms BM25 counts, so both stores and the ranking agree.

Full-width and half-width forms (``ＡＢＣ１２３``, ``ｶﾀｶﾅ``; the block U+FF00-U+FFEF, common in
CJK text) are first written as their ordinary characters (NFKC), so ``２０２４`` matches ``2024``
and ``ｶﾀｶﾅ`` matches ``カタカナ`` (the analyzer already folded full-width letters; FTS5 did
not).
"""

from __future__ import annotations

import re
import unicodedata

# Han (with the compatibility ideographs and the iteration/closing marks 々 〆 〇 and the
# Hangzhou numerals), Hiragana and Katakana (without the combining and spacing voiced marks
# and the middle dot ・, which are not letters), Hangul (syllables and every jamo block). Each is
# a letter or number to FTS5's unicode61 and to Python's ``\w`` alike, and FTS5 keeps each as it
# is (no case, no diacritic removed), so the bigrams are the same strings on every side.
CHARACTERS = (
    "\u1100-\u11ff"  # Hangul jamo
    "\u3005-\u3007"  # 々 〆 〇
    "\u3021-\u3029"  # Hangzhou numerals
    "\u3038-\u303b"  # more Hangzhou numerals, 〻
    "\u3041-\u3096"  # Hiragana
    "\u309d-\u309f"  # ゝ ゞ ゟ
    "\u30a1-\u30fa"  # Katakana
    "\u30fc-\u30ff"  # ー ヽ ヾ ヿ
    "\u3131-\u318e"  # Hangul compatibility jamo
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK unified ideographs extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\ua960-\ua97c"  # Hangul jamo extended A
    "\uac00-\ud7a3"  # Hangul syllables
    "\ud7b0-\ud7fb"  # Hangul jamo extended B
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003134f"  # extensions B to G, compatibility ideographs supplement
)
"""The characters whose runs become bigrams (a regular-expression class body)."""

CHARACTER = re.compile(f"[{CHARACTERS}]")
RUN = re.compile(f"[{CHARACTERS}]+")
PIECES = re.compile(f"([{CHARACTERS}]+)")
"""``PIECES.split(text)``: the text between runs at even places, the runs at odd ones."""

WIDTH_FORMS = "\uff01-\uffef"
"""Full-width and half-width forms (a regular-expression class body)."""
CHANGED = f"[{CHARACTERS}{WIDTH_FORMS}]"
"""A character :func:`lexical_text` rewrites: CJK, or a width form (a character class)."""
_WIDTH_FORMS = re.compile(f"[{WIDTH_FORMS}]+")


def lexical_text(text: str) -> str:
    """``text`` as the lexical side reads it: its CJK runs as bigrams (see the module).

    Example:
        >>> lexical_text("我住在东京。Tokyo ２０２４年")
        ' 我住 住在 在东 东京 。Tokyo 2024 年 '
        >>> lexical_text("no change here")
        'no change here'
    """
    if text.isascii():
        return text
    text = widths(text)
    if CHARACTER.search(text) is None:
        return text
    return RUN.sub(_spaced, text)


def widths(text: str) -> str:
    """``text`` with its full-width and half-width forms as their ordinary characters."""
    if _WIDTH_FORMS.search(text) is None:
        return text
    return _WIDTH_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def bigrams(run: str) -> list[str]:
    """The overlapping pairs of a run of CJK characters (the run itself when it is one)."""
    if len(run) < 3:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _spaced(match: re.Match[str]) -> str:
    return " " + " ".join(bigrams(match.group())) + " "
