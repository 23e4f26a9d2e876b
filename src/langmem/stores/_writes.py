"""Writes of the SQLite store: a batch planned, its texts embedded, its puts and deletes applied.

A batch is planned first: ops validated, puts deduplicated (last write wins), the texts they
index hashed. Embedding happens before the write transaction opens, so a slow model never holds
the lock, and a text already stored keeps its vector instead of being embedded again (the store
checks that every vector in the file belongs to its recorded index: see ``_identity``).
"""

from __future__ import annotations

import hashlib
import json
import numbers
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
from langgraph.store.base import (
    GetOp,
    InvalidNamespaceError,
    ListNamespacesOp,
    Op,
    PutOp,
    SearchOp,
    get_text_at_path,
    tokenize_path,
)

from langmem import _json_text
from langmem.errors import (
    ConfigurationError,
    InvalidInputError,
    ModelOutputError,
    NamespaceError,
)
from langmem.stores import _filters, _lengths

if TYPE_CHECKING:
    from numpy.typing import NDArray

MAX_PARAMS = 500  # values per IN (...) list, below every SQLite build's variable limit

IndexPaths = list[tuple[str, Any]]
"""``(field path, its tokenized form)`` per indexed field; ``"$"`` (the whole value) stays as is."""


def chunks(values: Sequence[Any], size: int = MAX_PARAMS) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def index_paths(fields: Iterable[str]) -> IndexPaths:
    return [(p, p if p == "$" else tokenize_path(p)) for p in fields]


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class StoreNamespaceError(InvalidNamespaceError, NamespaceError):
    """A namespace the store cannot hold: LangGraph's error, and a :class:`LangMemError` too."""


def _check_labels(labels: Iterable[Any], namespace: Any) -> None:
    if isinstance(labels, (str, bytes)):
        # a string is a sequence of one-letter labels: "abc" would be stored as ("a", "b", "c")
        raise StoreNamespaceError(
            f"Namespace {labels!r} is a {type(labels).__name__}, not a tuple of labels: it would "
            f"be stored as {tuple(labels)[:5]!r}. Pass a tuple, e.g. ({labels!r},)."
        )
    for label in labels:
        if not isinstance(label, str) or not label or "." in label or "\x00" in label:
            raise StoreNamespaceError(
                f"Invalid namespace label {label!r} in {namespace!r}: labels must be non-empty "
                "strings without '.' or NUL (a '.' would address another namespace)."
            )
        _check_text(label, lambda: f"namespace label in {tuple(namespace)!r}")


_STORED_TAIL = (
    "cannot be stored. Nothing was written. Decode the source text properly, or drop such "
    "characters (text.encode('utf-8', 'replace').decode())."
)


def _check_text(text: str, what: Callable[[], str], tail: str = _STORED_TAIL) -> None:
    """Refuse text SQLite cannot store: lone surrogates (text decoded with errors) are not UTF-8.
    ``what`` names the text in the error (built only then: every operation checks its texts);
    ``tail`` ends it (what follows for such text, and the fix)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(
            f"The {what()} {text[:200]!r} holds {text[exc.start : exc.end]!r} at position "
            f"{exc.start}, a lone surrogate, which is not valid Unicode text and {tail}"
        ) from None


def is_minutes(value: Any) -> bool:
    """Whether ``value`` is a number of minutes of 0 or more (a TTL; not a bool)."""
    return not isinstance(value, bool) and isinstance(value, numbers.Real) and float(value) >= 0


def _check_ttl(op: PutOp) -> None:
    ttl = op.ttl
    if ttl is None:
        return
    if not is_minutes(ttl):
        raise InvalidInputError(
            f"ttl={ttl!r} for key {op.key!r} in namespace {tuple(op.namespace)!r} is not a "
            "number of minutes of 0 or more. Nothing was written. Pass minutes as a number, "
            "or ttl=None for no expiry."
        )


def _check_page(op: SearchOp | ListNamespacesOp, call: str) -> None:
    """Refuse a limit or offset that is not a whole number >= 0 (a negative one used to give
    an empty page or be ignored, a fractional one was truncated)."""
    for name in ("limit", "offset"):
        value = getattr(op, name)
        if type(value) is int and value >= 0:  # the usual case, without the ABC check
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise InvalidInputError(
                f"{call}({name}={value!r}): {name} must be a whole number of 0 or more. Pass "
                f"e.g. {name}={10 if name == 'limit' else 0}."
            )
    depth = getattr(op, "max_depth", None)
    if depth is not None and (
        isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 0
    ):
        # a negative depth cut labels off the end (ns[:-1]): another answer, not an error
        raise InvalidInputError(
            f"{call}(max_depth={depth!r}): max_depth must be a whole number of 0 or more, or "
            "None for full namespaces. Pass e.g. max_depth=2."
        )


def _check_put(op: PutOp) -> None:
    if op.value is not None and not isinstance(op.value, Mapping):
        raise InvalidInputError(
            f"The value for key {op.key!r} in namespace {tuple(op.namespace)!r} is a "
            f"{type(op.value).__name__} ({_shown(op.value)}), not a dict: store values are "
            'JSON objects. Nothing was written. Wrap it, e.g. {"content": value}.'
        )
    if isinstance(op.key, str):
        _check_text(op.key, lambda: f"key in namespace {tuple(op.namespace)!r}")
    _check_ttl(op)


def _check_got_key(op: GetOp) -> None:
    """Refuse a get whose key holds a lone surrogate (no stored key can: puts refuse them)
    with a clear error; it raised the encoder's ``UnicodeEncodeError``."""
    _check_text(
        op.key,
        lambda: f"key in namespace {tuple(op.namespace)!r}",
        "no item has such a key (puts refuse it). Decode the source text properly, or drop "
        "such characters.",
    )


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 200 else shown[:200] + "..."


def check_namespace(op: Op) -> None:
    """Refuse namespace labels that the ``.``-joined prefix column cannot hold faithfully."""
    if isinstance(op, (GetOp, PutOp)):
        _check_labels(op.namespace, op.namespace)
    elif isinstance(op, SearchOp):
        _check_labels(op.namespace_prefix, op.namespace_prefix)
    elif isinstance(op, ListNamespacesOp):
        for condition in op.match_conditions or ():
            _check_labels(condition.path, condition.path)


def value_json(op: PutOp) -> str:
    """The JSON text stored for a put's value; a clear error when it is not serialisable."""
    try:
        text = json.dumps(dict(op.value or {}), ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"The value for key {op.key!r} in namespace {tuple(op.namespace)!r} cannot be "
            f"stored as JSON ({exc}): {_shown(op.value)}. Nothing was written. Convert it first, "
            "e.g. datetime -> .isoformat(), set -> list, bytes -> base64 text, objects -> dicts."
        ) from exc
    _check_text(text, lambda: f"value for key {op.key!r} in namespace {tuple(op.namespace)!r}")
    return text


def stored_json(op: PutOp) -> str:
    """The value's JSON as the embedded store keeps it: :func:`value_json`, with infinite
    numbers written ``1e999`` / ``-1e999``, which SQLite's JSON functions read as infinity and
    ``json.loads`` as ``math.inf``. (``json.dumps`` writes ``Infinity``, which SQLite cannot
    parse: one such value made every filtered search of its namespace fail.) NaN, which no JSON
    number stands for, is refused naming where it is."""
    text = value_json(op)  # refuses what is not JSON, and lone surrogates
    if "NaN" not in text and "Infinity" not in text:  # how json.dumps spells them
        return text
    try:
        return _json_text.dumps(
            dict(op.value or {}), refuse_nan=True, ensure_ascii=False, separators=(",", ":")
        )
    except _json_text.NaNFound as found:
        raise InvalidInputError(
            f"The value for key {op.key!r} in namespace {tuple(op.namespace)!r} holds NaN at "
            f"{found.path}: JSON has no NaN, so it cannot be stored (and SQLite's JSON "
            "functions, which filters use, refuse it). Nothing was written. Store None or a "
            "string such as 'nan' instead."
        ) from None


@dataclass
class Write:
    """One put (or delete) after last-write-wins deduplication, with its texts to index."""

    op: PutOp
    prefix: str
    texts: list[tuple[str, str, bytes]] = field(default_factory=list)  # (field, text, hash)
    value: str | None = None  # the value as JSON; ``None`` for a delete
    stamps: tuple[str, str] | None = None  # (created_at, updated_at) kept by a restore
    expiry: tuple[float, float] | None = None  # (ttl_minutes, expires_at) kept by a restore


@dataclass
class Plan:
    """A batch split into reads and writes, plus what must be embedded before it runs."""

    ops: list[Op]
    writes: list[Write]
    queries: list[str]
    texts: dict[bytes, str]  # hash -> text, for every text the writes index


def texts_of(op: PutOp, fields: IndexPaths | None) -> list[tuple[str, str]]:
    """``(field, text)`` pairs ``op`` indexes; ``fields`` is ``None`` in a store without index."""
    if fields is None or op.value is None or op.index is False:
        return []
    paths = fields if op.index is None else index_paths(op.index)
    out: list[tuple[str, str]] = []
    for path, tokens in paths:
        texts = [whole_text(op.value)] if tokens == "$" else get_text_at_path(op.value, tokens)
        if len(texts) == 1:
            out.append((path, texts[0]))
        else:
            out.extend((f"{path}.{i}", text) for i, text in enumerate(texts))
    return out


def whole_text(value: Any) -> str:
    """The text indexed for the field ``"$"`` (the whole value), as recent LangGraph releases
    write it: sorted keys, characters as they are. LangGraph 1.0.0 (our lowest supported)
    wrote ``\\u00e8`` for ``è``, so a non-ASCII word of such a value was not found by its
    words, and was embedded as escaped text.

    A negative zero is written ``0.0``: PostgreSQL's ``jsonb`` keeps no sign of zero, and the
    re-ranking stage reads this text of the value as the store returns it (the text embedded
    and the text re-ranked are then the same on both stores)."""
    text = json.dumps(dict(value), sort_keys=True, ensure_ascii=False)
    if "-0.0" not in text:  # no negative zero (nor a string holding "-0.0"): the common case
        return text
    return json.dumps(_unsigned_zeros(dict(value)), sort_keys=True, ensure_ascii=False)


def _unsigned_zeros(value: Any) -> Any:
    if isinstance(value, float):
        return 0.0 if value == 0.0 else value
    if isinstance(value, dict):
        return {key: _unsigned_zeros(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_unsigned_zeros(item) for item in value]
    return value


def check_op(op: Any) -> None:
    """Refuse an operation the store would run wrongly, naming the value, the rule and the fix:
    an unknown operation, a namespace it cannot hold, a limit or offset that is not a whole
    number >= 0, an unknown filter operator, a query that is not text, a value that is not a
    dict, a key or text with lone surrogates, a TTL that is not minutes >= 0. (Values that are
    not JSON are refused when they are serialised, by :func:`value_json`.)"""
    if not isinstance(op, (GetOp, PutOp, SearchOp, ListNamespacesOp)):
        raise ConfigurationError(
            f"Unknown store operation {op!r}: use GetOp, PutOp, SearchOp or ListNamespacesOp."
        )
    check_namespace(op)
    if isinstance(op, GetOp) and isinstance(op.key, str):
        _check_got_key(op)
    if isinstance(op, ListNamespacesOp):
        _check_page(op, "list_namespaces")
    elif isinstance(op, PutOp):
        if not op.namespace:
            raise StoreNamespaceError("Namespace cannot be empty.")
        _check_put(op)
    elif isinstance(op, SearchOp):
        _check_page(op, "search")
        _filters.validate(op.filter)
        if op.query is not None and not isinstance(op.query, str):
            raise InvalidInputError(
                f"Search query {_shown(op.query)} is of type {type(op.query).__name__}: a "
                "query is text (or None to list by filter). Pass str(query) for its text."
            )


def plan(ops: Iterable[Op], fields: IndexPaths | None, *, embeds_queries: bool) -> Plan:
    """Validate ``ops`` and plan them (``embeds_queries``: the store can embed search queries)."""
    listed = list(ops)
    latest: dict[tuple[tuple[str, ...], str], PutOp] = {}
    queries: dict[str, None] = {}
    for op in listed:
        check_op(op)
        if isinstance(op, PutOp):
            latest[(tuple(op.namespace), str(op.key))] = op
        elif isinstance(op, SearchOp) and op.query and embeds_queries:
            queries[op.query] = None
    writes: list[Write] = []
    texts: dict[bytes, str] = {}
    for (namespace, _), op in latest.items():
        write = Write(
            op=op,
            prefix=".".join(namespace),
            value=None if op.value is None else stored_json(op),
        )
        for name, text in texts_of(op, fields):
            digest = text_hash(text)
            texts[digest] = text
            write.texts.append((name, text, digest))
        writes.append(write)
    return Plan(ops=listed, writes=writes, queries=list(queries), texts=texts)


def lookup(conn: sqlite3.Connection, plan: Plan) -> tuple[list[bytes], dict[bytes, bytes]]:
    """Split the plan's texts into those to embed and those whose vector is stored."""
    known: dict[bytes, bytes] = {}
    for chunk in chunks(list(plan.texts)):
        for digest, blob in conn.execute(
            "SELECT text_hash, embedding FROM langmem_vectors"
            f" WHERE text_hash IN ({','.join('?' * len(chunk))})",
            list(chunk),
        ):
            known[digest] = blob
    return [digest for digest in plan.texts if digest not in known], known


def to_blobs(
    vectors: Sequence[Sequence[float]],
    count: int,
    dims: int,
    texts: Sequence[str] | None = None,
) -> list[bytes]:
    """The float32 bytes of ``count`` document vectors, checked against the index ``dims`` and
    for NaN or infinite values (``texts`` name the offending one)."""
    try:
        array = np.asarray(vectors, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"The embedding function returned {vectors!r:.80} for {count} texts, which is not "
            f"a list of number vectors ({exc}): nothing was written. Fix the embedding "
            "function: it must return one list of floats per text."
        ) from None
    if array.ndim == 2 and array.shape[0] != count:
        raise ConfigurationError(
            f"The embedding function returned {array.shape[0]} vector(s) for {count} texts: "
            "it must return one vector per text, in order. Nothing was written."
        )
    if array.shape != (count, dims):
        raise ConfigurationError(
            f"The embedding function returned vectors of shape {array.shape} for {count} "
            f"texts, but index dims={dims}: set dims to the model's vector length."
        )
    _check_finite(array, texts)
    return [row.tobytes() for row in array]


def _check_finite(
    array: NDArray[np.float32], texts: Sequence[str] | None, what: str = "text"
) -> None:
    """Refuse vectors holding NaN or infinity: stored, they give every search NaN scores."""
    bad = ~np.isfinite(array).reshape(len(array), -1).all(axis=1)
    if not bad.any():
        return
    row = int(np.flatnonzero(bad)[0])
    which = f"{what} {texts[row][:80]!r}" if texts is not None else f"{what} number {row + 1}"
    raise ModelOutputError(
        f"The embedding function returned a vector with NaN or infinite values for the {which} "
        f"({int(bad.sum())} of {len(array)} vectors): stored or searched, it would give NaN "
        "scores, so nothing was written or searched. Check the embedding model (its precision, "
        "its input length), or retry.",
        attempts=1,
    )


def query_vector(vector: Sequence[float], dims: int, query: str = "") -> NDArray[np.float32]:
    """A query's vector as float32, checked against the index ``dims`` and for NaN/infinity."""
    array = np.asarray(vector, dtype=np.float32)
    if array.shape != (dims,):
        raise ConfigurationError(
            f"The embedding function returned a query vector of shape {array.shape}, but "
            f"index dims={dims}: set dims to the model's vector length."
        )
    if not np.isfinite(array).all():
        _check_finite(array.reshape(1, -1), [query], what="search query")
    return array


def apply(
    conn: sqlite3.Connection,
    writes: list[Write],
    blobs: dict[bytes, bytes],
    now: float,
    *,
    indexed: bool,
) -> None:
    """Upsert or delete each write's item and bring its vector rows in line with its texts.

    Runs inside the batch's write transaction; ``blobs`` holds a vector for every new text.
    A vector row whose (field, text) is unchanged is kept as it is.
    """
    stamp = datetime.fromtimestamp(now, tz=timezone.utc).isoformat()
    for write in writes:
        op = write.op
        key = str(op.key)
        if op.value is None:
            conn.execute(
                "DELETE FROM langmem_items WHERE prefix = ? AND key = ?", (write.prefix, key)
            )
            continue
        ttl = op.ttl
        expires = now + float(ttl) * 60.0 if ttl is not None else None
        if write.expiry is not None:
            ttl, expires = write.expiry
        created, updated = write.stamps or (stamp, stamp)
        # a restore keeps the given created_at; an ordinary put keeps the stored one
        keep = "excluded.created_at" if write.stamps else "langmem_items.created_at"
        conn.execute(
            "INSERT INTO langmem_items"
            " (prefix, key, value, created_at, updated_at, expires_at, ttl_minutes)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (prefix, key) DO UPDATE SET value = excluded.value,"
            f" created_at = {keep}, updated_at = excluded.updated_at,"
            " expires_at = excluded.expires_at, ttl_minutes = excluded.ttl_minutes",
            (
                write.prefix,
                key,
                write.value if write.value is not None else stored_json(op),
                created,
                updated,
                expires,
                ttl,
            ),
        )
        item_id = conn.execute(
            "SELECT id FROM langmem_items WHERE prefix = ? AND key = ?", (write.prefix, key)
        ).fetchone()[0]
        if not indexed:
            continue
        wanted = {(name, digest): text for name, text, digest in write.texts}
        stale = []
        for vector_id, name, digest in conn.execute(
            "SELECT id, field_name, text_hash FROM langmem_vectors WHERE item_id = ?",
            (item_id,),
        ).fetchall():
            if wanted.pop((name, digest), None) is None:
                stale.append((vector_id,))
        if stale:
            conn.executemany("DELETE FROM langmem_vectors WHERE id = ?", stale)
        if wanted:
            _lengths.insert(
                conn,
                [
                    (item_id, name, text, digest, blobs[digest])
                    for (name, digest), text in wanted.items()
                ],
            )
