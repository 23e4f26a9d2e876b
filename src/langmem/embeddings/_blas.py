"""Run numpy's OpenBLAS single-threaded for a while, when it can be controlled.

On a machine whose cores are busy with other work, OpenBLAS's own threads wait for each other:
measured on a shared 2-core machine, one MiniLM query took 24 ms (p95 460 ms) with its 2 BLAS
threads and 9 ms (p95 11 ms) with 1, and a batch ran 2.2x faster. The MiniLM runner therefore
turns BLAS threading off while it runs and spreads batches over its own threads instead, which
degrade gracefully when a core is taken.

The thread count is process-wide in OpenBLAS: while any embedding call runs, other threads'
BLAS calls also run single-threaded; the previous count is restored when the last call ends.
Without a controllable OpenBLAS (another BLAS, another numpy build) this does nothing.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_SYMBOLS = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)
_lock = threading.Lock()
_users = 0
_saved = 0
_functions: tuple[Any, Any] | None = None
_searched = False


def _find() -> tuple[Any, Any] | None:
    """numpy's bundled OpenBLAS get/set-threads functions, if there are any."""
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy is a dependency
        return None
    base = os.path.dirname(numpy.__file__)
    for path in sorted(glob.glob(os.path.join(base, "..", "numpy.libs", "*openblas*"))):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for getter, setter in _SYMBOLS:
            if hasattr(library, getter) and hasattr(library, setter):
                return getattr(library, getter), getattr(library, setter)
    return None


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Within this block, numpy's OpenBLAS uses one thread (nesting and threads are fine)."""
    global _users, _saved, _functions, _searched
    with _lock:
        if not _searched:
            _functions, _searched = _find(), True
        if _functions is not None and _users == 0:
            _saved = int(_functions[0]())
            _functions[1](1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _functions is not None and _users == 0 and _saved > 1:
                _functions[1](_saved)
