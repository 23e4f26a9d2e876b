"""The analyzer of the hybrid ranking: how a text becomes the terms BM25 counts.

Text is lowercased, diacritics are removed (as SQLite FTS5's ``unicode61 remove_diacritics 2``),
split into runs of letters and digits, stop words (:data:`STOPWORDS`) and single letters are
dropped, and each word is reduced by :func:`stem`. Runs of Chinese, Japanese and Korean
characters become their overlapping bigrams first (:func:`lexical_text`, :mod:`._cjk`). Both
stores analyze texts and queries with these functions ("Analyzer" in
:mod:`langmem.stores.ranking`, which re-exports them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from langmem.stores._cjk import CHARACTER, PIECES, bigrams, lexical_text, widths

__all__ = [
    "STOPWORDS",
    "Document",
    "analyze",
    "document",
    "fold",
    "forms",
    "length",
    "lexical_text",
    "query_terms",
    "stem",
    "term_of",
    "tokens",
]

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_ASCII_TOKEN = re.compile(r"[a-z0-9]+")
_STOPWORD_TEXT = """
a about above after again all am an and any are as at be been before being below
between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we
were what when where which while who whom whose why will with would you your yours
yourself yourselves s t d ll m re ve
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""Words dropped by the analyzer: matching them says nothing about which text is meant."""


_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s", "y", "e")
_MIN_STEM = 3


@dataclass(frozen=True)
class Document:
    """An analyzed text: term -> occurrences, and its length in terms."""

    terms: Mapping[str, int]
    length: int


def fold(text: str) -> str:
    """Lowercase without diacritics, as FTS5's ``unicode61 remove_diacritics 2``.

    CJK characters (:mod:`._cjk`) stay as they are, as FTS5 keeps them (a compatibility
    decomposition would split a Hangul syllable into its jamo)."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    if CHARACTER.search(lowered) is None:
        return _stripped(lowered)
    pieces = PIECES.split(lowered)
    return "".join(p if n % 2 or p.isascii() else _stripped(p) for n, p in enumerate(pieces))


def _stripped(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """Words as FTS5's ``unicode61 remove_diacritics 2`` tokenizer sees them in
    :func:`lexical_text` (the text itself, but for CJK runs: their bigrams).

    Example:
        >>> tokens("Zoë's flight LH-1234, 07:45")
        ['zoe', 's', 'flight', 'lh', '1234', '07', '45']
        >>> tokens("東京に住む Kim 서울")
        ['東京', '京に', 'に住', '住む', 'kim', '서울']
    """
    if text.isascii():
        return _words(text.lower())
    lowered = widths(text).lower()
    if CHARACTER.search(lowered) is None:
        return _words(_stripped(lowered))
    # fold(lexical_text(text)) split in words, without writing the bigrams out first
    found: list[str] = []
    for n, piece in enumerate(PIECES.split(lowered)):
        if n % 2:
            found += bigrams(piece)
        elif piece:
            found += _words(piece if piece.isascii() else _stripped(piece))
    return found


def _words(folded: str) -> list[str]:
    # on ASCII text ``[^\W_]`` is exactly [a-z0-9] (lowercased): the same words, found faster
    return (_ASCII_TOKEN if folded.isascii() else _TOKEN).findall(folded)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English suffix strip; the result is always a prefix of ``word``.

    Example:
        >>> [stem(w) for w in ["lives", "lived", "living", "cities", "city", "4821", "glass"]]
        ['liv', 'liv', 'liv', 'cit', 'cit', '4821', 'glass']
    """
    if not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: -len(suffix)]
    return word


def _kept(word: str) -> bool:
    # a lone CJK character is a word (a run of one: 猫, 年), not an initial
    return word not in STOPWORDS and (
        len(word) > 1 or word.isdigit() or CHARACTER.match(word) is not None
    )


def analyze(text: str) -> list[str]:
    """The terms of ``text``: folded words (CJK runs as bigrams), no stop words or single
    letters, stemmed.

    Example:
        >>> analyze("Alice lived in Lisbon, then moved to Oslo in 2019")
        ['alic', 'liv', 'lisbon', 'mov', 'oslo', '2019']
        >>> analyze("2024年に東京へ")
        ['2024', '年に', 'に東', '東京', '京へ']
    """
    return [term for term in map(term_of, tokens(text)) if term]


@lru_cache(maxsize=65536)
def term_of(word: str) -> str:
    """The term a word becomes, ``""`` for a dropped word (one cached call per word)."""
    return stem(word) if _kept(word) else ""


def length(text: str) -> int:
    """How many terms :func:`analyze` finds in ``text`` (cheaper: no stemming)."""
    return sum(1 for word in tokens(text) if _kept(word))


def query_terms(text: str) -> list[str]:
    """The distinct terms of a query, in order.

    Example:
        >>> query_terms("Where did Alice live? Alice's lives")
        ['alic', 'liv']
    """
    return list(dict.fromkeys(analyze(text)))


def document(text: str) -> Document:
    """:class:`Document` of ``text``."""
    counts: dict[str, int] = {}
    get = counts.get
    for term in analyze(text):
        counts[term] = get(term, 0) + 1
    return Document(counts, sum(counts.values()))


def forms(term: str) -> list[str]:
    """Every word whose :func:`stem` is ``term``: the term itself, or the term and one suffix.

    Example:
        >>> [w for w in forms("liv") if w in {"live", "lived", "lives", "living", "lively"}]
        ['living', 'lived', 'lives', 'live']
    """
    if not term.isalpha():
        return [term]
    found = [term] if stem(term) == term else []
    return found + [term + s for s in _SUFFIXES if stem(term + s) == term]
