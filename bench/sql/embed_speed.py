"""Speed of the embedding functions through SQL, beside the same ONNX model run by Python
onnxruntime on the same machine in the same run.

    .deps/venv/bin/python bench/sql/embed_speed.py [--url URL] [--images 10000] [--threads 1]
        [--cli target/release/fashrec]

Needs a server with the extension and the catalog loaded (./fashrec.sh demo: the local cluster,
database fashrec, 70,000 products), run on this machine as a user who may read the backends'
/proc/PID/status (for their memory). The Python side runs under training/.venv (onnxruntime,
numpy, Pillow; see bench/sql/embed_onnxruntime.py); this script needs psycopg and numpy
(.deps/venv has them).

Reports:
- cold start: the first embed_text in a new connection (loads and checks every model), then the
  first embed_image; the median of a few new connections;
- the backend's memory before and after loading the models (VmRSS, and its private part RssAnon);
- embed_text latency for short queries in a warm backend, p50 and p99 (client round trip);
- images per second for the first --images catalog images: SQL embed_images in batches of 64 and
  256 images per call, SQL embed_image per row, and Python onnxruntime with the reference
  preprocessing (64 per model run), alternated --repeat times, medians compared;
- with --cli, `fashrec embed` backfilling 10,000 products in a scratch database (UPDATE and commit
  included).
"""
import argparse
import json
import pathlib
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import uuid

import psycopg

ROOT = pathlib.Path(__file__).resolve().parents[2]
WARM_UP = "SELECT embed_text('warm up: loads the models')"


def memory_kib(conn):
    """VmRSS and RssAnon of the connection's backend, in KiB."""
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                fields[key] = int(value.split()[0])
    return fields


def timed(conn, sql, params=None):
    start = time.perf_counter()
    row = conn.execute(sql, params).fetchone()
    return time.perf_counter() - start, row


def cold_start(url, threads, connections):
    """Per new connection: first embed_text, first embed_image, memory before and after."""
    runs = []
    for _ in range(connections):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"SET fashrec.model_threads = {threads}")
            before = memory_kib(conn)
            text_s, _ = timed(conn, "SELECT embed_text('black canvas shoes')")
            image_s, _ = timed(conn, "SELECT embed_image(image) FROM products ORDER BY id LIMIT 1")
            runs.append({"text_s": text_s, "image_s": image_s, "before": before, "after": memory_kib(conn)})
    return runs


def text_latency(conn, count):
    queries = [json.loads(line)["query"] for line in open(ROOT / "training/queries.jsonl")][:count]
    times = []
    for q in queries:
        seconds, _ = timed(conn, "SELECT embed_text(%s)", (q,))
        times.append(seconds * 1000)
    times.sort()
    return len(times), statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def sql_batch_rate(conn, images, batch):
    seconds, (n,) = timed(
        conn,
        "SELECT count(e) FROM (SELECT unnest(embed_images(array_agg(image))) e "
        "FROM (SELECT id / %s AS batch, image FROM products WHERE id < %s) t GROUP BY batch) s",
        (batch, images))
    assert n == images, f"embedded {n} of {images} images"
    return n / seconds


def sql_row_rate(conn, images):
    seconds, (n,) = timed(conn, "SELECT count(embed_image(image)) FROM products WHERE id < %s", (images,))
    return n / seconds


def python_rate(python, images_file, threads):
    out = subprocess.run([python, str(ROOT / "bench/sql/embed_onnxruntime.py"), images_file,
                          "--batch", "64", "--threads", str(threads)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"the Python side failed ({python}):\n{out.stderr}")
    return json.loads(out.stdout)


def cli_backfill(cli, url, per_class):
    """`fashrec embed` on a fresh scratch database holding per_class * 10 products."""
    name = f"fashrec_bench_embed_{uuid.uuid4().hex[:8]}"
    admin_url = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    scratch_url = psycopg.conninfo.make_conninfo(url, dbname=name)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(scratch_url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION fashrec")
        subprocess.run([cli, "load", "--url", scratch_url, "--balanced", str(per_class)],
                       check=True, capture_output=True)
        start = time.perf_counter()
        out = subprocess.run([cli, "embed", "--url", scratch_url], check=True, capture_output=True, text=True)
        return time.perf_counter() - start, out.stdout.strip()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5499/fashrec")
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="fashrec.model_threads and Python's intra-op threads")
    parser.add_argument("--repeat", type=int, default=3, help="alternated SQL and Python throughput runs")
    parser.add_argument("--cold", type=int, default=3, help="new connections for the cold start")
    parser.add_argument("--python", default=str(ROOT / "training/.venv/bin/python"))
    parser.add_argument("--cli", help="the fashrec binary: also time `fashrec embed` on 10,000 products")
    args = parser.parse_args()

    with psycopg.connect(args.url, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM products WHERE id < %s", (args.images,)).fetchone()[0]
        if have < args.images:
            sys.exit(f"products has {have} rows with id < {args.images}: load the catalog (./fashrec.sh demo)")

    cold = cold_start(args.url, args.threads, args.cold)
    mib = lambda kib: kib / 1024  # noqa: E731
    print(f"cold start ({len(cold)} new connections, median): first embed_text "
          f"{statistics.median(r['text_s'] for r in cold) * 1000:.0f} ms (loads every model), "
          f"then first embed_image {statistics.median(r['image_s'] for r in cold) * 1000:.1f} ms")
    last = cold[-1]
    print(f"backend memory: VmRSS {mib(last['before']['VmRSS']):.0f} -> {mib(last['after']['VmRSS']):.0f} MiB "
          f"(+{mib(last['after']['VmRSS'] - last['before']['VmRSS']):.0f}); private RssAnon "
          f"{mib(last['before']['RssAnon']):.0f} -> {mib(last['after']['RssAnon']):.0f} MiB "
          f"(+{mib(last['after']['RssAnon'] - last['before']['RssAnon']):.0f}); file-backed RssFile "
          f"{mib(last['before']['RssFile']):.0f} -> {mib(last['after']['RssFile']):.0f} MiB")

    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute(f"SET fashrec.model_threads = {args.threads}")
        conn.execute(WARM_UP)
        threads = conn.execute("SHOW fashrec.model_threads").fetchone()[0]
        n, p50, p99 = text_latency(conn, args.texts)
        print(f"embed_text, {n} short queries, warm backend, client round trip: p50 {p50:.2f} ms, p99 {p99:.2f} ms")

        images = [bytes(r[0]) for r in conn.execute(
            "SELECT image FROM products WHERE id < %s ORDER BY id", (args.images,))]
        with tempfile.NamedTemporaryFile(suffix=".images") as f:
            for b in images:
                f.write(struct.pack("<I", len(b)) + b)
            f.flush()
            sql64, sql256, python = [], [], []
            for _ in range(args.repeat):
                sql64.append(sql_batch_rate(conn, args.images, 64))
                sql256.append(sql_batch_rate(conn, args.images, 256))
                python.append(python_rate(args.python, f.name, args.threads))
        row_images = min(args.images, 2000)
        row = sql_row_rate(conn, row_images)

    py = [p["images_per_second"] for p in python]
    fmt = lambda rates: ", ".join(f"{r:.0f}" for r in rates)  # noqa: E731
    print(f"images per second, {len(images)} catalog PNGs, fashrec.model_threads = {threads}, "
          f"{args.repeat} alternated runs:")
    print(f"  SQL embed_images, 64 per call:   median {statistics.median(sql64):.0f} ({fmt(sql64)})")
    print(f"  SQL embed_images, 256 per call:  median {statistics.median(sql256):.0f} ({fmt(sql256)})")
    print(f"  SQL embed_image per row ({row_images} images): {row:.0f}")
    print(f"  Python onnxruntime {python[0]['onnxruntime']} + reference preprocessing, 64 per run: "
          f"median {statistics.median(py):.0f} ({fmt(py)}); of its time "
          f"{100 * statistics.median(p['preprocess_seconds'] / p['seconds'] for p in python):.0f}% preprocessing")
    print(f"  SQL / Python: {statistics.median(sql64) / statistics.median(py):.2f} (64 per call), "
          f"{statistics.median(sql256) / statistics.median(py):.2f} (256 per call)")

    if args.cli:
        seconds, summary = cli_backfill(args.cli, args.url, 1000)
        print(f"fashrec embed, 10,000 products in a scratch database: {seconds:.1f} s wall; it says: {summary}")


if __name__ == "__main__":
    main()
