"""The analyzer of the hybrid ranking: how a text becomes the terms BM25 counts.

Text is lowercased, diacritics are removed (as SQLite FTS5's ``unicode61 remove_diacritics 2``),
split into runs of letters and digits, stop words (:data:`STOPWORDS`), single letters and words
longer than :data:`MAX_WORD_BYTES` are dropped, and each word is reduced by :func:`stem`. The
words are those of the text's lexical text (:func:`lexical_text`): of a text (or query) over
:data:`LEXICAL_CHARS` bytes, its first ``LEXICAL_CHARS`` characters (:func:`lexical_cut`), and
in those, runs of Chinese, Japanese and Korean characters as their overlapping bigrams
(:mod:`._cjk`); the cut comes first. Both stores analyze texts and queries with these
functions, and their lexical indexes read the same lexical text ("Analyzer" in
:mod:`langmem.stores.ranking`, which re-exports them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from langmem.stores import _cjk
from langmem.stores._cjk import CHANGED, CHARACTER, PIECES, bigrams, widths

__all__ = [
    "LEXICAL_CHARS",
    "MAX_WORD_BYTES",
    "STOPWORDS",
    "Document",
    "analyze",
    "document",
    "fits",
    "fold",
    "forms",
    "length",
    "lexical_cut",
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

MAX_WORD_BYTES = 2000
"""The longest word (in UTF-8 bytes, as :func:`tokens` gives it) that is a term: a longer one
(a pasted blob, a hash chain) is dropped from texts and queries alike, on both stores.
PostgreSQL holds at most 2047 bytes per word of a ``tsvector`` or ``tsquery``; a term's forms
(:func:`forms`) add up to 5 bytes, and forms over this length are not looked up either."""

LEXICAL_CHARS = 250_000
"""How many characters (code points) the lexical side reads of a text or query longer than this
many bytes in UTF-8 (:func:`lexical_cut`); the rest is not split into words (the dense side
reads what the embedder reads). PostgreSQL holds at most 1 MB of distinct words in one
``tsvector``: 250,000 characters give at most 1,000,000 bytes of words, whatever the script
(a CJK character, which starts up to two bigrams, counts two). The SQLite store's FTS5 index
reads the same text (``lm_lexical``: :func:`lexical_text`)."""
FAST_WORD = MAX_WORD_BYTES // 4  # a word of at most this many characters fits in any script
_FAST_TEXT = LEXICAL_CHARS // 4  # a text of at most this many characters is read whole


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
    :func:`lexical_text` (the text, cut by :func:`lexical_cut`, with CJK runs as bigrams).

    Example:
        >>> tokens("Zoë's flight LH-1234, 07:45")
        ['zoe', 's', 'flight', 'lh', '1234', '07', '45']
        >>> tokens("東京に住む Kim 서울")
        ['東京', '京に', 'に住', '住む', 'kim', '서울']
    """
    text = text if len(text) <= _FAST_TEXT else lexical_cut(text)
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


def lexical_cut(text: str) -> str:
    """What the lexical side reads of ``text``: all of it up to :data:`LEXICAL_CHARS` bytes in
    UTF-8, else its first :data:`LEXICAL_CHARS` characters, a CJK character or width form
    counting two (it starts up to two bigrams in :func:`lexical_text`: 8 bytes of words at
    most). A NUL character is read as any other separator, whatever the text's length, as
    FTS5 reads it (PostgreSQL refuses texts holding one: nothing to match). The words of the
    result, bigrams included, hold at most 1,000,000 bytes, what one ``tsvector`` holds.

    Example:
        >>> len(lexical_cut("word " * 100_000))
        250000
        >>> len(lexical_cut("東京" * 200_000))
        125000
    """
    if len(text) <= _FAST_TEXT or _utf8_length(text) <= LEXICAL_CHARS:
        return text
    head = text[:LEXICAL_CHARS]
    if _DOUBLE_RUN.search(head) is None:  # most long texts: no character counts two
        return head
    used = end = 0  # the weight of text[:end]
    for run in _DOUBLE_RUN.finditer(head):
        if used + run.start() - end >= LEXICAL_CHARS:
            break
        used += run.start() - end
        if used + 2 * (run.end() - run.start()) >= LEXICAL_CHARS:
            return text[: run.start() + (LEXICAL_CHARS - used) // 2]
        used += 2 * (run.end() - run.start())
        end = run.end()
    return text[: end + LEXICAL_CHARS - used]


_DOUBLE_RUN = re.compile(f"{CHANGED}+")
"""The characters :func:`lexical_cut` counts two: CJK characters (they become bigrams) and
full-width and half-width forms (they may become CJK characters)."""


def lexical_text(text: str) -> str:
    """The text the lexical side reads of ``text``: :func:`lexical_cut` first, then CJK runs as
    bigrams and width forms as ordinary characters (:func:`langmem.stores._cjk.lexical_text`).
    :func:`tokens` splits it (without writing it out), the SQLite store's FTS5 index reads it
    (``lm_lexical`` where it differs from the text) and PostgreSQL splits it into ``lm_words``.

    Example:
        >>> lexical_text("东京" * 200_000)[:9]
        ' 东京 京东 东京'
        >>> len(lexical_text("东京" * 200_000).split())
        124999
    """
    return _cjk.lexical_text(lexical_cut(text))


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
    # a lone CJK character is a word (a run of one: 猫, 年), not an initial
    return (
        word not in STOPWORDS
        and (len(word) > 1 or word.isdigit() or CHARACTER.match(word) is not None)
        and (len(word) <= FAST_WORD or fits(word))
    )


def _kept_short(word: str) -> bool:
    """:func:`_kept` of a word of an ASCII text no longer than ``FAST_WORD`` (it fits)."""
    return word not in STOPWORDS and (len(word) > 1 or word.isdigit())


def fits(word: str) -> bool:
    """Whether ``word`` is at most :data:`MAX_WORD_BYTES` long in UTF-8 (a lone surrogate, which
    no store holds, counts its 3 bytes)."""
    return len(word) <= FAST_WORD or len(word.encode("utf-8", "surrogatepass")) <= MAX_WORD_BYTES


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
    # most texts: no word can be long (folding expands other characters up to 18-fold)
    kept = _kept_short if len(text) <= FAST_WORD and text.isascii() else _kept
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
