"""Lexical search (SQLite FTS5) and how it is fused with dense search.

Score of a hybrid result (``SearchItem.score``), higher is better, always in ``[-1, 1]``::

    score = cosine + LEXICAL_WEIGHT * coverage * (1 - cosine)

- ``cosine``: the dense cosine similarity between the query and the item's best indexed text,
  in ``[-1, 1]``.
- ``coverage``: the share of the query's information found word for word in that text, in
  ``[0, 1]``: the summed IDF (inverse document frequency in this store) of the informative query
  words the text contains, over the summed IDF of all of them. A rare name or a flight number
  weighs a lot, a common word little, stop words nothing; a query word no stored text contains
  weighs the most (and matches nothing). Words compare after a light stemming (:func:`stem`).

Per query, words only count when they say something: if no candidate text reaches a coverage of
``LEXICAL_GATE``, the query is answered by cosine alone (``score = cosine``). That keeps
paraphrased questions, whose words the store does not know, in the dense ranker's hands, while a
flight number, a name or a date that a text contains lifts that text. A lexical match moves an
item part of the way to 1, in proportion to how much of the query it holds and independently of
the text's length, so items that match equally (say, every memory naming the same person) keep
their semantic order. This is how the fusion avoids dragging the better ranker down, as plain
reciprocal-rank fusion does. Without vectors the score is the coverage alone.

Candidates are the best dense rows and the best BM25 rows (FTS5), so an item found only by its
words is considered even when its vector is far from the query's.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping

LEXICAL_GATE = 0.3
"""Least coverage some candidate must reach for words to count in a query's ranking."""
LEXICAL_WEIGHT = 0.7
"""How far a full lexical match moves an item's cosine towards 1.

Both constants were picked on the development splits of bench/retrieval.py (seeds 1 and 2); the
numbers it reports come from the separate test split (seed 3)."""

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# Words so common that matching them says nothing; dropping them keeps FTS queries fast.
_STOPWORD_TEXT = """
a about above after again all am an and any are as at be been before being below
between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we
were what when where which while who whom whose why will with would you your yours
yourself yourselves
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def tokens(text: str) -> list[str]:
    """Words as the FTS5 ``unicode61 remove_diacritics 2`` tokenizer sees them.

    Example:
        >>> tokens("Zoë's flight LH-1234, 07:45")
        ['zoe', 's', 'flight', 'lh', '1234', '07', '45']
    """
    return _TOKEN.findall(fold(text))


def inflections(root: str) -> list[str]:
    """Words that :func:`stem` may reduce to ``root`` (checked by the caller), to look up.

    Example:
        >>> "lives" in inflections(stem("lived"))
        True
    """
    bases = [root, root + "e"]
    return bases + [base + suffix for base in bases for suffix in ("s", "es", "ed")]


def query_terms(text: str) -> list[str]:
    """The informative words of a query: no stop words, no single letters, no repeats.

    Example:
        >>> query_terms("What did Alice say about the 2019 trip? Alice's 2 bags")
        ['alice', 'say', '2019', 'trip', '2', 'bags']
    """
    seen: dict[str, None] = {}
    for word in tokens(text):
        if word in _STOPWORDS or (len(word) == 1 and not word.isdigit()):
            continue
        seen.setdefault(word, None)
    return list(seen)


def fts_query(terms: Iterable[str]) -> str | None:
    """An FTS5 ``MATCH`` expression for texts holding any of ``terms`` (``None`` if none).

    Example:
        >>> fts_query(["alice", "2019"])
        '"alice" OR "2019"'
    """
    quoted = [f'"{term}"' for term in terms]
    return " OR ".join(quoted) if quoted else None


def idf(documents: int, containing: int) -> float:
    """BM25's inverse document frequency, kept positive."""
    return math.log(1.0 + (documents - containing + 0.5) / (containing + 0.5))


def stem(word: str) -> str:
    """A light English suffix strip, so "lives", "lived" and "live" compare equal.

    Example:
        >>> [stem(w) for w in ["lives", "lived", "live", "living", "4821", "glass"]]
        ['liv', 'liv', 'liv', 'living', '4821', 'glass']
    """
    if word.isdigit():
        return word
    # no "-ing": too many -ing words are nouns of their own ("a living", "a meeting")
    for suffix in ("ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def coverage(text_tokens: Iterable[str], weights: Mapping[str, float]) -> float:
    """Share of the query's IDF mass (``weights``: term -> IDF) present in a text.

    Words are compared after :func:`stem`, so a plural or a past tense still counts.

    Example:
        >>> coverage(["flights", "lh1234"], {"flight": 1.0, "lh1234": 3.0, "late": 1.0})
        0.8
    """
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    present = {stem(word) for word in text_tokens}
    return sum(w for term, w in weights.items() if stem(term) in present) / total


def fold(text: str) -> str:
    """Lowercase without diacritics, as the FTS5 tokenizer compares words."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    return "".join(
        c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c)
    )


def coverage_in_text(text: str, forms: Mapping[str, str], weights: Mapping[str, float]) -> float:
    """:func:`coverage` of one text, given the stored forms of each query term.

    The text's words are compared with the forms as they are (no stemming per text word): the
    forms already hold every stored inflection of each term.

    Args:
        text: the indexed text.
        forms: stored word -> the query term it is a form of.
        weights: query term -> IDF.

    Example:
        >>> forms = {"flight": "flight", "flights": "flight", "lh1234": "lh1234"}
        >>> weights = {"flight": 1.0, "lh1234": 3.0, "late": 1.0}
        >>> coverage_in_text("Two flights, LH1234x", forms, weights)
        0.2
    """
    total = sum(weights.values())
    if total <= 0 or not forms:
        return 0.0
    found = {forms[word] for word in _TOKEN.findall(fold(text)) if word in forms}
    return sum(weights[term] for term in found) / total


def fuse(cosine: float | None, lexical: float) -> float:
    """Hybrid score of one item (see the module docstring); ``cosine=None``: lexical only.

    Example:
        >>> fuse(0.5, 0.0), fuse(0.5, 1.0), fuse(None, 0.25)
        (0.5, 0.85, 0.25)
    """
    if cosine is None:
        return lexical
    return cosine + LEXICAL_WEIGHT * lexical * (1.0 - cosine)
