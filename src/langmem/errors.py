"""Exceptions raised by langmem.

Every error derives from :class:`LangMemError`, itself an ordinary :class:`Exception`, so
``except Exception`` always catches it. Mistakes in how the library is called are also
:class:`ValueError` (or :class:`ImportError` for a missing optional package), so code written
against the standard exceptions keeps working.

::

    LangMemError(Exception)
     ├── ConfigurationError(ValueError)       bad configuration or call: fix the code or config
     │    ├── NamespaceError                   a namespace template could not be filled safely
     │    ├── StoreNotFoundError               no store given and none in the LangGraph context
     │    ├── IndexMismatchError               a store file is indexed for another embedder/fields
     │    ├── StoreFileError                   a store file that cannot be opened or read
     │    └── RankingOptionError               a Ranking parameter out of its rule (names it)
     ├── InvalidInputError(ValueError)        input data that cannot be processed as given
     │    ├── TemplateVariableError            a prompt lost {variables} of its original
     │    └── TokenBudgetError                 messages that cannot fit the token budget given
     ├── StoreConnectionError(ConnectionError) a database server that cannot be used (PostgreSQL)
     ├── WriteConflictError                   a checked write found its memory changed since read
     ├── MissingDependencyError(ImportError)  an optional package is needed: names the pip command
     ├── ExecutorClosedError(RuntimeError)    a ReflectionExecutor given work after shutdown()
     ├── ModelOutputError                     the model kept answering in an unusable shape
     └── RerankerError                        a search's re-ranker raised or gave unusable scores

    RerankerWarning(LangMemError, UserWarning) a failed re-ranker fell back to the store's order

Messages say three things: the offending value, the rule it broke, and how to fix it.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigurationError",
    "ExecutorClosedError",
    "IndexMismatchError",
    "InvalidInputError",
    "LangMemError",
    "MissingDependencyError",
    "ModelOutputError",
    "NamespaceError",
    "RankingOptionError",
    "RerankerError",
    "RerankerWarning",
    "StoreConnectionError",
    "StoreFileError",
    "StoreNotFoundError",
    "TemplateVariableError",
    "TokenBudgetError",
    "WriteConflictError",
]


class LangMemError(Exception):
    """Root of every exception langmem raises."""


class ConfigurationError(LangMemError, ValueError):
    """The library was configured or called in a way it cannot work with.

    Upstream langmem derives this from ``BaseException``; ours is an ordinary ``Exception``
    (and a ``ValueError``) so that ``except Exception`` handlers see it.
    """


class NamespaceError(ConfigurationError):
    """A namespace template could not be filled, or a filled value would change its shape."""


class StoreNotFoundError(ConfigurationError):
    """No store was given and none is available from the LangGraph run context."""


class IndexMismatchError(ConfigurationError):
    """A store file's vectors were made for another index (embedder, dims or fields).

    Raised when a store is opened with an index other than the one recorded in its file, and by
    a handle whose file another process re-embedded meanwhile: ranking with vectors of another
    model would return wrong results silently. The message names both indexes and the fix
    (open with the recorded index, or re-embed the file with ``SqliteStore.reembed``).

    Attributes:
        recorded: the index recorded in the file, as text.
        requested: the index of the handle, as text.
    """

    def __init__(self, message: str, *, recorded: str = "", requested: str = ""):
        super().__init__(message)
        self.recorded = recorded
        self.requested = requested


class StoreFileError(ConfigurationError):
    """A store file cannot be used: not a SQLite database, corrupt, unreadable or read-only.

    Nothing is changed in the file; the message names the path and what to do.
    """


class RankingOptionError(ConfigurationError):
    """A :class:`~langmem.stores.ranking.Ranking` parameter was given a value its rule refuses
    (``Ranking(depth=0)``, ``--ranking restate=high``). The message names the parameter, the
    value, the rule and the fix; the parameter and the value are also attributes, for code
    that reports them in its own words (the CLI's ``--ranking``).

    Attributes:
        field: the parameter's name, e.g. ``"depth"``.
        value: the value given.
    """

    def __init__(self, message: str, *, field: str = "", value: object = None):
        super().__init__(message)
        self.field = field
        self.value = value


class InvalidInputError(LangMemError, ValueError):
    """Input data (messages, memories, trajectories...) that cannot be processed as given."""


class MissingDependencyError(LangMemError, ImportError):
    """An optional package is needed for the requested feature; the message names it."""


class ExecutorClosedError(LangMemError, RuntimeError):
    """Work was submitted to a :class:`~langmem.ReflectionExecutor` after its ``shutdown()``.
    Nothing was queued; create a new executor (on the same store, durable work is kept) to
    submit more. A ``RuntimeError`` too, as it was before it had its own class."""


class ModelOutputError(LangMemError):
    """The model's output stayed unusable after the allowed number of corrections.

    Attributes:
        attempts: how many model calls were made before giving up.
        problems: the last problems found in the model's output, as sent back to it.
    """

    def __init__(self, message: str, *, attempts: int = 0, problems: list[str] | None = None):
        super().__init__(message)
        self.attempts = attempts
        self.problems = list(problems or [])


class TemplateVariableError(InvalidInputError):
    """A rewritten prompt lacks template variables (``{name}``) that its original has.

    Attributes:
        missing: the variable names that are missing, in the original's order.
    """

    def __init__(self, missing: list[str]):
        names = ", ".join("{" + name + "}" for name in missing)
        super().__init__(
            f"the prompt lost template variable(s) {names}: every variable of the original prompt "
            "must stay, spelled exactly as before. Put them back into the new prompt."
        )
        self.missing = list(missing)


class TokenBudgetError(InvalidInputError):
    """Messages cannot be kept within the token budget that was given.

    Raised when a message (or an AI message with its tool results, which are never separated) is
    larger than what the budget leaves room for, so no summary could make the result fit.

    Attributes:
        tokens: the size, in tokens, of what did not fit.
        budget: the room that was available for it, in tokens.
        message_id: the id of the message concerned, when one message is the cause.
        result: work already done before the budget was found impossible (for example a
            ``SummarizationResult`` whose summary the model already wrote), or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        tokens: int,
        budget: int,
        message_id: str | None = None,
        result: object = None,
    ):
        super().__init__(message)
        self.tokens = tokens
        self.budget = budget
        self.message_id = message_id
        self.result = result


class StoreConnectionError(LangMemError, ConnectionError):
    """A store's database cannot be used: unreachable, refused the credentials, or lacks an
    extension. The message names the URL without its password, the cause and the fix."""


class WriteConflictError(LangMemError):
    """A write checked against what its writer read found the memory changed since (another
    writer got there first). :class:`~langmem.History` and the memory tools and managers catch
    it, rebuild their change record from what the store found and write again; it reaches the
    caller only when the memory kept changing through every attempt. Nothing of the failed
    write was stored.

    Attributes:
        found: ``(namespace, key)`` -> the item the store found (``None``: none), for each
            memory that was not as read.
    """

    def __init__(self, message: str, *, found: dict[tuple[tuple[str, ...], str], Any]):
        super().__init__(message)
        self.found = found


class RerankerError(LangMemError):
    """A search's re-ranker (``Ranking(rerank=...)``) raised, or returned scores the store cannot
    order by (not one finite number per text). The search returns nothing and nothing stored
    changes (a batch's writes wait for its re-ranked searches); with
    ``Ranking(rerank_fallback=True)`` the search keeps the store's own order instead
    (:class:`RerankerWarning`). An exception the re-ranker raised is the ``__cause__``.

    Attributes:
        reranker: the re-ranker that failed.
        query: the query it was asked about.
    """

    def __init__(self, message: str, *, reranker: object = None, query: str = ""):
        super().__init__(message)
        self.reranker = reranker
        self.query = query


class RerankerWarning(LangMemError, UserWarning):
    """A re-ranker failed and ``Ranking(rerank_fallback=True)`` kept the store's own order; the
    message is the :class:`RerankerError`'s."""
