"""embed_products against embed_images, and embed_text latency, side by side in one backend.

    .deps/venv/bin/python bench/embed_product_speed.py --url postgresql://postgres@127.0.0.1:5499/fashrec

On the catalog table of `fashrec load` (products id < --rows): rounds alternate
`embed_images(array_agg(image))` and `embed_products(array_agg(image), array_agg(keywords))`
over groups of --batch rows (what `fashrec embed` runs), each group's row count checked, timed at
the client; the medians are compared. Then `embed_text` over --texts distinct queries of
training/queries.jsonl, one statement each in the warm backend (client round trip over loopback).
Prints the CPU's flags that matter (AVX2, AVX-512).
"""
import argparse
import json
import pathlib
import statistics
import time

import psycopg

ROOT = pathlib.Path(__file__).resolve().parents[1]
IMAGES = "SELECT count(v) FROM unnest((SELECT embed_images(array_agg(image ORDER BY id)) FROM products WHERE id >= %s AND id < %s)) v"
PRODUCTS = ("SELECT count(v) FROM unnest((SELECT embed_products(array_agg(image ORDER BY id), array_agg(keywords ORDER BY id)) "
            "FROM products WHERE id >= %s AND id < %s)) v")


def rate(conn, sql, rows, batch):
    start = time.perf_counter()
    for lo in range(0, rows, batch):
        hi = min(rows, lo + batch)
        assert conn.execute(sql, (lo, hi)).fetchone()[0] == hi - lo
    return rows / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="postgresql://postgres@127.0.0.1:5499/fashrec")
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--texts", type=int, default=200)
    args = ap.parse_args()
    flags = pathlib.Path("/proc/cpuinfo").read_text().split()
    print(f"CPU: {'AVX-512' if 'avx512f' in flags else 'AVX2 only' if 'avx2' in flags else 'no AVX2'}")
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute("SELECT embed_text('warm up: loads the models')")
        images, products = [], []
        for r in range(args.rounds):
            images.append(rate(conn, IMAGES, args.rows, args.batch))
            products.append(rate(conn, PRODUCTS, args.rows, args.batch))
            print(f"round {r + 1}: embed_images {images[-1]:.0f} images/s, embed_products {products[-1]:.0f} products/s")
        im, pr = statistics.median(images), statistics.median(products)
        print(f"median: embed_images {im:.0f}/s, embed_products {pr:.0f}/s, ratio {pr / im:.2f}")
        queries = [json.loads(line)["query"] for line in open(ROOT / "training" / "queries.jsonl")]
        texts = list(dict.fromkeys(queries))[: args.texts]
        times = []
        for t in texts:
            start = time.perf_counter()
            conn.execute("SELECT embed_text(%s)", (t,)).fetchone()
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        print(f"embed_text over {len(texts)} distinct texts: p50 {times[len(times) // 2]:.2f} ms, "
              f"p99 {times[int(len(times) * 0.99) - 1]:.2f} ms")


if __name__ == "__main__":
    main()
