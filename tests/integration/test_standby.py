"""A streaming hot standby answers searches exactly as its primary does.

A primary and a standby made by pg_basebackup -R, both private clusters on loopback. The primary
runs with wal_consistency_checking = generic: every generic WAL record (the only kind the index
writes) then carries full images of its pages, and the standby's replay compares each page it
rebuilds with them and stops with FATAL "inconsistent page found" on any difference. The catalog
is loaded and indexed after the base backup, so the index reaches the standby only through WAL;
then inserts, updates of the filter columns, deletes, VACUUM and REINDEX on the primary, and after
each the standby, once it has replayed that far, must return the primary's rows and distances
for every search: words, a photo and a product as the query, with and without filters.
"""
import pathlib
import subprocess
import time

import psycopg
import pytest

from conftest import load_catalog
from private_cluster import BIN, Cluster

DATA = pathlib.Path(__file__).resolve().parents[1] / "sql" / "data"
PHOTO = (DATA / "boot_photo.jpg").read_bytes()
FILTERS = ["", "WHERE gender IN ('women', 'unisex')", "WHERE category = 'Bag'",
           "WHERE gender IN ('men', 'unisex') AND category IN ('Sneaker', 'Ankle boot', 'Sandal')"]
QUERIES = [("embed_text(%s)", "black canvas shoes"), ("embed_text(%s)", "summer dress"),
           ("embed_image(%s)", PHOTO),
           ("(SELECT embedding FROM products WHERE id = %s)", 8)]


@pytest.fixture(scope="module")
def clusters():
    primary = Cluster()
    standby = None
    try:
        primary.start()
        with primary.connect() as conn:
            conn.execute("CREATE EXTENSION fashrec")
        standby = Cluster(port_offset=1, standby_of=primary)
        standby.start()
        yield primary, standby
    finally:
        if standby:
            standby.remove()
        primary.remove()


def wait_for_replay(primary, standby, timeout=30):
    """Waits until the standby has replayed everything the primary has written so far."""
    with primary.connect() as p:
        lsn = p.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    with standby.connect() as s:
        while not s.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0]:
            assert time.monotonic() < deadline, f"the standby did not replay to {lsn}; its log ends:\n" \
                                                f"{standby.log()[-3000:]}"
            time.sleep(0.05)


def answers(conn):
    """Every search's (id, distance) rows, in order, through the index (asserted by the plan)."""
    result = {}
    for expr, arg in QUERIES:
        for where in FILTERS:
            sql = f"SELECT id, embedding <-> {expr} FROM products {where} ORDER BY embedding <-> {expr} LIMIT 10"
            plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, (arg, arg)))
            assert "products_embedding_idx" in plan, plan
            result[(expr, str(arg)[:20], where)] = conn.execute(sql, (arg, arg)).fetchall()
    return result


# New products between two old ones (the mean of neighbours' vectors): no distance ties.
COLUMNS = ("name, category, gender, size, price, colour, material, style, occasion, brand, description, "
           "short_description, keywords, split, image")
INSERT = (f"INSERT INTO products (id, {COLUMNS}, embedding) "
          f"SELECT a.id + {{offset}}, {', '.join('a.' + c for c in COLUMNS.split(', '))}, "
          "l2_normalize(a.embedding + b.embedding) FROM products a JOIN products b ON b.id = a.id + 1 "
          "WHERE a.id % 3 = 0 AND a.id < 100000")


def test_standby_answers_as_primary(cli, clusters):
    primary, standby = clusters
    with primary.connect() as p:
        wal_start = p.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    load_catalog(cli, primary.url(), per_class=40, lists=20, probes=5)
    # (step, its SQL, whether it changes answers: VACUUM and REINDEX may not)
    steps = [
        ("load and index", None, True),
        ("insert", INSERT.format(offset=100000), True),
        ("update filter columns", "UPDATE products SET gender = CASE gender WHEN 'men' THEN 'women' ELSE 'men' END, "
                                  "category = CASE WHEN id % 2 = 0 THEN 'Bag' ELSE category END WHERE id % 4 = 1", True),
        ("delete", "DELETE FROM products WHERE id % 5 = 2", True),
        ("vacuum", "VACUUM products", False),
        ("insert after vacuum", INSERT.format(offset=200000), True),
        ("reindex", "REINDEX INDEX products_embedding_idx", False),
    ]
    # One connection to each server for the whole test: the standby's backend must also notice
    # a rebuilt index (REINDEX) in its cache of centroids, as the primary's does.
    with primary.connect() as p, standby.connect() as s:
        previous = None
        for name, change, moves in steps:
            if change:
                p.execute(change)
            wait_for_replay(primary, standby)
            expected = answers(p)
            assert all(len(rows) == 10 for rows in expected.values()), name
            assert answers(s) == expected, f"the standby differs from the primary after: {name}"
            # A change of the rows moves some answer, so a stale standby would show.
            assert expected != previous or not moves, name
            previous = expected
        assert s.execute("SELECT pg_is_in_recovery()").fetchone()[0]
        assert s.execute("SELECT reloptions FROM pg_class WHERE relname = 'products_embedding_idx'"
                         ).fetchone()[0] == ["lists=20", "probes=5"]
        ok, table_rows, index_rows = s.execute(
            "SELECT ok, table_rows, index_rows FROM fashrec_ivf_check('products_embedding_idx')").fetchone()
        assert ok and table_rows == index_rows
        wal_end = p.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    # The index's WAL is generic WAL, and wal_consistency_checking covered it: its records carry
    # the page images that the standby's replay checked its pages against.
    dump = subprocess.run([f"{BIN}/pg_waldump", "-p", f"{primary.data}/pg_wal", "-r", "Generic", "-b",
                           "-s", wal_start, "-e", wal_end], capture_output=True, text=True)
    records = [line for line in dump.stdout.splitlines() if line.startswith("rmgr: Generic")]
    assert len(records) > 100, dump.stdout[-2000:] + dump.stderr
    assert "for WAL verification" in dump.stdout
    assert "inconsistent page" not in standby.log()
