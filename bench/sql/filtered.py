"""Filtered nearest-neighbour queries through fashrec_ivf with and without filter columns, beside
the exact plan and pgvector 0.8.6's iterative index scans, in one throwaway cluster (issue 17's
bar).

    .deps/venv/bin/python bench/sql/filtered.py [--port 5496] [--queries 200] [--probes 4]
        [--only 64|784] [--rounds 1] [--install] [--out out/filtered.md]

Data: Fashion-MNIST train, 60,000 rows, as 784-d raw pixels and as a 64-d random projection of
them (unit length); `cat` is the picture's category (10%), `g` is id % 4 (25%; `g IN (0, 1)`
stands for a strict gender mode). fashrec's table gets a plain index `(v)` and a filter-column
index `(g, v, cat)` (the IN column first: PostgreSQL 15 passes IN only on an index's first
column), lists 245, and a btree on (cat, g) for the exact plan. pgvector's table (its own
database: both extensions define `vector`) gets ivfflat (lists 245, ivfflat.probes as --probes)
and hnsw (m 16, ef_construction 64, ef_search 40), both with iterative_scan = relaxed_order, the
filter checked on the table. Queries: test-split pictures of every category, so most are
filtered to another category than their own (the hard case). Every plan runs on one prepared
client, each with the others hidden: the plain index, the filter-column index, the exact plan
(index scans off), ivfflat, hnsw; a round measures every filter under every plan, and with
--rounds N the median of N interleaved rounds is reported. recall@10 against numpy's
exact filtered answer; "full" is the share of queries that got all 10 rows. Run it on this
checkout's release build (as bench/sql/sidebyside.py); pgvector is installed from the tarball if
missing.
"""
import argparse
import datetime
import fcntl
import gzip
import os
import pathlib
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import sidebyside as s  # noqa: E402

FILTERS = {
    "none": ("true", lambda ids, cat: np.ones_like(ids, bool)),
    "g IN (0, 1) (50%)": ("g IN (0, 1)", lambda ids, cat: ids % 4 < 2),
    "category (10%)": ("cat = 3", lambda ids, cat: cat == 3),
    "category and g (2.5%)": ("cat = 3 AND g = 0", lambda ids, cat: (cat == 3) & (ids % 4 == 0)),
    # Issue 17's "plus id % 4 = 0": a clause on the table keeping a quarter of the rows. Here g
    # is id % 4, so the quarter is taken from id / 4 to be independent of g.
    "and id / 4 % 4 = 0 (0.6%)": ("cat = 3 AND g = 0 AND id / 4 %% 4 = 0",
                                  lambda ids, cat: (cat == 3) & (ids % 4 == 0) & (ids // 4 % 4 == 0)),
}


def labels(split):
    with gzip.open(s.FMNIST / f"{split}-labels-idx1-ubyte.gz") as f:
        return np.frombuffer(f.read()[8:], np.uint8).astype(np.int64)


def copy_rows(conn, table, vectors, cat):
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, cat int, g int, v vector({vectors.shape[1]}))")
    with conn.cursor() as cur, cur.copy(f"COPY {table} (id, cat, g, v) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "int4", "int4", "vector"])
        for i, v in enumerate(vectors):
            copy.write_row((i, int(cat[i]), i % 4, v))
    conn.execute("SET maintenance_work_mem = '1GB'")


def load(conn, table, vectors, cat):
    copy_rows(conn, table, vectors, cat)
    conn.execute(f"CREATE INDEX {table}_v ON {table} USING fashrec_ivf (v) WITH (lists = 245)")
    conn.execute(f"CREATE INDEX {table}_vf ON {table} USING fashrec_ivf (g, v, cat) WITH (lists = 245)")
    conn.execute(f"CREATE INDEX {table}_cat ON {table} (cat, g)")
    finish(conn, table, ("_v", "_vf", "_cat"))


def load_pgvector(conn, table, vectors, cat):
    copy_rows(conn, table, vectors, cat)
    conn.execute(f"CREATE INDEX {table}_ivfflat ON {table} USING ivfflat (v vector_l2_ops) WITH (lists = 245)")
    conn.execute(f"CREATE INDEX {table}_hnsw ON {table} USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64)")
    finish(conn, table, ("_ivfflat", "_hnsw"))


def finish(conn, table, indexes):
    conn.execute(f"VACUUM ANALYZE {table}")
    for rel in (table, *(table + i for i in indexes)):
        conn.execute("SELECT pg_prewarm(%s)", (rel,))


def run(conn, table, queries, where, hide, settings):
    """ids per query and ms per query under one plan, the indexes `hide` hidden from the planner."""
    conn.execute("BEGIN")
    for setting in settings:
        conn.execute("SET LOCAL " + setting)
    for index in hide:
        conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", (index,))
    sql = f"SELECT id FROM {table} WHERE {where} ORDER BY v <-> %b LIMIT 10 -- {hide} {settings}"
    plan = " ".join(r[0] for r in conn.execute("EXPLAIN " + sql, (queries[0],)))
    conn.execute(sql, (queries[0],)).fetchall()
    found = []
    start = time.perf_counter()
    for q in queries:
        found.append([r[0] for r in conn.execute(sql, (q,))])
    ms = (time.perf_counter() - start) / len(queries) * 1e3
    conn.execute("ROLLBACK")
    kind = ("fashrec filter-column index" if f"{table}_vf on" in plan
            else "fashrec plain index" if f"{table}_v on" in plan
            else "pgvector ivfflat" if f"{table}_ivfflat on" in plan
            else "pgvector hnsw" if f"{table}_hnsw on" in plan
            else "bitmap + sort" if "Bitmap" in plan else "other")
    return found, ms, kind


def recall(found, base, queries, mask):
    """recall@10 against the exact filtered answer, and the share of queries that got all of it."""
    ids = np.nonzero(mask)[0]
    total, hits, full = 0, 0, 0
    for q, got in zip(queries, found):
        d = ((base[ids] - q) ** 2).sum(axis=1)
        truth = set(ids[np.argsort(d, kind="stable")[:10]].tolist())
        total += len(truth)
        hits += len(truth & set(got))
        full += len(got) >= len(truth)
    return (hits / total if total else 1.0), full / len(queries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5496)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--probes", type=int, default=4)
    parser.add_argument("--only", choices=["64", "784"])
    parser.add_argument("--out", default=str(s.ROOT / "out" / "filtered.md"))
    parser.add_argument("--rounds", type=int, default=1,
                        help="times every plan is measured, interleaved with the others; the median is reported")
    parser.add_argument("--install", action="store_true",
                        help="install this checkout's release build first, under the install lock "
                             "(another worktree may install between a separate install and the run)")
    args = parser.parse_args()
    s.install_pgvector()
    # Held for the whole run: other worktrees install into the same PostgreSQL (see
    # s.INSTALL_LOCK), and an install unlinks the library, after which even a backend that has
    # it mapped fails CREATE INDEX (PostgreSQL looks the file up again for the handler).
    lock = open(s.INSTALL_LOCK, "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    if args.install:
        subprocess.run([str(s.ROOT / "fashrec.sh"), "install"], check=True)
    library = s.installed_fashrec()
    pixels = s.fmnist_pixels("train").astype(np.float32)
    cat = labels("train")
    queries = s.fmnist_pixels("t10k").astype(np.float32)[: args.queries]
    projection = np.random.default_rng(1).standard_normal((784, 64)).astype(np.float32)

    def project(x):
        e = x @ projection
        return (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)

    datasets = [("items64", project(pixels), project(queries)), ("items784", pixels, queries)]
    datasets = [d for d in datasets if args.only in (None, str(d[1].shape[1]))]
    probes = args.probes
    forced = ["enable_seqscan = off", "enable_bitmapscan = off", "enable_sort = off"]
    # name: (database, indexes to hide, settings)
    plans = {
        "plain": ("fashrec", ["_vf"], forced + [f"fashrec_ivf.probes = {probes}"]),
        "filtered": ("fashrec", ["_v"], forced + [f"fashrec_ivf.probes = {probes}"]),
        "exact": ("fashrec", [], ["enable_indexscan = off"]),
        "ivfflat": ("pgvector", ["_hnsw"], forced + [f"ivfflat.probes = {probes}",
                                                     "ivfflat.iterative_scan = relaxed_order"]),
        "hnsw": ("pgvector", ["_ivfflat"], forced + ["hnsw.ef_search = 40", "hnsw.iterative_scan = relaxed_order"]),
    }
    cluster = s.Cluster(args.port)
    cluster.start()
    lines = []
    start = datetime.datetime.now(datetime.timezone.utc)
    try:
        with s.measuring_connections(cluster, library) as (fashrec, pgvector):
            conns = {"fashrec": fashrec, "pgvector": pgvector}
            for table, base, qs in datasets:
                load(conns["fashrec"], table, base, cat)
                load_pgvector(conns["pgvector"], table, base, cat)
                lines += [f"\n### {table} ({base.shape[1]}-d), probes {probes}\n",
                          "| filter | plan | recall@10 | full | ms/query | QPS | / unfiltered same index | / exact "
                          "| filter-column index / this |",
                          "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
                # Every filter under every plan, `rounds` times over: each median comes from
                # rounds interleaved with every other plan's, so that a ratio compares times
                # taken under the same load (this machine is shared).
                ids = np.arange(len(base))
                times, runs = {}, {}
                for _ in range(args.rounds):
                    for name, (where, _) in FILTERS.items():
                        for m, (db, hide, sets) in plans.items():
                            found, ms, kind = run(conns[db], table, qs, where, [table + h for h in hide], sets)
                            runs.setdefault((name, m), (found, kind))
                            times.setdefault((name, m), []).append(ms)
                ms_of = {key: float(np.median(t)) for key, t in times.items()}
                for name, (where, mask_of) in FILTERS.items():
                    mask = mask_of(ids, cat)
                    for m in plans:
                        (found, kind), ms = runs[(name, m)], ms_of[(name, m)]
                        r, full = recall(found, base, qs, mask)
                        lines.append(f"| {name} | {kind} | {r:.4f} | {full:.2f} | {ms:.2f} | {1e3 / ms:.0f} | "
                                     f"{ms_of[('none', m)] / ms:.2f}x | {ms_of[(name, 'exact')] / ms:.2f}x | "
                                     f"{ms / ms_of[(name, 'filtered')]:.2f}x |")
                    print("\n".join(lines[-len(plans):]), flush=True)
    finally:
        cluster.stop()
    m = s.machine()
    cpu = f"{m['cpu']}, {m['cores']} cores, {'AVX-512' if m['avx512'] else 'AVX2, no AVX-512'}"
    load_avg = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    header = ["## Run\n", f"- Command: `{s.command()}`", f"- Date: {start:%Y-%m-%d %H:%M} UTC",
              f"- CPU: {cpu}; load average at the end {load_avg}", ""]
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text("\n".join(header + lines) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
