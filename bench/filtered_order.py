"""How often a filtered fashrec_ivf scan returns its LIMIT's rows out of distance order, beside the
same queries without the filter (bench/scale.md's filtered-merge caveat), on bench/scale.py's data.

    .deps/venv/bin/python bench/filtered_order.py [--rows 20000] [--queries 200] [--lists 50]

One private cluster with the installed extension; the index (gender, embedding, category) WITH
(lists, probes = 10); the filter is category = 'c3' (10%), checked in the index.
"""
import argparse
import pathlib
import sys

from pgvector.psycopg import register_vector

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "integration"))
import scale  # noqa: E402
from private_cluster import Cluster  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--lists", type=int, default=50)
    args = ap.parse_args()
    vectors, gender, category, queries = scale.make_data(args.rows, args.queries, 64)
    cluster = Cluster(port_offset=300)
    try:
        cluster.start(scale.SETTINGS)
        conn = cluster.connect()
        conn.execute("CREATE EXTENSION fashrec")
        register_vector(conn)
        scale.create_table(conn, "t")
        scale.copy_rows(conn, "t", vectors, gender, category)
        conn.execute(f"CREATE INDEX t_idx ON t USING fashrec_ivf (gender, embedding, category) "
                     f"WITH (lists = {args.lists}, probes = 10)")
        conn.execute("ANALYZE t")
        for where in ("", "WHERE category = 'c3'"):
            sql = f"SELECT embedding <-> %s FROM t {where} ORDER BY embedding <-> %s LIMIT 10"
            plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, (queries[0], queries[0])))
            assert "Index Scan using t_idx" in plan, plan
            disordered = 0
            for q in queries:
                d = [r[0] for r in conn.execute(sql, (q, q))]
                disordered += any(b < a for a, b in zip(d, d[1:]))
            print(f"{where or 'no filter'}: {disordered} of {len(queries)} queries returned rows out of distance order")
    finally:
        cluster.remove()


if __name__ == "__main__":
    main()
