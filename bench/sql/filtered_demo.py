"""Filtered recommendations on the demo catalog (issue 17's bar): `recommend_similar(id, 10,
'men', 'Bag')` beside `recommend_similar(id, 10, 'men')`, and the plain SQL query of the same
filter under the planner's own plan beside the other plan (index scans off, or only the index).

    .deps/venv/bin/python bench/sql/filtered_demo.py [--url postgresql://postgres@127.0.0.1:5499/fashrec]
        [--products 200] [--rounds 3]                                   # after ./fashrec.sh demo

One warm connection; the products are spread over the catalog (every category, so most are
not bags); calls alternate between the two forms product by product, `rounds` times over, and
each form's p50, p99 and mean are of all its calls. The plain query's plan is read from EXPLAIN and
timed the same way against the plan the planner did not choose.
"""
import argparse
import statistics
import time

import psycopg

SIMILAR = "SELECT count(*) FROM recommend_similar(%s, 10, 'men'{extra})"
PLAIN = ("SELECT id FROM products WHERE gender = 'men' AND category = 'Bag' AND id <> %s "
         "ORDER BY embedding <-> (SELECT embedding FROM products WHERE id = %s) LIMIT 10")


def timed(conn, sql, args):
    start = time.perf_counter()
    conn.execute(sql, args).fetchall()
    return (time.perf_counter() - start) * 1e3


def summary(ms):
    """p50, p99 and mean: a plan's cost to a busy server is its mean, tail included."""
    ms = sorted(ms)
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.99))], statistics.fmean(ms)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5499/fashrec")
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with psycopg.connect(args.url, autocommit=True) as conn:
        total = conn.execute("SELECT max(id) FROM products WHERE embedding IS NOT NULL").fetchone()[0]
        ids = [1 + i * total // args.products for i in range(args.products)]
        index = conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = 'products'::regclass AND pg_get_indexdef(indexrelid) LIKE '%fashrec_ivf%'").fetchone()
        cur = conn.execute(f"SELECT * FROM fashrec_ivf_info('{index[0]}')")
        info = dict(zip([c.name for c in cur.description], cur.fetchone()))
        # An extension older than list summaries reports no summary_pages.
        info = (info["lists"], info["rows"], info["filter_columns"], info.get("summary_pages", "none"))
        probes = conn.execute("SHOW fashrec_ivf.probes").fetchone()[0]
        forms = {"recommend_similar(id, 10, 'men')": SIMILAR.format(extra=""),
                 "recommend_similar(id, 10, 'men', 'Bag')": SIMILAR.format(extra=", 'Bag'")}
        for sql in forms.values():  # warm: models are not involved, the buffers and centroids are
            for i in ids:
                conn.execute(sql, (i,)).fetchall()
        times = {name: [] for name in forms}
        for _ in range(args.rounds):
            for i in ids:
                for name, sql in forms.items():
                    times[name].append(timed(conn, sql, (i,)))
        plan = " ".join(r[0] for r in conn.execute("EXPLAIN " + PLAIN, (ids[0], ids[0])))
        chosen = "index" if f"Index Scan using {index[0]}" in plan else "exact"
        other = ["SET enable_indexscan = off"] if chosen == "index" else \
            ["SET enable_seqscan = off", "SET enable_bitmapscan = off", "SET enable_sort = off"]
        plain = {"planner's plan": [], "other plan": []}
        for _ in range(args.rounds):
            for i in ids:
                plain["planner's plan"].append(timed(conn, PLAIN, (i, i)))
                conn.execute("BEGIN")
                for setting in other:
                    conn.execute(setting.replace("SET", "SET LOCAL"))
                plain["other plan"].append(timed(conn, PLAIN, (i, i)))
                conn.execute("ROLLBACK")
    print(f"index {index[1]}; lists {info[0]}, rows {info[1]}, filter columns {info[2]}, "
          f"summary pages {info[3]}; fashrec_ivf.probes {probes}")
    print(f"{args.products} products x {args.rounds} rounds, alternated\n")
    print("| call | p50 ms | p99 ms | mean ms |\n|---|---:|---:|---:|")
    for name, ms in {**times, **{f"plain SQL, {k} ({chosen if k.startswith('planner') else 'not ' + chosen})": v
                                 for k, v in plain.items()}}.items():
        p50, p99, mean = summary(ms)
        print(f"| {name} | {p50:.2f} | {p99:.2f} | {mean:.2f} |")
    unfiltered, filtered = (summary(ms)[0] for ms in times.values())
    (chosen_p50, _, chosen_mean), (other_p50, _, other_mean) = (summary(ms) for ms in plain.values())
    print(f"\nfiltered / unfiltered p50: {filtered / unfiltered:.2f}x; the planner chose the {chosen} "
          f"plan, {other_p50 / chosen_p50:.2f}x as fast as the other at p50, {other_mean / chosen_mean:.2f}x "
          "in mean")

if __name__ == "__main__":
    main()
