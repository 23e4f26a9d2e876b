"""Cost of checked history writes: each recorded change now checks, in the store's own write
transaction, that the memory is still what its writer read (``langmem._expect``).

Measured per write, this tree against git ``--baseline`` (default ``main``, its ``src/`` run
from a temporary copy), in alternating fresh processes so machine load hits both alike:

- ``put``: ``History.put`` of one memory, over and over (one writer: the check never fails);
- ``tool update``: the manage tool's update of one memory (the managers' write path);
- ``tool create``: the manage tool's create of a new memory (a new UUID key: no check needed);
- ``4 threads``: four threads putting one memory at once; here some of the baseline's records
  are wrong (counted: a record whose previous value is not the value the record before it
  wrote), ours retry (the cost of a conflict: a rolled-back write sent again).

For each: CPU seconds per write (``time.process_time``, all threads; load distorts it less)
and wall seconds per write (median of ``--rounds`` processes), on the embedded SQLite store and,
with ``--pg URL`` (a server where databases may be created), on PostgreSQL. The load average is
printed before and after.

Run: ``.venv/bin/python bench/history_writes.py [--baseline main] [--pg URL] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _search_corpus import baseline_src  # noqa: E402

NS = ("memories", "bench")
WRITES = 200
THREADS = 4


@contextmanager
def opened(kind: str, folder: Path, pg: str | None) -> Iterator[Any]:
    from langmem.stores import SqliteStore
    from langmem.testing import HashingEmbeddings

    index: Any = {"dims": 64, "embed": HashingEmbeddings(64)}
    if kind == "sqlite":
        with SqliteStore(folder / f"{uuid.uuid4().hex}.db", index=index) as store:
            yield store
        return
    import psycopg

    from langmem.stores import PostgresStore

    assert pg is not None
    name = f"b_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    base, _, query = pg.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    try:
        with PostgresStore.from_url(url, index=index, pool_size=THREADS + 1) as store:
            store.setup()
            yield store
    finally:
        with psycopg.connect(pg, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def timed(writes: int, run: Callable[[], None]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) per write of ``run``."""
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return (time.process_time() - cpu) / writes, (time.perf_counter() - wall) / writes


def worker(kind: str, pg: str | None) -> dict[str, Any]:
    from langmem import Guards, History, configure_trust, create_manage_memory_tool

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, opened(kind, Path(tmp), pg) as store:
        history = History(store)
        history.put(NS, "warm", {"content": "warm"})

        def puts() -> None:
            for n in range(WRITES):
                history.put(NS, "one", {"content": f"value {n}"})

        out["put"] = timed(WRITES, puts)
        tool = configure_trust(create_manage_memory_tool(NS, store=store), guards=Guards.off())
        history.put(NS, "tool", {"content": "start"})

        def updates() -> None:
            for n in range(WRITES):
                tool.invoke({"action": "update", "id": "tool", "content": f"value {n}"})

        out["tool update"] = timed(WRITES, updates)

        def creates() -> None:
            for n in range(WRITES):
                tool.invoke({"action": "create", "content": f"fact {n}"})

        out["tool create"] = timed(WRITES, creates)
        each = WRITES // THREADS

        def contended() -> None:
            def write(t: int) -> None:
                for n in range(each):
                    history.put(NS, "shared", {"content": f"{t}-{n}"})

            threads = [threading.Thread(target=write, args=(t,)) for t in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        out[f"{THREADS} threads"] = timed(each * THREADS, contended)
        records = history.history(NS, "shared")
        before = [None, *(r["value"] for r in records)]
        out["wrong"] = sum(r["previous"] != b for r, b in zip(records, before))
        out["creates"] = sum(r["op"] == "create" for r in records)
        out["records"] = len(records)
    return out


def run_side(side: str, kind: str, pg: str | None, path: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = path
    command = [sys.executable, __file__, "--worker", kind]
    if pg:
        command += ["--pg", pg]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{side} worker failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="main", help="git ref to compare with")
    parser.add_argument("--pg", help="PostgreSQL server URL (databases are created and dropped)")
    parser.add_argument("--rounds", type=int, default=5, help="processes per side and store")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.pg)))
        return
    print(f"load average before: {os.getloadavg()}")
    kinds = ["sqlite", *(["postgres"] if args.pg else [])]
    with tempfile.TemporaryDirectory() as tmp:
        theirs_src = str(baseline_src(args.baseline, Path(tmp)))
        for kind in kinds:
            rows: dict[str, list[dict[str, Any]]] = {"baseline": [], "ours": []}
            for _ in range(args.rounds):  # alternate, so load hits both alike
                rows["baseline"].append(run_side("baseline", kind, args.pg, theirs_src))
                rows["ours"].append(run_side("ours", kind, args.pg, None))
            report(kind, args.baseline, rows)
    print(f"load average after: {os.getloadavg()}")


def report(kind: str, ref: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    print(f"\n{kind}: per write, median of {len(rows['ours'])} processes each ({ref} = baseline)")
    print(f"  {'case':<12} {'side':<9} {'CPU ms':>8} {'wall ms':>8}   CPU ours/baseline")
    for case in ("put", "tool update", "tool create", f"{THREADS} threads"):
        cpu = {s: statistics.median(r[case][0] for r in rows[s]) * 1e3 for s in rows}
        wall = {s: statistics.median(r[case][1] for r in rows[s]) * 1e3 for s in rows}
        for side in ("baseline", "ours"):
            ratio = f"   {cpu['ours'] / cpu['baseline']:.2f}x" if side == "ours" else ""
            print(f"  {case:<12} {side:<9} {cpu[side]:8.3f} {wall[side]:8.3f}{ratio}")
    for side in ("baseline", "ours"):
        wrong = [r["wrong"] for r in rows[side]]
        creates = [r["creates"] for r in rows[side]]
        print(
            f"  {THREADS} threads, {side}: records whose previous value is not the one "
            f"replaced, per run {wrong}; 'create' records {creates} (of "
            f"{rows[side][0]['records']}; correct: 0 and 1)"
        )


if __name__ == "__main__":
    main()
