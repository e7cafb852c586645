"""The catalog hash-partitioned over two shards with PostgreSQL's own machinery.

A coordinator and two shard clusters on loopback. On the coordinator, products is a table
partitioned by hash of id whose partitions are postgres_fdw foreign tables, one on each shard;
the server option `extensions 'fashrec'` lets postgres_fdw send the extension's `<->` and vector
constants, so each shard orders its own rows by distance through its own fashrec_ivf index and
the coordinator merges the ordered streams (Merge Append). The global top k must equal an exact
search of one table holding every row; filters are sent to the shards (Remote SQL), where the
index checks them. Settings do not travel through the FDW: the shards' indexes carry probes.
"""
import re
import time

import numpy as np
import pytest

from private_cluster import Cluster

DIMS = 16
ROWS = 4000
SHARDS = 2
GENDERS = ["men", "women", "unisex"]
CATEGORIES = ["Bag", "Dress", "Sneaker", "Coat", "Shirt"]
COLUMNS = "id int, gender text, category text, embedding vector(16)"
FILTERS = ["", "WHERE gender IN ('women', 'unisex')", "WHERE category = 'Bag'",
           "WHERE gender = 'men' AND category = 'Coat'"]


def literal(v):
    return "[" + ",".join(f"{x:.5f}" for x in v) + "]"


@pytest.fixture(scope="module")
def catalog():
    """(coordinator, shards): rows in the partitioned table through the coordinator and in the
    local table reference (exact answers), each shard indexed with probes = lists (exact)."""
    clusters = []
    try:
        for i in range(SHARDS + 1):
            clusters.append(Cluster(port_offset=10 + i))
            clusters[-1].start()
        coordinator, shards = clusters[0], clusters[1:]
        for n, shard in enumerate(shards):
            with shard.connect() as conn:
                conn.execute("CREATE EXTENSION fashrec")
                conn.execute(f"CREATE TABLE products_{n} ({COLUMNS}, PRIMARY KEY (id))")
        with coordinator.connect() as conn:
            conn.execute("CREATE EXTENSION fashrec")
            conn.execute("CREATE EXTENSION postgres_fdw")
            conn.execute(f"CREATE TABLE products ({COLUMNS}) PARTITION BY HASH (id)")
            conn.execute(f"CREATE TABLE reference ({COLUMNS})")
            for n, shard in enumerate(shards):
                conn.execute(f"CREATE SERVER shard_{n} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', "
                             f"port '{shard.port}', dbname 'postgres', extensions 'fashrec', batch_size '500')")
                conn.execute(f"CREATE USER MAPPING FOR CURRENT_USER SERVER shard_{n} OPTIONS (user 'postgres')")
                conn.execute(f"CREATE FOREIGN TABLE products_{n} PARTITION OF products "
                             f"FOR VALUES WITH (MODULUS {SHARDS}, REMAINDER {n}) SERVER shard_{n}")
            rng = np.random.default_rng(7)
            vectors = rng.normal(size=(ROWS, DIMS)).astype(np.float32)
            rows = [(i, GENDERS[rng.integers(3)], CATEGORIES[rng.integers(len(CATEGORIES))], literal(v))
                    for i, v in enumerate(vectors)]
            with conn.cursor() as cur:
                for table in ("products", "reference"):
                    with cur.copy(f"COPY {table} FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
        for n, shard in enumerate(shards):
            with shard.connect() as conn:
                assert conn.execute(f"SELECT count(*) FROM products_{n}").fetchone()[0] > ROWS // 3
                conn.execute(f"CREATE INDEX products_{n}_idx ON products_{n} "
                             "USING fashrec_ivf (gender, embedding, category) WITH (lists = 8, probes = 8)")
                conn.execute(f"ANALYZE products_{n}")
        with coordinator.connect() as conn:
            conn.execute("ANALYZE products")
            conn.execute("ANALYZE reference")
        yield coordinator, shards
    finally:
        for c in clusters:
            c.remove()


def queries(n):
    rng = np.random.default_rng(11)
    return [literal(v) for v in rng.normal(size=(n, DIMS))]


def search(conn, table, where, q, k=10):
    return conn.execute(f"SELECT id, embedding <-> %s FROM {table} {where} ORDER BY embedding <-> %s LIMIT {k}",
                        (q, q)).fetchall()


def index_scans(shard, n):
    with shard.connect() as conn:
        return conn.execute("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = %s",
                            (f"products_{n}_idx",)).fetchone()[0]


def wait_for_index_scans(shards, expected, timeout=20):
    """Each shard's idx_scan once it reaches expected: the shards' backends that served the
    coordinator report their counts when they exit (postgres_fdw_disconnect_all)."""
    deadline = time.monotonic() + timeout
    while True:
        counts = [index_scans(shard, n) for n, shard in enumerate(shards)]
        if counts == expected or time.monotonic() > deadline:
            return counts
        time.sleep(0.1)


def test_global_top_k_equals_one_table(catalog):
    coordinator, shards = catalog
    before = [index_scans(shard, n) for n, shard in enumerate(shards)]
    with coordinator.connect() as conn:
        conn.execute("SET enable_indexscan = off")  # reference: an exact sort of every row
        for q in queries(10):
            for where in FILTERS:
                got = search(conn, "products", where, q)
                assert len(got) == 10
                assert got == search(conn, "reference", where, q), where
        conn.execute("SELECT postgres_fdw_disconnect_all()")
    # Every search was one scan of each shard's index (the coordinator's SET does not travel).
    searches = 10 * len(FILTERS)
    assert wait_for_index_scans(shards, [b + searches for b in before]) == [b + searches for b in before]


def test_order_and_filters_are_sent_to_shards(catalog):
    coordinator, shards = catalog
    q = queries(1)[0]
    with coordinator.connect() as conn:
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM products WHERE gender IN ('women', 'unisex') "
            f"AND category = 'Bag' ORDER BY embedding <-> '{q}' LIMIT 10"))
    assert "Merge Append" in plan, plan
    remote = re.findall(r"Remote SQL: (.*)", plan)
    assert len(remote) == SHARDS, plan
    for sql in remote:
        assert "WHERE" in sql and "gender = ANY" in sql and "category = 'Bag'" in sql, sql
        assert "ORDER BY (embedding OPERATOR(public.<->)" in sql, sql
        # Under a Merge Append postgres_fdw 15 sends no LIMIT: each shard's ordered scan is read
        # a cursor batch (fetch_size, 100 rows) at a time until the coordinator has its k.
        assert "LIMIT" not in sql, sql
    # On the shard the statement runs as postgres_fdw runs it, a cursor read a batch at a time
    # (planned for cursor_tuple_fraction of its rows: a plain EXPLAIN, planned for every row,
    # sorts instead); auto_explain hands its plan back: the index checks the sent filters.
    plans = []
    with shards[0].connect() as conn:
        conn.add_notice_handler(lambda notice: plans.append(notice.message_primary))
        conn.execute("LOAD 'auto_explain'")
        conn.execute("SET auto_explain.log_min_duration = 0")
        conn.execute("SET auto_explain.log_level = notice")
        with conn.transaction():
            conn.execute(f"DECLARE c CURSOR FOR {remote[0]}")
            assert len(conn.execute("FETCH 100 FROM c").fetchall()) > 10
            conn.execute("CLOSE c")
    shard_plan = "\n".join(plans)
    assert "Index Scan using products_0_idx" in shard_plan, shard_plan
    assert re.search(r"Index Cond: .*gender = ANY.*category = 'Bag'", shard_plan), shard_plan

def test_shards_follow_their_index_probes(catalog):
    """An index's probes is what a shard reads; a setting on the coordinator changes nothing."""
    coordinator, shards = catalog
    qs = queries(20)

    def merged_shard_answers():
        # The top 10 of each shard's own answer (a fresh session there: no settings), merged.
        per_shard = []
        for n, shard in enumerate(shards):
            with shard.connect() as conn:
                per_shard.append([search(conn, f"products_{n}", "", q) for q in qs])
        return [sorted(sum((s[i] for s in per_shard), []), key=lambda r: r[1])[:10] for i in range(len(qs))]

    with coordinator.connect() as conn:
        exact = [search(conn, "products", "", q) for q in qs]
    for n, shard in enumerate(shards):
        with shard.connect() as conn:
            conn.execute(f"ALTER INDEX products_{n}_idx SET (probes = 1)")
    try:
        with coordinator.connect() as conn:
            conn.execute("SET fashrec_ivf.probes = 8")
            one_probe = [search(conn, "products", "", q) for q in qs]
        assert one_probe != exact  # one list of eight per shard misses neighbours...
        assert one_probe == merged_shard_answers()  # ...as each shard's own probes = 1 does
    finally:
        for n, shard in enumerate(shards):
            with shard.connect() as conn:
                conn.execute(f"ALTER INDEX products_{n}_idx SET (probes = 8)")
