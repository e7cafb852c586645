"""fashrec_ivf under concurrency and crashes, on a private cluster that the test can kill.

Several connections insert and search at once; then the server is killed with
`pg_ctl stop -m immediate` in the middle of concurrent inserts and restarted with
wal_consistency_checking = generic, which makes recovery verify every replayed generic WAL
record against a full page image. No acknowledged row may be lost, and the index must pass
fashrec_ivf_check and give exact answers at probes = lists.
"""
import random
import threading
import time

import pytest

from private_cluster import Cluster, until_killed

DIMS = 16


@pytest.fixture()
def cluster():
    c = Cluster()
    c.start()
    yield c
    c.remove()


def vector(rng):
    return "[" + ",".join(f"{rng.uniform(-1, 1):.4f}" for _ in range(DIMS)) + "]"


def setup_table(conn):
    conn.execute("CREATE EXTENSION fashrec")
    conn.execute(f"CREATE TABLE items (id bigint PRIMARY KEY, v vector({DIMS}))")
    rng = random.Random(1)
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO items VALUES (%s, %s)", [(i, vector(rng)) for i in range(2000)])
    conn.execute("CREATE INDEX items_v ON items USING fashrec_ivf (v) WITH (lists = 16)")


def inserter(cluster, worker, acknowledged, stop, errors):
    rng = random.Random(1000 + worker)  # not the seed of the initial rows: no equal vectors
    next_id = 1_000_000 * (worker + 1)
    with until_killed(errors), cluster.connect() as conn:
        while not stop.is_set():
            conn.execute("INSERT INTO items VALUES (%s, %s)", (next_id, vector(rng)))
            acknowledged.append(next_id)
            next_id += 1


def searcher(cluster, worker, stop, errors, counts):
    rng = random.Random(100 + worker)
    with until_killed(errors), cluster.connect() as conn:
        conn.execute("SET fashrec_ivf.probes = 4")
        while not stop.is_set():
            rows = conn.execute("SELECT id FROM items ORDER BY v <-> %s LIMIT 10", (vector(rng),)).fetchall()
            counts.append(len(rows))


def run_workers(cluster, seconds, kill):
    acknowledged, errors, counts = [], [], []
    stop = threading.Event()
    threads = [threading.Thread(target=inserter, args=(cluster, w, acknowledged, stop, errors)) for w in range(4)]
    threads += [threading.Thread(target=searcher, args=(cluster, w, stop, errors, counts)) for w in range(2)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    if kill:
        cluster.stop("immediate")
    stop.set()
    for t in threads:
        t.join(timeout=30)
    return acknowledged, errors, counts


def assert_index_sound(conn, expected_rows):
    ok, table_rows, index_rows, missing, duplicated = conn.execute(
        "SELECT ok, table_rows, index_rows, missing, duplicated FROM fashrec_ivf_check('items_v')").fetchone()
    assert (ok, missing, duplicated) == (True, 0, 0)
    assert table_rows == index_rows == expected_rows
    conn.execute("SET fashrec_ivf.probes = 16")
    rng = random.Random(7)
    for _ in range(5):
        q = vector(rng)
        # Random vectors do not tie; a second sort key would keep the planner off the index.
        query = "SELECT id FROM items ORDER BY v <-> %s LIMIT 10"
        conn.execute("SET enable_seqscan = off")
        by_index = conn.execute(query, (q,)).fetchall()
        assert "items_v" in str(conn.execute("EXPLAIN " + query, (q,)).fetchall())
        conn.execute("SET enable_seqscan = on; SET enable_indexscan = off")
        exact = conn.execute(query, (q,)).fetchall()
        conn.execute("RESET enable_indexscan")
        assert by_index == exact


def test_concurrent_inserts_and_searches(cluster):
    with cluster.connect() as conn:
        setup_table(conn)
    acknowledged, errors, counts = run_workers(cluster, seconds=3, kill=False)
    assert errors == []
    assert acknowledged and counts and all(c == 10 for c in counts)
    with cluster.connect() as conn:
        assert_index_sound(conn, 2000 + len(acknowledged))


def test_crash_during_inserts_loses_nothing(cluster):
    with cluster.connect() as conn:
        setup_table(conn)
    acknowledged, errors, _ = run_workers(cluster, seconds=3, kill=True)
    assert errors == []
    assert len(acknowledged) > 50
    cluster.start()  # crash recovery, replay checked by wal_consistency_checking
    with cluster.connect() as conn:
        present = {r[0] for r in conn.execute("SELECT id FROM items WHERE id >= 1000000")}
        assert set(acknowledged) <= present, "a committed row was lost"
        total = conn.execute("SELECT count(*) FROM items").fetchone()[0]
        assert_index_sound(conn, total)
        # The index keeps working after recovery.
        conn.execute("INSERT INTO items VALUES (999999, %s)", (vector(random.Random(3)),))
        assert_index_sound(conn, total + 1)
    assert "inconsistent page found" not in cluster.log()
