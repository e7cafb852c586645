"""Filtered nearest-neighbour queries through fashrec_ivf with and without filter columns, beside
the exact plan, in one throwaway cluster (issue 17's bar, fashrec side; pgvector's side is not
measured here yet).

    .deps/venv/bin/python bench/sql/filtered.py [--port 5496] [--queries 200] [--probes 4]
        [--out out/filtered.md]

Data: Fashion-MNIST train, 60,000 rows, as 784-d raw pixels and as a 64-d random projection of
them (unit length); `cat` is the picture's category (10%), `g` is id % 4 (25%). Each table gets a
plain index `(v)` and a filter-column index `(v, cat, g)`, lists 245, and a btree on (cat, g)
for the exact plan. Queries: test-split pictures of every category, so most are filtered to
another category than their own (the hard case). Per filter, three plans, one prepared client,
alternated per filter: the plain index (the filter-column index hidden), the filter-column
index (the plain one hidden), the exact plan (index scans off). recall@10 against numpy's exact
filtered answer. Run it on this checkout's release build (as bench/sql/sidebyside.py).
"""
import argparse
import datetime
import gzip
import os
import pathlib
import sys
import time

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import sidebyside as s  # noqa: E402

FILTERS = {
    "none": ("true", lambda ids, cat: np.ones_like(ids, bool)),
    "category (10%)": ("cat = 3", lambda ids, cat: cat == 3),
    "category and g (2.5%)": ("cat = 3 AND g = 0", lambda ids, cat: (cat == 3) & (ids % 4 == 0)),
    "and id % 10 = 0 (0.25%)": ("cat = 3 AND g = 0 AND id %% 10 = 0",
                                lambda ids, cat: (cat == 3) & (ids % 4 == 0) & (ids % 10 == 0)),
}
FORCE = ["enable_seqscan = off", "enable_bitmapscan = off", "enable_sort = off"]


def labels(split):
    with gzip.open(s.FMNIST / f"{split}-labels-idx1-ubyte.gz") as f:
        return np.frombuffer(f.read()[8:], np.uint8).astype(np.int64)


def load(conn, table, vectors, cat):
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, cat int, g int, v vector({vectors.shape[1]}))")
    with conn.cursor() as cur, cur.copy(f"COPY {table} (id, cat, g, v) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "int4", "int4", "vector"])
        for i, v in enumerate(vectors):
            copy.write_row((i, int(cat[i]), i % 4, v))
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute(f"CREATE INDEX {table}_v ON {table} USING fashrec_ivf (v) WITH (lists = 245)")
    conn.execute(f"CREATE INDEX {table}_vf ON {table} USING fashrec_ivf (v, cat, g) WITH (lists = 245)")
    conn.execute(f"CREATE INDEX {table}_cat ON {table} (cat, g)")
    conn.execute(f"VACUUM ANALYZE {table}")
    for rel in (table, f"{table}_v", f"{table}_vf", f"{table}_cat"):
        conn.execute("SELECT pg_prewarm(%s)", (rel,))


def run(conn, table, queries, where, hide, settings, probes):
    """ids per query and ms per query under one plan."""
    conn.execute("BEGIN")
    conn.execute(f"SET LOCAL fashrec_ivf.probes = {probes}")
    for setting in settings:
        conn.execute("SET LOCAL " + setting)
    if hide:
        conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", (hide,))
    sql = f"SELECT id FROM {table} WHERE {where} ORDER BY v <-> %b LIMIT 10 -- {hide} {settings}"
    plan = " ".join(r[0] for r in conn.execute("EXPLAIN " + sql, (queries[0],)))
    conn.execute(sql, (queries[0],)).fetchall()
    found = []
    start = time.perf_counter()
    for q in queries:
        found.append([r[0] for r in conn.execute(sql, (q,))])
    ms = (time.perf_counter() - start) / len(queries) * 1e3
    conn.execute("ROLLBACK")
    kind = ("filter-column index" if f"{table}_vf on" in plan else "plain index" if f"{table}_v on" in plan
            else "bitmap + sort" if "Bitmap" in plan else "other")
    return found, ms, kind


def recall(found, base, queries, mask):
    ids = np.nonzero(mask)[0]
    total, hits = 0, 0
    for q, got in zip(queries, found):
        d = ((base[ids] - q) ** 2).sum(axis=1)
        truth = set(ids[np.argsort(d, kind="stable")[:10]].tolist())
        total += len(truth)
        hits += len(truth & set(got))
    return hits / total if total else 1.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5496)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--probes", type=int, default=4)
    parser.add_argument("--out", default=str(s.ROOT / "out" / "filtered.md"))
    args = parser.parse_args()
    s.installed_fashrec()
    pixels = s.fmnist_pixels("train").astype(np.float32)
    cat = labels("train")
    queries = s.fmnist_pixels("t10k").astype(np.float32)[: args.queries]
    projection = np.random.default_rng(1).standard_normal((784, 64)).astype(np.float32)

    def project(x):
        e = x @ projection
        return (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)

    datasets = [("items64", project(pixels), project(queries)), ("items784", pixels, queries)]
    cluster = s.Cluster(args.port)
    cluster.start()
    lines = []
    start = datetime.datetime.now(datetime.timezone.utc)
    try:
        with psycopg.connect(cluster.url("fashrec"), autocommit=True) as conn:
            register_vector(conn)
            for table, base, qs in datasets:
                load(conn, table, base, cat)
                lines += [f"\n### {table} ({base.shape[1]}-d), probes {args.probes}\n",
                          "| filter | plan | recall@10 | ms/query | QPS | / unfiltered same index | / exact |",
                          "|---|---|---:|---:|---:|---:|---:|"]
                unfiltered = {}
                ids = np.arange(len(base))
                for name, (where, mask_of) in FILTERS.items():
                    mask = mask_of(ids, cat)
                    plans = [("plain", f"{table}_vf", FORCE), ("filtered", f"{table}_v", FORCE),
                             ("exact", None, ["enable_indexscan = off"])]
                    results = {m: run(conn, table, qs, where, hide, sets, args.probes) for m, hide, sets in plans}
                    for mode, (found, ms, kind) in results.items():
                        if name == "none":
                            unfiltered[mode] = ms
                        lines.append(f"| {name} | {kind} | {recall(found, base, qs, mask):.4f} | {ms:.2f} | "
                                     f"{1e3 / ms:.0f} | {unfiltered.get(mode, ms) / ms:.2f}x | "
                                     f"{results['exact'][1] / ms:.2f}x |")
                    print("\n".join(lines[-3:]), flush=True)
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
