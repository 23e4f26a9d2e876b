"""The analyzer of the hybrid ranking: how a text becomes the terms BM25 counts.

Text is lowercased, diacritics are removed (as SQLite FTS5's ``unicode61 remove_diacritics 2``),
split into runs of letters and digits, stop words (:data:`STOPWORDS`), single letters and words
longer than :data:`MAX_WORD_BYTES` are dropped, and each word is reduced by :func:`stem`. Of a
text (or query) over :data:`LEXICAL_CHARS` bytes, the first ``LEXICAL_CHARS`` characters are
read (:func:`lexical_cut`). Both stores analyze texts and queries with these functions
("Analyzer" in :mod:`langmem.stores.ranking`, which re-exports them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

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

MAX_WORD_BYTES = 2000
"""The longest word (in UTF-8 bytes, as :func:`tokens` gives it) that is a term: a longer one
(a pasted blob, a hash chain) is dropped from texts and queries alike, on both stores.
PostgreSQL holds at most 2047 bytes per word of a ``tsvector`` or ``tsquery``; a term's forms
(:func:`forms`) add up to 5 bytes, and forms over this length are not looked up either."""

LEXICAL_CHARS = 250_000
"""How many characters (code points) the lexical side reads of a text or query longer than this
many bytes in UTF-8 (:func:`lexical_cut`); the rest is not split into words (the dense side
reads what the embedder reads). PostgreSQL holds at most 1 MB of distinct words in one
``tsvector``: 250,000 characters give at most 1,000,000 bytes of words, whatever the script.
The SQLite store's FTS5 index reads the same characters (its triggers cut the text with
``substr``)."""
_FAST_WORD = MAX_WORD_BYTES // 4  # a word of at most this many characters fits in any script
_FAST_TEXT = LEXICAL_CHARS // 4  # a text of at most this many characters is read whole


_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s", "y", "e")
_MIN_STEM = 3


@dataclass(frozen=True)
class Document:
    """An analyzed text: term -> occurrences, and its length in terms."""

    terms: Mapping[str, int]
    length: int


def fold(text: str) -> str:
    """Lowercase without diacritics, as FTS5's ``unicode61 remove_diacritics 2``."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """Words as FTS5's ``unicode61 remove_diacritics 2`` tokenizer sees them.

    Example:
        >>> tokens("Zoë's flight LH-1234, 07:45")
        ['zoe', 's', 'flight', 'lh', '1234', '07', '45']
    """
    folded = fold(text if len(text) <= _FAST_TEXT else lexical_cut(text))
    # on ASCII text ``[^\W_]`` is exactly [a-z0-9] (lowercased): the same words, found faster
    return (_ASCII_TOKEN if folded.isascii() else _TOKEN).findall(folded)


def lexical_cut(text: str) -> str:
    """What the lexical side reads of ``text``: all of it up to :data:`LEXICAL_CHARS` bytes in
    UTF-8, else its first :data:`LEXICAL_CHARS` characters, as the SQLite store's index reads
    it (``substr``, which also stops at a NUL character: only the SQLite store holds one).

    Example:
        >>> len(lexical_cut("word " * 100_000))
        250000
    """
    if len(text) <= _FAST_TEXT or _utf8_length(text) <= LEXICAL_CHARS:
        return text
    return text[:LEXICAL_CHARS].partition("\x00")[0]


def _utf8_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


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
    return (
        word not in STOPWORDS
        and (len(word) > 1 or word.isdigit())
        and (len(word) <= _FAST_WORD or fits(word))
    )


def _kept_short(word: str) -> bool:
    """:func:`_kept` of a word of an ASCII text no longer than ``_FAST_WORD`` (it fits)."""
    return word not in STOPWORDS and (len(word) > 1 or word.isdigit())


def fits(word: str) -> bool:
    """Whether ``word`` is at most :data:`MAX_WORD_BYTES` long in UTF-8 (a lone surrogate, which
    no store holds, counts its 3 bytes)."""
    return len(word) <= _FAST_WORD or len(word.encode("utf-8", "surrogatepass")) <= MAX_WORD_BYTES


def analyze(text: str) -> list[str]:
    """The terms of ``text``: folded words, no stop words or single letters, stemmed.

    Example:
        >>> analyze("Alice lived in Lisbon, then moved to Oslo in 2019")
        ['alic', 'liv', 'lisbon', 'mov', 'oslo', '2019']
    """
    return [term for term in map(term_of, tokens(text)) if term]


@lru_cache(maxsize=65536)
def term_of(word: str) -> str:
    """The term a word becomes, ``""`` for a dropped word (one cached call per word)."""
    return stem(word) if _kept(word) else ""


def length(text: str) -> int:
    """How many terms :func:`analyze` finds in ``text`` (cheaper: no stemming)."""
    # most texts: no word can be long (folding expands other characters up to 18-fold)
    kept = _kept_short if len(text) <= _FAST_WORD and text.isascii() else _kept
    return sum(1 for word in tokens(text) if kept(word))


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
    if not fits(term):
        return []
    if not term.isalpha():
        return [term]
    found = [term] if stem(term) == term else []
    return found + [term + s for s in _SUFFIXES if stem(term + s) == term and fits(term + s)]
