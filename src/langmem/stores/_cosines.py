"""A query's cosine with every row of the matrix, on two cores when the machine has one spare.

The cosines are a memory-bound loop of row-wise dot products that runs without the GIL, and
every row is its own dot product: the matrix can be cut into two blocks, one computed by the
store's worker thread and one by the searching thread, and the result is exactly the same
floats as in one piece. The searching thread computes its block (if any: see :data:`HYBRID`),
then runs the search's other work (the lexical side: SQLite and Python), then waits for the
worker's block; the cut moves after every search towards where both finish together. A worker
that has not started by then (its core was busy) is not waited for: the searching thread
computes its block too.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from langmem.stores._vectors import dot

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from langmem.stores._vectors import VectorIndex

T = TypeVar("T")
U = TypeVar("U")

OVERLAP_ROWS = 4096
"""Below this many rows the cosines take microseconds: handing some to a thread costs more."""


def overlaps(vectors: VectorIndex) -> bool:
    """Whether to share the cosines with the worker thread: for a large enough matrix, when
    the machine has a core to spare (a 1-minute load average below the core count). Measured
    on 2 cores: when the other core idles, a 10k search saves about half of the cosines' time;
    when it is busy, the hand-off can wait for it. Either way the cosines are the same."""
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


class Pace:
    """Where to cut the matrix so that both threads finish together: the worker's share of the
    rows, corrected after every search by how long one thread waited for the other (which
    also absorbs the worker's start-up and the other work's length), and the time a row's
    cosine takes on this thread (a moving average)."""

    SMOOTHING = 0.2

    def __init__(self, least: float = 0.1) -> None:
        self.least = least  # the worker's share never drops below this
        self.share = max(0.5, least)
        self.row = 40e-9  # seconds per row of cosines

    def cut(self, size: int) -> int:
        """Rows ``[0, cut)`` go to the worker, the rest to this thread."""
        return int(size * self.share)

    def update(self, size: int, rows: int, row_seconds: float, early: float | None) -> None:
        """After a search: this thread computed ``rows`` in ``row_seconds``, and the worker
        finished ``early`` seconds before this thread was done (negative: after; ``None``: it
        never started, its core was busy)."""
        if rows >= OVERLAP_ROWS // 4:  # a block too small says little about the pace
            self.row += self.SMOOTHING * (row_seconds / rows - self.row)
        # move half the gap's rows to the thread that waited
        share = self.share * 0.8 if early is None else self.share + early / (2 * self.row * size)
        self.share = min(max(share, self.least), 1.0)


HYBRID = Pace(least=1.0)
"""Hybrid searches: the worker computes every cosine while this thread runs the lexical side
and analyzes its rows (about as long at 10k rows; at 100k the cosines are bound by memory
bandwidth, which a second thread does not add to). Measured on 2 cores: this thread taking a
block as well gained nothing and cost it CPU (its cache filled with matrix rows)."""
DENSE = Pace()
"""Dense-only searches: nothing else to do, so the rows are shared (0.27 ms instead of 0.37 ms
for 10k rows on an idle 2-core machine)."""


def cosines_beside(
    vectors: VectorIndex,
    query: NDArray[np.float32],
    side: Callable[[], T],
    worker: Executor | None,
    pace: Pace,
    then: Callable[[NDArray[np.float32]], U],
) -> tuple[NDArray[np.float32], T, U]:
    """The cosine of ``query`` with every row (dead rows included; mask them out),
    ``side()``, run on this thread meanwhile (see the module docstring), and ``then`` of the
    cosines (on the worker, when it computed every row)."""
    size = vectors.size
    matrix = vectors.matrix[:size]
    unit = vectors.unit(query)
    out = np.empty(size, dtype=np.float32)
    if worker is None or not overlaps(vectors):
        dot(matrix, unit, out)
        return out, side(), then(out)
    cut = pace.cut(size)
    after = then if cut == size else None
    job = worker.submit(_dot_until, matrix[:cut], unit, out[:cut], after)
    early: float | None = None
    followed: Any = None
    try:
        started = time.perf_counter()
        dot(matrix[cut:], unit, out[cut:])
        middle = time.perf_counter()
        result = side()
    finally:
        done = time.perf_counter()
        if job.cancel():  # the worker never started: its core is busy, do its rows here
            dot(matrix[:cut], unit, out[:cut])
            after = None
        else:
            finished, followed = job.result()
            early = done - finished
    pace.update(size, size - cut, middle - started, early)
    return out, result, (followed if after is not None else then(out))


def _dot_until(
    rows: NDArray[np.float32],
    unit: NDArray[np.float32],
    out: NDArray[np.float32],
    then: Callable[[NDArray[np.float32]], Any] | None,
) -> tuple[float, Any]:
    """:func:`dot` on the worker thread: when it finished (``time.perf_counter``), and
    ``then(out)`` when given."""
    dot(rows, unit, out)
    finished = time.perf_counter()
    return finished, (then(out) if then is not None else None)
