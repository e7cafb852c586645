"""One server against the same catalog hash-partitioned over 2 and 4 postgres_fdw shards, all on
this machine (issue 16's bar): recall@10 at the same probes, with and without a 10% filter, the
work each shard does per query, and latency.

    .deps/venv/bin/python bench/scale.py [--rows 1000000] [--queries 1000] [--lists 1000]
        [--probes 10] [--fetch-sizes 100,10] [--out bench/scale.md]

Data: synthetic 64-d vectors around 1,000 Gaussian centres (N(0, 1) centres, N(0, 1) noise), a
gender (men/women 45% each, unisex 10%) and a category (10 values, 10% each) per row,
independent of the vector (the hard case for a filter: passing rows are in every list). One
coordinator cluster holds the single-server table products_1 (fashrec_ivf (gender, embedding,
category) WITH (lists, probes)) and the parents products_2 and products_4, hash-partitioned by
id into postgres_fdw foreign tables (server option extensions 'fashrec'); four shard clusters
hold the partitions, each with its own index WITH (the same lists, probes): every shard's lists
are smaller, so the rows a query reads in all stay those of one server. Queries: 1,000 new points
drawn the same way, sequentially from one client; ground truth by numpy over every row. The
filter is category = 'c3'. Each shard's work is PostgreSQL's own statistics of the shard's
backends that served the coordinator (pg_statio_user_indexes / _tables, pg_stat_user_indexes),
read once they have flushed: index pages and table pages touched per query, index entries
returned; rows scored are estimated as index pages x rows per index page (64-d: no codes).
postgres_fdw sends each shard ORDER BY without LIMIT and reads a cursor fetch_size rows at a
time, so fetch_size sets how deep each shard's scan goes: 100 (the default) and 10 (= k) run.
The clusters run without fsync or autovacuum (a read benchmark); the run holds the install lock
until every backend it uses has loaded the installed library.
"""
import argparse
import datetime
import fcntl
import os
import pathlib
import platform
import subprocess
import sys
import threading
import time

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from private_cluster import Cluster  # noqa: E402

LAYOUTS = (1, 2, 4)
GENDERS = np.array(["men", "women", "unisex"])
FILTERS = {"none": ("", lambda g, c: np.ones(len(c), bool)),
           "category (10%)": ("WHERE category = 'c3'", lambda g, c: c == 3)}
SETTINGS = ["autovacuum=off", "fsync=off", "synchronous_commit=off", "full_page_writes=off",
            "wal_consistency_checking=''", "max_wal_size=8GB", "maintenance_work_mem=1GB",
            "max_parallel_workers_per_gather=0", "max_parallel_maintenance_workers=0"]


def make_data(rows, queries, dims, seed=16):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(1000, dims)).astype(np.float32)

    def points(n):
        return centres[rng.integers(len(centres), size=n)] + rng.normal(size=(n, dims)).astype(np.float32)

    vectors = points(rows)
    gender = rng.choice(3, size=rows, p=[0.45, 0.45, 0.10])
    category = rng.integers(10, size=rows)
    return vectors, gender, category, points(queries)


def ground_truth(vectors, mask, queries, k=10):
    """Ids of the k nearest passing rows of each query (squared L2 over every passing row)."""
    ids = np.flatnonzero(mask)
    sub = vectors[ids]
    norms = (sub * sub).sum(1)
    truth = []
    for chunk in np.array_split(queries, max(1, len(queries) // 50)):
        d = norms[None, :] - 2 * chunk @ sub.T
        top = np.argpartition(d, k, axis=1)[:, :k]
        truth.extend(set(ids[t].tolist()) for t in top)
    return truth


def copy_rows(conn, table, vectors, gender, category):
    with conn.cursor() as cur, cur.copy(f"COPY {table} (id, gender, category, embedding) FROM STDIN (FORMAT binary)"
                                        ) as copy:
        copy.set_types(["int4", "text", "text", "vector"])
        for i in range(len(vectors)):
            copy.write_row((i, GENDERS[gender[i]], f"c{category[i]}", vectors[i]))


def copy_between(source, sql, target, table):
    """Streams the rows of a query on source into table on target (binary COPY)."""
    with source.cursor() as out, target.cursor() as into:
        with out.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as reader, \
                into.copy(f"COPY {table} FROM STDIN (FORMAT binary)") as writer:
            for block in reader:
                writer.write(block)


def create_table(conn, name, suffix=""):
    conn.execute(f"CREATE TABLE {name} (id int, gender text, category text, embedding vector(64)){suffix}")


def build_index(conn, table, lists, probes):
    began = time.monotonic()
    conn.execute(f"CREATE INDEX {table}_idx ON {table} USING fashrec_ivf (gender, embedding, category) "
                 f"WITH (lists = {lists}, probes = {probes})")
    conn.execute(f"ANALYZE {table}")
    conn.execute(f"SELECT pg_prewarm('{table}'), pg_prewarm('{table}_idx')")
    return time.monotonic() - began


def work_counters(conn, table):
    """(index pages, table pages, index entries returned) so far, as flushed statistics."""
    return conn.execute(
        "SELECT i.idx_blks_hit + coalesce(i.idx_blks_read, 0), t.heap_blks_hit + coalesce(t.heap_blks_read, 0), "
        "s.idx_tup_read FROM pg_statio_user_indexes i JOIN pg_statio_user_tables t USING (relid) "
        "JOIN pg_stat_user_indexes s USING (indexrelid) WHERE i.indexrelname = %s", (f"{table}_idx",)).fetchone()


# A backend flushes its statistics when it goes idle, or 10 s later if it flushed less than a
# second before (PostgreSQL 15's PGSTAT_IDLE_INTERVAL); the shards' backends that serve the
# coordinator are not ours to force, so the counters are read after that.
FLUSHED_AFTER_S = 11


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--lists", type=int, default=1000)
    ap.add_argument("--probes", type=int, default=10)
    ap.add_argument("--fetch-sizes", default="100,10")
    ap.add_argument("--out", default=str(ROOT / "bench" / "scale.md"))
    ap.add_argument("--lock-fd", type=int,
                    help="a descriptor on which the caller holds /tmp/fashrec-pg.lock (it installed this "
                         "checkout's build under it): released once every backend has loaded the library")
    args = ap.parse_args()
    fetch_sizes = [int(f) for f in args.fetch_sizes.split(",")]
    shown = [a for i, a in enumerate(sys.argv[1:]) if "--lock-fd" not in (a, sys.argv[i] if i else "")]
    command = " ".join(["python bench/scale.py"] + shown)

    began = time.monotonic()
    vectors, gender, category, queries = make_data(args.rows, args.queries, 64)
    truth = {name: ground_truth(vectors, mask(gender, category), queries) for name, (_, mask) in FILTERS.items()}
    print(f"data and ground truth: {time.monotonic() - began:.0f} s", flush=True)

    coordinator = Cluster(port_offset=100)
    shards = [Cluster(port_offset=101 + i) for i in range(max(LAYOUTS))]
    clusters = [coordinator] + shards
    lock = os.fdopen(args.lock_fd, "w") if args.lock_fd is not None else open("/tmp/fashrec-pg.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        coordinator.start(SETTINGS + ["shared_buffers=1GB"])
        for shard in shards:
            shard.start(SETTINGS + ["shared_buffers=512MB"])
        admin = coordinator.connect()
        client = coordinator.connect()
        shard_conns = [shard.connect() for shard in shards]
        for conn in [admin] + shard_conns:
            conn.execute("CREATE EXTENSION fashrec")
            conn.execute("CREATE EXTENSION pg_prewarm")
        admin.execute("CREATE EXTENSION postgres_fdw")
        for conn in [admin, client] + shard_conns:
            register_vector(conn)

        create_table(admin, "products_1")
        copy_rows(admin, "products_1", vectors, gender, category)
        for n, shard in enumerate(shards):
            admin.execute(f"CREATE SERVER shard_{n} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', "
                          f"port '{shard.port}', dbname 'postgres', extensions 'fashrec')")
            admin.execute(f"CREATE USER MAPPING FOR CURRENT_USER SERVER shard_{n} OPTIONS (user 'postgres')")
        for layout in LAYOUTS[1:]:
            create_table(admin, f"products_{layout}", " PARTITION BY HASH (id)")
            for r in range(layout):
                create_table(shard_conns[r], f"part{layout}_{r}")
                copy_between(admin, f"SELECT * FROM products_1 WHERE satisfies_hash_partition("
                                    f"'products_{layout}'::regclass, {layout}, {r}, id)",
                             shard_conns[r], f"part{layout}_{r}")
                admin.execute(f"CREATE FOREIGN TABLE part{layout}_{r} PARTITION OF products_{layout} "
                              f"FOR VALUES WITH (MODULUS {layout}, REMAINDER {r}) SERVER shard_{r}")
        print(f"loaded: {time.monotonic() - began:.0f} s", flush=True)

        builds, failures = {}, []
        jobs = [(admin, "products_1")] + [(shard_conns[r], f"part{layout}_{r}")
                                          for layout in LAYOUTS[1:] for r in range(layout)]

        def build_on(conn, tables):
            try:
                for table in tables:
                    builds[table] = build_index(conn, table, args.lists, args.probes)
            except psycopg.Error as e:
                failures.append(e)

        # One build at a time per cluster, two clusters at once (two cores).
        by_conn = {}
        for conn, table in jobs:
            by_conn.setdefault(id(conn), (conn, []))[1].append(table)
        pending = list(by_conn.values())
        while pending:
            batch, pending = pending[:2], pending[2:]
            threads = [threading.Thread(target=build_on, args=job) for job in batch]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if failures:
            raise failures[0]
        print(f"indexed: {time.monotonic() - began:.0f} s", flush=True)
        for layout in LAYOUTS:
            admin.execute(f"ANALYZE products_{layout}")
            # Every foreign partition's connection opens now, while the install lock is held,
            # and each backend caches the centroids of the indexes it will scan.
            for where, _ in FILTERS.values():
                client.execute(f"SELECT id FROM products_{layout} {where} ORDER BY embedding <-> %s LIMIT 10",
                               (queries[0],)).fetchall()
        rows_per_page = {table: conn.execute(f"SELECT sum(rows)::float / sum(pages) FROM fashrec_ivf_lists('{table}_idx')"
                                             ).fetchone()[0] for conn, table in jobs}
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)

    try:
        results = []
        all_parts = [(admin, "products_1")] + [(shard_conns[r], f"part{layout}_{r}")
                                               for layout in LAYOUTS[1:] for r in range(layout)]
        time.sleep(FLUSHED_AFTER_S)
        last = {table: work_counters(conn, table) for conn, table in all_parts}
        for layout in LAYOUTS:
            parts = [(admin, "products_1")] if layout == 1 else \
                [(shard_conns[r], f"part{layout}_{r}") for r in range(layout)]
            for fetch in ([None] if layout == 1 else fetch_sizes):
                if fetch:
                    for r in range(layout):
                        admin.execute(f"ALTER FOREIGN TABLE part{layout}_{r} OPTIONS (ADD fetch_size '{fetch}')")
                for name, (where, _) in FILTERS.items():
                    sql = f"SELECT id FROM products_{layout} {where} ORDER BY embedding <-> %s LIMIT 10"
                    latencies, recalls = [], []
                    for q, expected in zip(queries, truth[name]):
                        t0 = time.perf_counter()
                        got = client.execute(sql, (q,)).fetchall()
                        latencies.append(time.perf_counter() - t0)
                        recalls.append(len(expected & {r[0] for r in got}) / 10)
                    time.sleep(FLUSHED_AFTER_S)
                    per_part = []
                    for conn, table in parts:
                        now = work_counters(conn, table)
                        per_part.append([(a - b) / len(queries) for a, b in zip(now, last[table])])
                        last[table] = now
                    results.append(dict(layout=layout, fetch=fetch, filter=name, recall=float(np.mean(recalls)),
                                        p50=np.percentile(latencies, 50) * 1e3, p99=np.percentile(latencies, 99) * 1e3,
                                        parts=[(table, w, rows_per_page[table]) for (_, table), w in zip(parts, per_part)]))
                    print(results[-1], flush=True)
                if fetch:
                    for r in range(layout):
                        admin.execute(f"ALTER FOREIGN TABLE part{layout}_{r} OPTIONS (DROP fetch_size)")
    finally:
        for c in clusters:
            c.remove()
    write_report(args, command, results, builds, time.monotonic() - began)


def cpu():
    flags = pathlib.Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in flags.splitlines() if line.startswith("model name")), "?")
    return f"{model}, {os.cpu_count()} cores, {'AVX-512' if 'avx512f' in flags else 'AVX2'}"


def write_report(args, command, results, builds, seconds):
    single = {r["filter"]: r["recall"] for r in results if r["layout"] == 1}
    lines = [
        "# One server against 2 and 4 postgres_fdw shards (bench/scale.py)", "",
        f"Recorded {datetime.date.today()} with `{command}` ({seconds / 60:.0f} min), on {cpu()}, load "
        f"{os.getloadavg()[0]:.1f} at the end, {platform.python_version()} client, all clusters on this machine.",
        f"{args.rows:,} rows of 64-d synthetic vectors with gender and category; every index "
        f"`(gender, embedding, category) WITH (lists = {args.lists}, probes = {args.probes})`; "
        f"{args.queries} queries of LIMIT 10 from one client, one after another. See the script's docstring for the data.",
        "",
        "| layout | fetch_size | filter | recall@10 | vs one server | p50 ms | p99 ms | per shard per query: index pages / table pages / entries returned / ≈ rows scored |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        work = "; ".join(f"{t}: {w[0]:.0f} / {w[1]:.0f} / {w[2]:.0f} / {w[0] * rpp:,.0f}" for t, w, rpp in r["parts"])
        delta = r["recall"] - single[r["filter"]]
        lines.append(f"| {'one server' if r['layout'] == 1 else str(r['layout']) + ' shards'} | "
                     f"{r['fetch'] or '-'} | {r['filter']} | {r['recall']:.4f} | {delta:+.4f} | {r['p50']:.2f} | "
                     f"{r['p99']:.2f} | {work} |")
    lines += ["", "Index builds (s): " + ", ".join(f"{t} {s:.0f}" for t, s in builds.items()), ""]
    pathlib.Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
