"""PostgreSQL + pgvector: namespaced search quality and speed, LangGraph's defaults against ours.

100k items (384-d clustered vectors, short texts with a Zipf vocabulary) in one database; three
namespaces hold 0.3 %, 3 % and 30 % of the rows, the rest lives in other namespaces. Clusters
are spread over namespaces, as users' memories are. For each namespace, 100 queries (limit 10):

- LangGraph: ``langgraph.store.postgres.PostgresStore`` as shipped (its HNSW index, default
  ``hnsw.ef_search = 40``, no iterative scan); recall against the exact dense top 10.
- ours: ``langmem.stores.PostgresStore`` (hybrid on; exact scan of small namespaces, iterative
  HNSW with ``ef_search = 100`` for large ones); recall against the same store forced to scan
  exactly (the exact hybrid ranking).

Before measuring, the store's tables and indexes are read into the server's cache
(``pg_prewarm``), as a server that has been serving them holds them, and the server's
``shared_buffers`` is printed beside the store's size (a store that does not fit is slower).

Also: how many of the 10 wanted results come back, p50/p95 latency, and write throughput
(``put`` one item at a time) with 1 and 4 processes. Queries get precomputed vectors through a
lookup "embedding", so no model time is measured. Targets: 10 of 10 results in every
namespace; recall@10 >= 0.95 with p50 <= 10 ms.

    python bench/postgres.py [--url postgresql://...] [--items 100000] [--queries 100]

Without ``--url`` it uses (and starts when needed) the test server of scripts/pg-test-server.sh
and a database ``langmem_bench``, kept between runs (loading takes a few minutes).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from langmem.stores import PostgresStore  # noqa: E402
from langmem.stores._pg_writes import insert_vectors  # noqa: E402

DIMS = 384
SHARES = {"small": 0.003, "mid": 0.03, "large": 0.30}


class LookupEmbeddings(Embeddings):
    """Precomputed vectors for known texts; anything else gets a fixed random vector."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors
        self.rng = np.random.default_rng(0)

    def _one(self, text: str) -> list[float]:
        found = self.vectors.get(text)
        if found is None:
            found = self.rng.standard_normal(DIMS).astype(np.float32)
            found /= np.linalg.norm(found)
        return [float(x) for x in found]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._one(text)


def corpus(n: int, seed: int = 11) -> tuple[list[str], list[str], np.ndarray]:
    """(namespace per item, text per item, unit vectors)."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((2000, DIMS)).astype(np.float32)
    labels = rng.integers(0, len(centers), n)
    vectors = centers[labels] + 0.45 * rng.standard_normal((n, DIMS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vocab = np.array([f"w{i}" for i in range(20_000)])
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    words = rng.choice(len(vocab), size=(n, 10), p=weights / weights.sum())
    texts = [" ".join(vocab[row]) + f" item{i}" for i, row in enumerate(words)]
    order = rng.permutation(n)
    namespaces = ["other." + str(i % 40) for i in range(n)]
    start = 0
    for name, share in SHARES.items():
        size = int(n * share)
        for i in order[start : start + size]:
            namespaces[i] = f"bench.{name}"
        start += size
    return namespaces, texts, vectors


def server_url(given: str | None) -> str:
    if given:
        return given
    started = subprocess.run(
        [str(ROOT / "scripts" / "pg-test-server.sh"), "start"],
        capture_output=True,
        text=True,
        check=True,
    )
    base = started.stdout.strip().rsplit("/", 1)[0]
    with psycopg.connect(started.stdout.strip(), autocommit=True) as admin:
        if not admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = 'langmem_bench'"
        ).fetchone():
            admin.execute("CREATE DATABASE langmem_bench")
    return base + "/langmem_bench"


def load(url: str, namespaces: list[str], texts: list[str], vectors: np.ndarray) -> None:
    index = {"dims": DIMS, "embed": LookupEmbeddings({}), "fields": ["text"]}
    store = PostgresStore.from_url(url, index=index)  # type: ignore[arg-type]
    with store._transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM store_vectors WHERE prefix LIKE 'bench.%%'")
        have = int(cur.fetchone()["n"])
    expected = sum(int(len(texts) * s) for s in SHARES.values())
    if have == expected:
        store.close()
        return
    print(f"loading {len(texts)} items (once; kept in the database)...", flush=True)
    started = time.perf_counter()
    with store._transaction() as cur:
        cur.execute("TRUNCATE store CASCADE")
        cur.execute("DROP INDEX IF EXISTS store_vectors_embedding_idx")
    for lo in range(0, len(texts), 2000):
        hi = min(lo + 2000, len(texts))
        with store._transaction() as cur:
            cur.execute(
                "INSERT INTO store (prefix, key, value)"
                " SELECT p, k, jsonb_build_object('text', t)"
                " FROM unnest(%s::text[], %s::text[], %s::text[]) AS r(p, k, t)",
                (namespaces[lo:hi], [f"k{i}" for i in range(lo, hi)], texts[lo:hi]),
            )
            insert_vectors(
                cur,
                [
                    (namespaces[i], f"k{i}", "text", texts[i], vectors[i].tolist())
                    for i in range(lo, hi)
                ],
            )
    print(f"  rows in {time.perf_counter() - started:.0f} s; building the HNSW index...")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute(
            "CREATE INDEX store_vectors_embedding_idx ON store_vectors"
            " USING hnsw (embedding vector_cosine_ops)"
        )
        conn.execute("ANALYZE store")
        conn.execute("ANALYZE store_vectors")
    print(f"  loaded in {time.perf_counter() - started:.0f} s", flush=True)
    store.close()


def timed(
    search: Any, queries: list[tuple[str, str]], cpu: list[float] | None = None
) -> tuple[list[list[str]], list[float]]:
    """Each query's keys and wall milliseconds (``cpu``: this process's CPU milliseconds)."""
    results, times = [], []
    for namespace, text in queries:
        c0, t0 = time.process_time(), time.perf_counter()
        hits = search(tuple(namespace.split(".")), query=text, limit=10)
        times.append((time.perf_counter() - t0) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - c0) * 1000)
        results.append([h.key for h in hits])
    return results, times


def server_cpu(url: str) -> float:
    """CPU seconds used so far by the server processes serving this database (from /proc: the
    server must run on this machine; 0 when it cannot be read). Load distorts it less than
    wall time: client CPU + server CPU per search is what a quiet machine's latency nears."""
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [
            r[0]
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        ]
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def cache_note(url: str) -> str:
    """The server's ``shared_buffers`` beside the size of the store's tables and indexes: a
    search that finds its pages outside PostgreSQL's cache costs more server CPU (~40 % more
    in the 30 % namespace with 256 MB against 1 GB; docs/scaling.md)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT setting::bigint * 8192 FROM pg_settings"
            " WHERE name = 'shared_buffers'),"
            " (SELECT sum(pg_total_relation_size(oid)) FROM pg_class"
            " WHERE relname IN ('store', 'store_vectors') AND relkind = 'r')"
        ).fetchone()
    shared, size = (int(row[0]), int(row[1] or 0)) if row else (0, 0)
    mb = 1024 * 1024
    note = (
        f"server cache: shared_buffers {shared // mb} MB; the store's tables and indexes"
        f" {size // mb} MB"
    )
    if shared < size:
        note += (
            "\nWARNING: the store does not fit the server's cache, searches read pages from the"
            " OS cache (slower); restart the test server to get scripts/pg-test-server.sh's"
            " setting (scripts/pg-test-server.sh stop, then start)"
        )
    return note


def prewarm(url: str) -> str:
    """Read the store's tables and indexes into the server's cache (``pg_prewarm``), as a
    server that has been serving them holds them; a freshly started one (``make test`` stops
    the test server) would otherwise read them during the timed searches."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            row = conn.execute(
                "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c"
                " WHERE c.relname IN ('store', 'store_vectors') AND c.relkind = 'r'"
                " OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN"
                " ('store'::regclass, 'store_vectors'::regclass))"
            ).fetchone()
    except psycopg.Error as exc:
        return f"not prewarmed ({str(exc).strip().splitlines()[0]}): the first searches read pages"
    return f"prewarmed: {int(row[0] if row else 0) * 8 // 1024} MB read into the server's cache"


def load_average() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def _stage(sql: str) -> str:
    if sql.startswith("WITH near"):
        return "dense"
    if sql.startswith("WITH hits"):
        return "lexical"
    if "AS w" in sql:
        return "word counts"
    if "coalesce(sum(lm_length)" in sql:
        return "text count"
    return "other"


def stages(store: PostgresStore, queries: list[tuple[str, str]]) -> dict[str, list[float]]:
    """Server-side milliseconds (planning + execution, EXPLAIN ANALYZE) of each stage of our
    searches: every statement a search runs is recorded, then replayed under EXPLAIN ANALYZE
    in one transaction with the same settings (``SET LOCAL``s replayed as they were)."""
    recorded: list[tuple[str, Any]] = []
    original = psycopg.Cursor.execute

    def record(self: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        recorded.append((str(query), params))
        return original(self, query, params, **kw)

    out: dict[str, list[float]] = {}
    for namespace, text in queries:
        recorded.clear()
        psycopg.Cursor.execute = record  # type: ignore[method-assign]
        try:
            store.search(tuple(namespace.split(".")), query=text, limit=10)
        finally:
            psycopg.Cursor.execute = original  # type: ignore[method-assign]
        with store._transaction() as cur:
            for sql, params in recorded:
                if sql.startswith(("SET", "RESET")):
                    cur.execute(sql, params)
                elif sql.startswith(("SELECT", "WITH")) and "pg_attribute" not in sql:
                    cur.execute("EXPLAIN (ANALYZE) " + sql, params)
                    plan = "\n".join(r["QUERY PLAN"] for r in cur.fetchall())
                    spent = sum(
                        float(m) for m in re.findall(r"(?:Planning|Execution) Time: ([\d.]+)", plan)
                    )
                    out.setdefault(_stage(sql), []).append(spent)
    return out


def recall(found: list[list[str]], truth: list[list[str]]) -> float:
    return statistics.mean(
        len(set(f) & set(t)) / max(len(t), 1) for f, t in zip(found, truth, strict=True)
    )


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def _writer(url: str, seconds: float, name: str, out: Any) -> None:
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    store = PostgresStore.from_url(
        url,
        index={"dims": DIMS, "embed": LookupEmbeddings({}), "fields": ["text"]},  # type: ignore[typeddict-item]
        pool_size=2,
        setup=False,
    )
    count, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        store.put(("writes", name), f"k{count}", {"text": f"write {count} w{rng.integers(1000)}"})
        count += 1
    store.close()
    out.put(count)


def writes(url: str, processes: int, seconds: float = 8.0) -> float:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(url, seconds, f"p{processes}-{i}", out))
        for i in range(processes)
    ]
    for p in procs:
        p.start()
    total = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def concurrent_searches(
    url: str, index: Any, queries: list[tuple[str, str]], n: int = 50
) -> list[str]:
    """Wall ms of ``n`` searches: one after another (sync), and all at once through ``asearch``
    (ours: ``abatch`` runs ``batch`` on the event loop's default thread pool); LangGraph's
    native ``AsyncPostgresStore`` on a pool of the same size for scale (cosine only, its
    defaults: not the same work)."""
    import asyncio

    from langgraph.store.postgres import AsyncPostgresStore
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    picked = (queries * (n // max(len(queries), 1) + 1))[:n]
    lines = []
    with PostgresStore.from_url(url, index=index, pool_size=10) as ours:  # type: ignore[arg-type]
        timed(ours.search, picked)  # warm: counts, pool
        t0 = time.perf_counter()
        timed(ours.search, picked)
        one_by_one = (time.perf_counter() - t0) * 1000

        async def together(store: Any) -> float:
            t0 = time.perf_counter()
            await asyncio.gather(
                *(store.asearch(tuple(ns.split(".")), query=q, limit=10) for ns, q in picked)
            )
            return (time.perf_counter() - t0) * 1000

        asyncio.run(together(ours))
        threaded = min(asyncio.run(together(ours)) for _ in range(3))
        lines.append(
            f"ours: {n} searches one after another {one_by_one:.0f} ms; {n} asearch at once"
            f" (threads) {threaded:.0f} ms"
        )

    async def native() -> float:
        async with AsyncConnectionPool(
            url,
            max_size=10,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        ) as pool:
            store = AsyncPostgresStore(pool, index=index)  # type: ignore[arg-type]
            await together(store)
            return min([await together(store) for _ in range(3)])

    lines.append(
        f"LangGraph AsyncPostgresStore (native async, cosine only): {n} asearch at once"
        f" {asyncio.run(native()):.0f} ms"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--no-writes", action="store_true", help="skip the write throughput")
    parser.add_argument("--no-async", action="store_true", help="skip concurrent asearch")
    args = parser.parse_args()
    url = server_url(args.url)
    namespaces, texts, vectors = corpus(args.items)
    load(url, namespaces, texts, vectors)

    rng = np.random.default_rng(5)
    lookup: dict[str, np.ndarray] = {}
    plan: dict[str, list[tuple[str, str]]] = {}
    members = {
        name: [i for i, ns in enumerate(namespaces) if ns == f"bench.{name}"] for name in SHARES
    }
    for name, rows in members.items():
        plan[name] = []
        for j, i in enumerate(rng.choice(rows, args.queries, replace=False)):
            noisy = vectors[i] + 0.9 * rng.standard_normal(DIMS).astype(np.float32) / np.sqrt(DIMS)
            text = " ".join(texts[i].split()[:4]) + f" q{name}{j}"
            lookup[text] = (noisy / np.linalg.norm(noisy)).astype(np.float32)
            plan[name].append((f"bench.{name}", text))
    embed = LookupEmbeddings(lookup)
    index = {"dims": DIMS, "embed": embed, "fields": ["text"]}

    from langgraph.store.postgres import PostgresStore as LangGraphStore

    ours = PostgresStore.from_url(url, index=index)  # type: ignore[arg-type]
    exact = PostgresStore.from_url(url, index=index)  # type: ignore[arg-type]
    exact.search_mode = "exact"
    print(f"\n{args.items} items, {DIMS}-d, {args.queries} queries per namespace, limit 10")
    print(cache_note(url))
    print(prewarm(url))
    print("p50/p95: wall ms per search (client side); cpu: this process's CPU ms per search")
    print("(p50, mean); server: the server's CPU ms per search (mean, from /proc); load: 1-minute")
    print("load average after the namespace's timed runs (2-core machine, shared)\n")
    header = (
        f"{'namespace':<16}{'store':<11}{'results':>8}{'recall@10':>10}{'p50 ms':>8}{'p95 ms':>8}"
        f"{'cpu p50':>8}{'mean':>8}{'server':>8}  load"
    )
    print(header)
    print("-" * len(header))
    summary: list[tuple[str, float, float, float, float]] = []
    with LangGraphStore.from_conn_string(url, index=index) as baseline:  # type: ignore[arg-type]
        for name, queries in plan.items():
            keys = np.array([f"k{i}" for i in members[name]])
            matrix = vectors[members[name]]
            truth_dense = [
                keys[np.argsort(-(matrix @ lookup[text]))[:10]].tolist() for _, text in queries
            ]
            truth_hybrid, _ = timed(exact.search, queries)
            timed(baseline.search, queries[:10])  # warm
            timed(ours.search, queries[:10])
            base_cpu: list[float] = []
            our_cpu: list[float] = []
            served = server_cpu(url)
            base_found, base_t = timed(baseline.search, queries, base_cpu)
            base_server = (server_cpu(url) - served) * 1000 / len(queries)
            base_load = load_average()
            served = server_cpu(url)
            our_found, our_t = timed(ours.search, queries, our_cpu)
            our_server = (server_cpu(url) - served) * 1000 / len(queries)
            our_load = load_average()
            label = f"{name} ({SHARES[name] * 100:g} %)"
            for store_name, found, t, cpu, server, truth, when in (
                ("LangGraph", base_found, base_t, base_cpu, base_server, truth_dense, base_load),
                ("ours", our_found, our_t, our_cpu, our_server, truth_hybrid, our_load),
            ):
                print(
                    f"{label:<16}{store_name:<11}{statistics.mean(map(len, found)):>8.1f}"
                    f"{recall(found, truth):>10.3f}{pct(t, 50):>8.2f}{pct(t, 95):>8.2f}"
                    f"{pct(cpu, 50):>8.2f}{statistics.mean(cpu):>8.2f}{server:>8.2f}  {when}"
                )
                label = ""
            dense_recall = recall(our_found, truth_dense)
            print(f"{'':<16}{'(ours vs exact dense top 10: ' + f'{dense_recall:.3f})':<40}")
            summary.append(
                (
                    name,
                    recall(base_found, truth_dense),
                    recall(our_found, truth_hybrid),
                    pct(base_t, 50),
                    pct(our_t, 50),
                )
            )
    print("\nratios (ours / LangGraph): recall, p50")
    for name, base_r, our_r, base_p, our_p in summary:
        print(f"  {name:<6} recall x{our_r / max(base_r, 1e-9):.2f}   p50 x{our_p / base_p:.2f}")

    print("\nours, server side per stage (EXPLAIN ANALYZE planning + execution, ms p50 / p95;")
    print("n: statements run in the namespace's queries; word counts and the text count are")
    print("cached for 10 s per store handle, so most searches skip them):")
    for name, queries in plan.items():
        spent = stages(ours, queries)
        shown = "  ".join(
            f"{stage} {pct(v, 50):.2f} / {pct(v, 95):.2f} (n={len(v)})"
            for stage, v in sorted(spent.items())
        )
        print(f"  {name:<6} {shown}  [{load_average()}]")
    ours.close()
    exact.close()
    if not args.no_async:
        print(f"\nconcurrent searches (mid namespace) [{load_average()}]:")
        for line in concurrent_searches(url, index, plan["mid"]):
            print("  " + line)
    if args.no_writes:
        return

    one, four = writes(url, 1), writes(url, 4)
    print(f"\nwrites (put, one item per call): 1 process {one:.0f}/s, 4 processes {four:.0f}/s"
          f" (x{four / one:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
