"""PostgreSQL's reads for the second ranking pass (see :mod:`._feedback`): the same
statistics and candidates as the embedded store's, read with SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langgraph.store.base import SearchOp

from langmem.stores import _pg_candidates, _pg_lexical, _pg_search
from langmem.stores import ranking as rules

if TYPE_CHECKING:
    from langmem.stores._postgres import PostgresStore

Scope = tuple[tuple[str, list[Any]], tuple[str, list[Any]], _pg_search.QueryVector]
"""The namespace condition, the item condition and the query vector's literal (see
:func:`_pg_lexical.lexical_side`)."""


class PostgresSource:
    """:class:`_feedback.Source` over ``store_vectors``' word index; ``rows`` holds the first
    pass's rows, then (after :meth:`candidates`) the texts the expansion terms found."""

    def __init__(
        self,
        store: PostgresStore,
        cur: Any,
        op: SearchOp,
        first: tuple[list[dict[str, Any]], _pg_candidates.Origins],
        totals: tuple[rules.Corpus, int],
        ranking: rules.Ranking,
        scope: Scope,
        want: int,
    ) -> None:
        self.store, self.cur, self.op = store, cur, op
        self.rows, self.origin = first
        self.corpus, self.tokens = totals  # the store's texts and their words in all
        self.ranking, self.scope, self.want = ranking, scope, want

    def documents(self, positions: list[int]) -> list[rules.Document]:
        return [_pg_candidates.cached_document(self.rows[at]["lm_text"] or "") for at in positions]

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        words = {t: rules.forms(t) for t in terms}
        counts = self.store.word_counts.count(self.cur, [w for ws in words.values() for w in ws])
        documents = self.corpus.documents
        return {t: min(sum(counts[w] for w in words[t]), documents) for t in terms}

    def identities(self, items: list[tuple[str, str]]) -> dict[Any, tuple[str, str]]:
        return {item: item for item in items}  # items are (prefix, key) already

    def candidates(self, terms: list[str], fetch: list[str]) -> list[rules.Candidate]:
        if fetch:
            _, found = _pg_lexical.lexical_side(
                self.store,
                self.cur,
                self.op,
                fetch,
                self.corpus,
                self.tokens,
                self.scope,
                self.want,
            )
            self.rows, extra = _pg_candidates.merged(self.rows, found)
            if extra:
                self.origin = {**self.origin, **_pg_candidates.origins(extra, self.ranking)}
        words = _pg_candidates.term_words(terms)
        return _pg_candidates.build_candidates(self.rows, words, self.origin)
