"""A query's cosine with every row of the matrix, shared with the store's worker thread when the
machine has a core to spare, while the searching thread does the search's other work.

The cosines are a memory-bound loop of row-wise dot products that runs without the GIL. A
hybrid search hands the first :data:`SHARE` of the rows to the worker thread, meanwhile runs
its lexical side and then computes the other rows itself (each row is its own dot product, so
a cut matrix gives the same floats), waits for the worker, and picks the top rows. A worker
that has not started by then (its core was busy) is not waited for: the searching thread
computes its part too. Either way the floats are the same.

Measured on 2 cores (bench/search.py; bench/search_identity.py for the results): while the
lexical side took as long as the cosines (session 5), sharing rows gained nothing; with the
lexical side from memory (about 0.1 ms at 10k rows, session 6), the worker taking 55 % of the
rows gained 5-10 % wall. At 100k rows the cosines are bound by memory bandwidth, which a
second thread adds little to. A dense-only search, which has nothing else to do, was faster
with its rows shared only when the other core was really idle, and slower when it was busy
while the load average said otherwise, so it computes its cosines on the searching thread.
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

SHARE = 0.55
"""The worker's part of the rows; the searching thread computes the rest after its lexical side
(measured on 2 cores at 10k rows, session 6: shares 0.55-0.62 gained 5-10 % wall, 0.7 lost)."""

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
        # the side first: streaming the matrix through this core's caches evicts what the
        # side's many small steps read (measured: about twice their time right after it)
        result = side()
        dot(matrix, unit, out)
        return out, result, then(out)
    cut = int(size * SHARE)
    job = worker.submit(dot, matrix[:cut], unit, out[:cut])
    try:
        result = side()
        dot(matrix[cut:], unit, out[cut:])
    finally:
        started = not job.cancel()  # not started: its core is busy, compute them here
        if started:
            job.result()
    if not started:
        dot(matrix[:cut], unit, out[:cut])
    return out, result, then(out)
