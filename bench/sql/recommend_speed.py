"""Latency of the recommendation functions on the demo catalog, in one warm connection.

    .deps/venv/bin/python bench/sql/recommend_speed.py [--url URL] [--calls 200]

Needs the catalog loaded, embedded and indexed (./fashrec.sh demo). Each function is called
--calls times with a different product, photo or text each time (products chosen by a fixed
seed), after warm-up calls that load the models; for each it prints p50 and p99 in milliseconds
as the client sees them, with the index's probes at the server default.
"""
import argparse
import json
import pathlib
import random
import statistics
import time

import psycopg

ROOT = pathlib.Path(__file__).resolve().parents[2]


def timed(conn, sql, params):
    start = time.perf_counter()
    conn.execute(sql, params).fetchall()
    return (time.perf_counter() - start) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5499/fashrec")
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(20250501)
    texts = [json.loads(line)["query"] for line in open(ROOT / "training" / "queries.jsonl")]
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.prepare_threshold = None  # every call planned as a user's ad-hoc query would be
        ids = [r[0] for r in conn.execute("SELECT id FROM products WHERE embedding IS NOT NULL").fetchall()]
        picks = [rng.choice(ids) for _ in range(args.calls)]
        images = dict(conn.execute("SELECT id, image FROM products WHERE id = ANY(%s)", (picks,)).fetchall())
        modes = [None, "men", "women", "unisex"]
        cases = {
            "recommend_similar(id, 10, gender)":
                ("SELECT * FROM recommend_similar(%s, 10, %s)", lambda i: (picks[i], modes[i % 4])),
            "recommend_for_image(png, 10, gender)":
                ("SELECT * FROM recommend_for_image(%s, 10, %s)", lambda i: (images[picks[i]], modes[i % 4])),
            "recommend_for_text(words, 10, gender)":
                ("SELECT * FROM recommend_for_text(%s, 10, %s)", lambda i: (texts[i % len(texts)], modes[i % 4])),
            "recommend_for_profile(5 liked, 10)":
                ("SELECT * FROM recommend_for_profile(%s, 10)", lambda i: (picks[i:i + 5],)),
            "plain ORDER BY embedding <-> embed_text(words) LIMIT 10":
                ("SELECT id, name, price FROM products WHERE gender = ANY(%s) "
                 "ORDER BY embedding <-> embed_text(%s) LIMIT 10",
                 lambda i: (["men", "unisex"], texts[i % len(texts)])),
        }
        rows = conn.execute("SELECT count(*), current_setting('fashrec_ivf.probes') FROM products").fetchone()
        print(f"{rows[0]} products, fashrec_ivf.probes = {rows[1]}, {args.calls} calls each, one connection")
        print(f"{'call':60} {'p50 ms':>8} {'p99 ms':>8}")
        for name, (sql, params) in cases.items():
            for i in range(5):
                timed(conn, sql, params(i))
            times = sorted(timed(conn, sql, params(i)) for i in range(args.calls))
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(f"{name:60} {statistics.median(times):8.2f} {p99:8.2f}")


if __name__ == "__main__":
    main()
