"""BLAS threading is turned down during an embedding call and restored afterwards."""

from __future__ import annotations

import threading

from langmem.embeddings import _blas


def test_single_threaded_blas_restores_the_previous_count() -> None:
    functions = _blas._find()
    if functions is None:  # another BLAS (e.g. Accelerate): the helper must do nothing
        with _blas.single_threaded_blas():
            pass
        return
    get, set_ = functions
    original = int(get())
    set_(2)
    try:
        seen: list[int] = []
        with _blas.single_threaded_blas():
            seen.append(int(get()))
            with _blas.single_threaded_blas():  # nested and concurrent users share the setting
                seen.append(int(get()))
            seen.append(int(get()))
            worker = threading.Thread(target=lambda: seen.append(int(get())))
            worker.start()
            worker.join()
        assert seen == [1, 1, 1, 1]
        assert int(get()) == 2
    finally:
        set_(original)
