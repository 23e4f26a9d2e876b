"""Lexical (BM25 through SQLite FTS5) search and its fusion with dense search.

Score of a hybrid result (``SearchItem.score``), higher is better, always in ``[-1, 1]``::

    score = cosine + LEXICAL_WEIGHT * lexical * (1 - cosine)

where ``cosine`` is the dense cosine similarity of the item's best indexed text (``[-1, 1]``) and
``lexical`` is its BM25 score divided by the best BM25 score among the candidates of this query
(``[0, 1]``; ``0`` when no query word occurs in the item). An item no query word matches keeps
its plain cosine; a lexical match moves it part of the way towards ``1``, most when its words are
the best lexical match. So names, numbers and rare words lift the items that contain them while
the semantic ranking stays in charge of everything else.

Without vectors (no embedding configured) the score is the normalised BM25 score alone.
"""

from __future__ import annotations

import re

LEXICAL_WEIGHT = 0.6
"""How far the best lexical match moves an item's cosine towards 1 (tuned on bench/retrieval.py's
development split; the reported numbers come from its separate test split)."""

_WORD = re.compile(r"\w+", re.UNICODE)
# Words so common that matching them says nothing; dropping them keeps FTS queries fast.
_STOPWORD_TEXT = """
a about above after again all am an and any are as at be been before being below
between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours yourself
yourselves
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def fts_query(text: str) -> str | None:
    """An FTS5 ``MATCH`` expression: any of the query's informative words (``None`` if none).

    Example:
        >>> fts_query("What did Alice say about the 2019 trip?")
        '"alice" OR "say" OR "2019" OR "trip"'
    """
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in _STOPWORDS and word not in seen:
            seen[word] = None
    if not seen:
        return None
    return " OR ".join(f'"{word}"' for word in seen)


def fuse(cosine: float | None, lexical: float) -> float:
    """Hybrid score of one item (see the module docstring); ``cosine=None``: lexical only.

    Example:
        >>> fuse(0.5, 0.0), fuse(0.5, 1.0), fuse(None, 0.25)
        (0.5, 0.8, 0.25)
    """
    if cosine is None:
        return lexical
    return cosine + LEXICAL_WEIGHT * lexical * (1.0 - cosine)
