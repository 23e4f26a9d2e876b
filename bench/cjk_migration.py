"""How long migration 9 (CJK bigrams, ``langmem.stores._lexical_texts``) takes on a file
written by langmem before it: 100k English rows (nothing to re-derive) and 10k CJK rows.

Each file is written by the langmem of git revision ``--before`` (its ``src/`` in a temporary
folder, run in a subprocess), copied, and opened by this checkout: the first open applies
migration 9. Baselines: re-deriving every row instead (what a migration that re-indexed the
whole file would cost: FTS5's ``'rebuild'``, every word counted again, every length counted
again, in one transaction on another copy), opening the migrated file again, and opening the
original with the old code. Printed: the seconds of each and the ratios.

    python bench/cjk_migration.py [--english 100000] [--cjk 10000] [--before 4ff5dc3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _lengths, _term_docs

ROOT = Path(__file__).resolve().parent.parent
INDEX = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text"]}

_WRITER = """
import json, random, sys, time
from langgraph.store.base import PutOp
from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _lengths, _term_docs
path, kind, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(5)
words = [f"w{n}" for n in range(5000)] + "alice lives lisbon tea moved oslo flight gate".split()
han = "我住在东京每天早上喝咖啡他上海的一家银行工作来月京都美術館行予定日本語学生先生時間電話"
kana = "のにはをがでとしたいるますですかこれそれあのテキストカタコーヒー"
def text(i):
    if kind == "english":
        return " ".join(rng.choice(words) for _ in range(rng.randint(6, 25)))
    run = "".join(rng.choice(han + kana) for _ in range(rng.randint(10, 40)))
    return run + "。" + "".join(rng.choice(han) for _ in range(rng.randint(5, 20)))
index = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text"]}
started = time.perf_counter()
with SqliteStore(path, index=index) as store:
    for start in range(0, count, 5000):
        end = min(count, start + 5000)
        store.batch([PutOp(("m",), f"k{i}", {"text": text(i)}) for i in range(start, end)])
print(json.dumps({"written": time.perf_counter() - started}))
"""

_OPEN = """
import sys, time
from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _lengths, _term_docs
started = time.perf_counter()
index = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text"]}
SqliteStore(sys.argv[1], index=index).close()
print(time.perf_counter() - started)
"""


def old_code(ref: str, folder: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


def run(code: Path, script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(
        [sys.executable, "-c", script, *args], check=True, capture_output=True, env=env
    )
    return done.stdout.decode().strip()


def opened(path: Path) -> float:
    started = time.perf_counter()
    SqliteStore(path, index=INDEX).close()  # type: ignore[arg-type]
    return time.perf_counter() - started


def every_row(path: Path) -> float:
    """Seconds to re-index, re-count and re-measure every row of ``path``."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO langmem_fts (langmem_fts) VALUES ('rebuild')")
        _term_docs.rebuild(conn)
        _lengths.recount(conn)
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


def measure(kind: str, count: int, code: Path, folder: Path) -> None:
    original = folder / f"{kind}.sqlite"
    json.loads(run(code, _WRITER, str(original), kind, str(count)))
    old_open = float(run(code, _OPEN, str(original)))
    whole = folder / f"{kind}-whole.sqlite"
    shutil.copyfile(original, whole)
    every = every_row(whole)
    copy = folder / f"{kind}-copy.sqlite"
    shutil.copyfile(original, copy)
    migrating = opened(copy)
    again = opened(copy)
    print(
        f"{count:>7} {kind:<8} rows: open with migration 9 {migrating:6.3f} s;"
        f" every row re-derived {every:6.3f} s (ratio {migrating / every:5.2f});"
        f" open again {again:6.3f} s, by the old code {old_open:6.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--english", type=int, default=100_000)
    parser.add_argument("--cjk", type=int, default=10_000)
    parser.add_argument("--before", default="4ff5dc3", help="git revision that writes the files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        code = old_code(args.before, folder)
        load = os.getloadavg()[0]
        print(f"files written by {args.before}, opened by this checkout (load {load:.1f})")
        measure("english", args.english, code, folder)
        measure("cjk", args.cjk, code, folder)


if __name__ == "__main__":
    main()
