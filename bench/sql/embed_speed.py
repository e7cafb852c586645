"""Speed of the embedding functions through SQL, beside the same ONNX model run by Python
onnxruntime on the same machine in the same run.

    .deps/venv/bin/python bench/sql/embed_speed.py [--url URL] [--images 10000]

Needs the local cluster with the catalog loaded (./fashrec.sh demo) and training/.venv (for the
reference preprocessing and onnxruntime). Reports: cold start (first call in a new connection),
embed_text latency p50/p99 in a warm backend, images per second for a backfill through SQL
(batch form, one model run per 64 images) and through Python onnxruntime with the reference
preprocessing, and the backend's resident memory once the models are loaded.
"""
import argparse
import io
import json
import pathlib
import statistics
import sys
import time

import numpy as np
import psycopg

ROOT = pathlib.Path(__file__).resolve().parents[2]


def rss_kb(conn):
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5499/fashrec")
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--texts", type=int, default=300)
    args = parser.parse_args()

    with psycopg.connect(args.url, autocommit=True) as conn:
        before = rss_kb(conn)
        start = time.perf_counter()
        conn.execute("SELECT embed_text('black canvas shoes')").fetchone()
        cold_text = time.perf_counter() - start
        start = time.perf_counter()
        conn.execute("SELECT embed_image(image) FROM products WHERE id = 0").fetchone()
        first_image = time.perf_counter() - start
        after = rss_kb(conn)
        print(f"cold start: first embed_text {cold_text * 1000:.0f} ms (loads every model), then first embed_image {first_image * 1000:.1f} ms")
        print(f"backend resident memory: {before / 1024:.0f} MiB before, {after / 1024:.0f} MiB with the models loaded (+{(after - before) / 1024:.0f} MiB)")

        queries = [q["query"] for q in map(json.loads, open(ROOT / "training/queries.jsonl"))][: args.texts]
        times = []
        for q in queries:
            start = time.perf_counter()
            conn.execute("SELECT embed_text(%s)", (q,)).fetchone()
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"embed_text, {len(times)} short queries, client-measured round trip: p50 {statistics.median(times):.2f} ms, p99 {p99:.2f} ms")

        start = time.perf_counter()
        n = conn.execute(
            "SELECT count(e) FROM (SELECT unnest(embed_images(array_agg(image))) e FROM "
            "(SELECT id / 64 AS batch, image FROM products WHERE id < %s) t GROUP BY batch) s", (args.images,)).fetchone()[0]
        sql_rate = n / (time.perf_counter() - start)
        start = time.perf_counter()
        conn.execute("SELECT count(embed_image(image)) FROM products WHERE id < %s", (min(args.images, 2000),)).fetchone()
        single_rate = min(args.images, 2000) / (time.perf_counter() - start)
        images = [bytes(r[0]) for r in conn.execute("SELECT image FROM products WHERE id < %s ORDER BY id", (args.images,))]

    sys.path.insert(0, str(ROOT / "training"))
    import onnxruntime as ort
    from fashrec_train.preprocess import canonical_from_bytes
    models = ROOT / "models"
    meta = json.loads((models / "manifest.json").read_text())
    image_file = meta["image"]["file"]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(str(models / image_file), opts)
    start = time.perf_counter()
    for i in range(0, len(images), 64):
        batch = np.stack([canonical_from_bytes(b) for b in images[i:i + 64]])[:, None]
        session.run(None, {session.get_inputs()[0].name: batch})
    py_rate = len(images) / (time.perf_counter() - start)
    print(f"images per second, {len(images)} catalog PNGs: SQL embed_images (64 per call) {sql_rate:.0f}, "
          f"SQL embed_image per row {single_rate:.0f}, Python onnxruntime + reference preprocessing {py_rate:.0f} "
          f"(SQL / Python = {sql_rate / py_rate:.2f})")


if __name__ == "__main__":
    main()
