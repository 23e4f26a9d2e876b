"""A query's cosine with every row of the matrix, on the store's worker thread when the machine
has a core to spare, while the searching thread does the search's other work.

The cosines are a memory-bound loop of row-wise dot products that runs without the GIL. A
hybrid search hands them, and picking the top rows from them, to the worker thread, and
meanwhile runs its lexical side (SQLite and Python) and analyzes the lexical rows; it then
waits for the worker. A worker that has not started by then (its core was busy) is not waited
for: the searching thread computes the cosines itself. Either way the floats are the same.

Measured on 2 cores (bench/search.py, bench/search_identity.py for the results): letting the
searching thread compute a block of rows as well (each row is its own dot product, so a cut
matrix gives the same floats) gained nothing for hybrid searches, whose other work takes about
as long as the cosines at 10k rows, and cost the searching thread CPU (its cache filled with
matrix rows); at 100k rows the cosines are bound by memory bandwidth, which a second thread
did not add to. A dense-only search, which has nothing else to do, was faster with its rows
shared only when the other core was really idle, and slower when it was busy while the load
average said otherwise, so it computes its cosines on the searching thread.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from langmem.stores._vectors import dot

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from langmem.stores._vectors import VectorIndex

T = TypeVar("T")
U = TypeVar("U")

OVERLAP_ROWS = 4096
"""Below this many rows the cosines take microseconds: handing them to a thread costs more."""


def overlaps(vectors: VectorIndex) -> bool:
    """Whether to hand the cosines to the worker thread: for a large enough matrix, when the
    machine has a core to spare (a 1-minute load average below the core count). Measured on
    2 cores: when the other core idles, a 10k search saves the lexical side's time; when it is
    busy, the hand-off can wait for it. Either way the cosines are the same."""
    if vectors.size < OVERLAP_ROWS:
        return False
    now = time.monotonic()
    if now - _spare[1] > 1.0:  # os.cpu_count and getloadavg cost tens of microseconds
        try:
            _spare[:] = [os.getloadavg()[0] < _CORES, now]
        except OSError:  # no load average on this platform
            _spare[:] = [True, now]
    return bool(_spare[0])


_CORES = os.cpu_count() or 1
_spare: list[float] = [True, -math.inf]  # whether a core was spare, when that was checked


def cosines_beside(
    vectors: VectorIndex,
    query: NDArray[np.float32],
    side: Callable[[], T],
    worker: Executor | None,
    then: Callable[[NDArray[np.float32]], U],
) -> tuple[NDArray[np.float32], T, U]:
    """The cosine of ``query`` with every row (dead rows included; mask them out), ``side()``
    run on this thread meanwhile, and ``then`` of the cosines (on the worker, when it ran)."""
    size = vectors.size
    matrix = vectors.matrix[:size]
    unit = vectors.unit(query)
    out = np.empty(size, dtype=np.float32)
    if worker is None or not overlaps(vectors):
        dot(matrix, unit, out)
        return out, side(), then(out)
    job = worker.submit(_cosines_then, matrix, unit, out, then)
    try:
        result = side()
    finally:
        started = not job.cancel()  # not started: its core is busy, compute them here
        followed = job.result() if started else None
    if not started:
        dot(matrix, unit, out)
        return out, result, then(out)
    assert followed is not None
    return out, result, followed[0]


def _cosines_then(
    matrix: NDArray[np.float32],
    unit: NDArray[np.float32],
    out: NDArray[np.float32],
    then: Callable[[NDArray[np.float32]], U],
) -> tuple[U]:
    """:func:`dot`, then ``then(out)`` (on the worker thread)."""
    dot(matrix, unit, out)
    return (then(out),)
