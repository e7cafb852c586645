"""A bounded soak test of a fashrec_ivf index with filter columns, on a private cluster killed
with SIGKILL (postmaster and every backend at once) at random moments.

Workers run at once, each on its own rows so that it knows what it committed: inserts, updates
of the index's filter columns (gender, category, price: a new index entry), updates of a column
outside the index (HOT: the index keeps pointing at the chain's root), deletes; others search
with filters and VACUUM. After each kill the server recovers (with wal_consistency_checking),
and then:
- fashrec_ivf_check is clean (no row missing or duplicated, filter values equal the table's);
- every row a worker committed is in the table with the values it committed, and no row whose
  delete was committed is there (an operation cut by the kill may have gone either way);
- an exact filtered search through the index (every list probed) for every gender and category
  returns exactly the rows an exact plan without the index returns, nearest first (rows at the
  same distance in either order).

About 40 s by default; FASHREC_SOAK_SECONDS sets the workload time per round and
FASHREC_SOAK_ROUNDS the number of kills (for example 60 and 20 for a long run).
"""
import os
import random
import threading
import time

import pytest

from private_cluster import Cluster, until_killed

DIMS = 16
LISTS = 8
GENDERS = ["men", "women", "unisex"]
CATEGORIES = 6
WORKERS = 3
START_ROWS = 300  # per worker
ROUND_SECONDS = float(os.environ.get("FASHREC_SOAK_SECONDS", "5"))
ROUNDS = int(os.environ.get("FASHREC_SOAK_ROUNDS", "4"))


def vector(rng):
    return "[" + ",".join(f"{rng.uniform(-1, 1):.4f}" for _ in range(DIMS)) + "]"


def values(rng):
    return rng.choice(GENDERS), rng.randrange(CATEGORIES), round(rng.uniform(1, 200), 2)


class Worker:
    """Changes rows `base .. base + 10**6` only. `committed` maps id to the (gender, category,
    price, note) last acknowledged, or None once a delete was; `uncertain` holds the ids whose
    last operation the kill cut (committed or not: the server decides)."""

    def __init__(self, number):
        self.number = number
        self.base = (number + 1) * 1_000_000
        self.rng = random.Random(number)
        self.next_id = self.base
        self.committed = {}
        self.uncertain = set()

    def initial_rows(self):
        rows = []
        for _ in range(START_ROWS):
            g, c, p = values(self.rng)
            rows.append((self.next_id, g, c, p, 0, vector(self.rng)))
            self.committed[self.next_id] = (g, c, p, 0)
            self.next_id += 1
        return rows

    def step(self, conn):
        live = [i for i, v in self.committed.items() if v is not None and i not in self.uncertain]
        op = self.rng.random()
        if op < 0.35 or not live:
            row_id, (g, c, p) = self.next_id, values(self.rng)
            self.next_id += 1
            self.uncertain.add(row_id)
            conn.execute("INSERT INTO items VALUES (%s, %s, %s, %s, 0, %s)", (row_id, g, c, p, vector(self.rng)))
            self.committed[row_id] = (g, c, p, 0)
        else:
            row_id = self.rng.choice(live)
            g, c, p, note = self.committed[row_id]
            self.uncertain.add(row_id)
            if op < 0.55:
                g, c, p = values(self.rng)
                conn.execute("UPDATE items SET gender = %s, category = %s, price = %s WHERE id = %s", (g, c, p, row_id))
                self.committed[row_id] = (g, c, p, note)
            elif op < 0.8:
                conn.execute("UPDATE items SET note = note + 1 WHERE id = %s", (row_id,))
                self.committed[row_id] = (g, c, p, note + 1)
            else:
                conn.execute("DELETE FROM items WHERE id = %s", (row_id,))
                self.committed[row_id] = None
        self.uncertain.discard(row_id)

    def run(self, cluster, stop, errors):
        with until_killed(errors), cluster.connect() as conn:
            while not stop.is_set():
                self.step(conn)

    def settle(self, conn):
        """After recovery: what the server kept of each uncertain operation becomes committed."""
        for row_id in self.uncertain:
            row = conn.execute("SELECT gender, category, price::float8, note FROM items WHERE id = %s",
                               (row_id,)).fetchone()
            self.committed[row_id] = tuple(row) if row else None
        self.uncertain.clear()


def searcher(cluster, number, stop, errors, counts):
    rng = random.Random(100 + number)
    with until_killed(errors), cluster.connect() as conn:
        conn.execute("SET fashrec_ivf.probes = 2")
        conn.execute("SET enable_seqscan = off")
        while not stop.is_set():
            genders = rng.sample(GENDERS, rng.randint(1, 2))
            c, most = rng.randrange(CATEGORIES), rng.uniform(20, 200)
            rows = conn.execute(
                "SELECT gender, category, price FROM items WHERE gender = ANY(%s) AND category = %s::int "
                "AND price <= %s::numeric ORDER BY v <-> %s LIMIT 10", (genders, c, most, vector(rng))).fetchall()
            assert all(g in genders and cat == c and float(p) <= most for g, cat, p in rows), rows
            counts.append(len(rows))


def vacuumer(cluster, stop, errors):
    with until_killed(errors), cluster.connect() as conn:
        while not stop.wait(0.7):
            conn.execute("VACUUM items")


def assert_sound(conn, workers):
    ok, table_rows, index_rows, missing, duplicated, problems = conn.execute(
        "SELECT ok, table_rows, index_rows, missing, duplicated, problems FROM fashrec_ivf_check('items_v')"
    ).fetchone()
    assert (ok, missing, duplicated, problems) == (True, 0, 0, []), (table_rows, index_rows, problems)
    table = {r[0]: tuple(r[1:]) for r in conn.execute(
        "SELECT id, gender, category, price::float8, note FROM items")}
    for w in workers:
        for row_id, committed in w.committed.items():
            if committed is None:
                assert row_id not in table, f"row {row_id} came back after its delete was committed"
            else:
                assert table.get(row_id) == committed, f"row {row_id}: committed {committed}, found {table.get(row_id)}"
    conn.execute(f"SET fashrec_ivf.probes = {LISTS}")
    q = vector(random.Random(len(table)))
    for g in GENDERS:
        for c in range(CATEGORIES):
            # A second sort key would keep the planner off the index, and distances of a thousand
            # rows in float4 do tie: the two orders must agree up to ties.
            query = ("SELECT id, (v <-> %s)::float8 FROM items WHERE gender = %s AND category = %s::int "
                     "ORDER BY v <-> %s")
            conn.execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
            by_index = conn.execute(query, (q, g, c, q)).fetchall()
            plan = conn.execute("EXPLAIN " + query, (q, g, c, q)).fetchall()
            assert any("items_v" in line[0] for line in plan), plan
            conn.execute("RESET enable_seqscan; RESET enable_bitmapscan; SET enable_indexscan = off")
            exact = conn.execute(query, (q, g, c, q)).fetchall()
            conn.execute("RESET enable_indexscan")
            found, wanted = {r[0] for r in by_index}, {r[0] for r in exact}
            assert found == wanted, (g, c, "missing", wanted - found, "not deleted", found - wanted)
            assert len(by_index) == len(exact), (g, c, "duplicated rows")
            assert [r[1] for r in by_index] == [r[1] for r in exact], (g, c, "not nearest first")


@pytest.fixture()
def cluster():
    c = Cluster(port_offset=7)
    c.start()
    yield c
    c.remove()


def test_soak_with_filters_and_kills(cluster):
    workers = [Worker(n) for n in range(WORKERS)]
    with cluster.connect() as conn:
        conn.execute("CREATE EXTENSION fashrec")
        conn.execute(f"CREATE TABLE items (id bigint PRIMARY KEY, gender text, category int, price numeric, "
                     f"note int, v vector({DIMS})) WITH (fillfactor = 50)")
        with conn.cursor() as cur:
            for w in workers:
                cur.executemany("INSERT INTO items VALUES (%s, %s, %s, %s, %s, %s)", w.initial_rows())
        conn.execute(f"CREATE INDEX items_v ON items USING fashrec_ivf (gender, v, category, price) "
                     f"WITH (lists = {LISTS})")
    kill_rng = random.Random(42)
    searches = []
    for _ in range(ROUNDS):
        errors, stop = [], threading.Event()
        threads = [threading.Thread(target=w.run, args=(cluster, stop, errors)) for w in workers]
        threads += [threading.Thread(target=searcher, args=(cluster, n, stop, errors, searches)) for n in range(2)]
        threads.append(threading.Thread(target=vacuumer, args=(cluster, stop, errors)))
        for t in threads:
            t.start()
        time.sleep(ROUND_SECONDS * kill_rng.uniform(0.5, 1.5))
        cluster.kill9()
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        cluster.start()  # crash recovery
        with cluster.connect() as conn:
            for w in workers:
                w.settle(conn)
            assert_sound(conn, workers)
    assert searches and any(n > 0 for n in searches)
    changed = sum(len(w.committed) for w in workers) - WORKERS * START_ROWS
    assert changed > 0
    assert "inconsistent page found" not in cluster.log()
