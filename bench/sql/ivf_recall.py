"""fashrec_ivf through SQL on Fashion-MNIST raw pixels (784-d, L2): recall@10 and queries per
second at several probes, beside the exact scan, in one run on one server.

    .deps/venv/bin/python bench/sql/ivf_recall.py [--url URL] [--queries 1000] [--lists 245]

The base is the 60,000 train images, the queries the first N test images (pixel values 0..255).
Ground truth is the exact answer of the same SQL with the index disabled.
"""
import argparse
import gzip
import time

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

DATA = "/usr/share/datasets/fashion-mnist"


def images(name):
    with gzip.open(f"{DATA}/{name}-images-idx3-ubyte.gz") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32)


def top10(conn, queries, use_index, where="true"):
    conn.execute(f"SET enable_indexscan = {'on' if use_index else 'off'}")
    conn.execute(f"SET enable_seqscan = {'off' if use_index else 'on'}")
    results = []
    start = time.perf_counter()
    for q in queries:
        sql = f"SELECT id FROM fmnist WHERE {where} ORDER BY v <-> %s LIMIT 10"
        results.append([r[0] for r in conn.execute(sql, (q,))])
    return results, len(queries) / (time.perf_counter() - start)


def recall(found, truth):
    return np.mean([len(set(a) & set(b)) / max(1, len(b)) for a, b in zip(found, truth)])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5499/fashrec")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--lists", type=int, default=245)
    parser.add_argument("--probes", default="1,2,5,10,20,40")
    parser.add_argument("--filter-probes", type=int, default=10)
    parser.add_argument("--filter-queries", type=int, default=100)
    args = parser.parse_args()

    base, queries = images("train"), images("t10k")[: args.queries]
    with psycopg.connect(args.url, autocommit=True) as conn:
        # Prepared statements keep the plan chosen under the enable_* settings of their first
        # runs; plan every query afresh so exact and index runs really differ.
        conn.prepare_threshold = None
        register_vector(conn)
        conn.execute("DROP TABLE IF EXISTS fmnist")
        conn.execute("CREATE TABLE fmnist (id int PRIMARY KEY, v vector(784))")
        with conn.cursor() as cur, cur.copy("COPY fmnist (id, v) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "vector"])
            for i, v in enumerate(base):
                copy.write_row((i, v))
        conn.execute("SET maintenance_work_mem = '512MB'")
        start = time.perf_counter()
        conn.execute(f"CREATE INDEX fmnist_v ON fmnist USING fashrec_ivf (v) WITH (lists = {args.lists})")
        build = time.perf_counter() - start
        size = conn.execute("SELECT pg_size_pretty(pg_relation_size('fmnist_v'))").fetchone()[0]
        imbalance = conn.execute("SELECT imbalance FROM fashrec_ivf_info('fmnist_v')").fetchone()[0]
        print(f"base 60000 x 784, {len(queries)} queries, lists {args.lists}: build {build:.1f} s, "
              f"index {size}, imbalance {imbalance:.2f}")
        truth, exact_qps = top10(conn, queries, use_index=False)
        print(f"| probes | recall@10 | QPS | QPS / exact |\n|---:|---:|---:|---:|\n| exact scan | 1.000 | {exact_qps:.1f} | 1.0 |")
        for probes in [int(p) for p in args.probes.split(",")]:
            conn.execute(f"SET fashrec_ivf.probes = {probes}")
            found, qps = top10(conn, queries, use_index=True)
            print(f"| {probes} | {recall(found, truth):.3f} | {qps:.1f} | {qps / exact_qps:.1f} |")

        # Filters matching about 50%, 10% and 1% of the rows (mod(id, 100)), at the filter
        # probes setting: the scan must keep probing lists until LIMIT 10 is filled.
        conn.execute(f"SET fashrec_ivf.probes = {args.filter_probes}")
        few = queries[: args.filter_queries]
        print(f"\nfilters, probes {args.filter_probes}, {len(few)} queries\n"
              "| filter | rows matching | queries with 10 rows | recall@10 | QPS | exact QPS |\n|---|---:|---:|---:|---:|---:|")
        for where in ("mod(id, 100) < 50", "mod(id, 100) < 10", "mod(id, 100) < 1"):
            matching = conn.execute(f"SELECT count(*) FROM fmnist WHERE {where}").fetchone()[0]
            truth, exact_qps = top10(conn, few, use_index=False, where=where)
            found, qps = top10(conn, few, use_index=True, where=where)
            full = sum(len(f) == 10 for f in found)
            print(f"| `{where}` | {matching} | {full}/{len(few)} | {recall(found, truth):.3f} | {qps:.1f} | {exact_qps:.1f} |")
        conn.execute("DROP TABLE fmnist")


if __name__ == "__main__":
    main()
