"""COPY into an attached table against the `fashrec embed` backfill, side by side in one run.

The same products (images and keywords of a `fashrec load --balanced N` catalog) are embedded
twice per round: by `fashrec embed` (batches of 256 rows, an UPDATE each) on the products table,
and by a COPY of their sku, image and keywords into a table attached with fashrec_attach (the
trigger embeds them in the statement). Rounds alternate the two; the rate is rows per second of
wall time, the ratio COPY / embed per round.

Run inside a cluster with the extension installed (the release build for recorded figures):
    FASHREC_CLI=target/release/fashrec PATH=.deps/venv/bin:$PATH \\
        pg_virtualenv -v 15 python3 bench/attach_copy.py --per-class 300 --rounds 2
"""
import argparse
import os
import re
import subprocess
import time
import uuid

import psycopg


def url(name):
    host, port = os.environ.get("PGHOST", "localhost"), os.environ.get("PGPORT", "5432")
    user, password = os.environ.get("PGUSER", "postgres"), os.environ.get("PGPASSWORD", "")
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgresql://{auth}/{name}?host={host}&port={port}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    cli = os.environ["FASHREC_CLI"]
    name = f"bench_attach_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(dbname="postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(url(name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION fashrec")
            subprocess.run([cli, "load", "--url", url(name), "--balanced", str(args.per_class)],
                           check=True, capture_output=True)
            rows = conn.execute("SELECT 'SKU-' || id, image, keywords FROM products ORDER BY id").fetchall()
            conn.execute("CREATE TABLE items (sku text PRIMARY KEY, photo bytea, blurb text, vec vector)")
            conn.execute("SELECT fashrec_attach('items', image => 'photo', text => 'blurb', embedding => 'vec')")
            conn.execute("SELECT embed_text('warm up the models')")
            print(f"{len(rows)} products; CPU flags: {'avx512f' if 'avx512f' in open('/proc/cpuinfo').read() else 'avx2'}")
            for r in range(args.rounds):
                conn.execute("UPDATE products SET embedding = NULL")
                conn.execute("VACUUM products")
                began = time.perf_counter()
                out = subprocess.run([cli, "embed", "--url", url(name)], check=True, capture_output=True, text=True)
                embed_s = time.perf_counter() - began
                assert re.search(rf"^embedded {len(rows)} products", out.stdout, re.M), out.stdout
                conn.execute("TRUNCATE items")
                began = time.perf_counter()
                with conn.cursor().copy("COPY items (sku, photo, blurb) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                copy_s = time.perf_counter() - began
                missing = conn.execute("SELECT count(*) FROM items WHERE vec IS NULL").fetchone()[0]
                assert missing == 0, missing
                load = os.getloadavg()[0]
                print(f"round {r + 1}: fashrec embed {len(rows) / embed_s:.1f} rows/s ({embed_s:.1f} s), "
                      f"COPY into the attached table {len(rows) / copy_s:.1f} rows/s ({copy_s:.1f} s), "
                      f"ratio {embed_s / copy_s:.2f}, load average {load:.2f}")
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
