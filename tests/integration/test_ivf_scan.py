"""fashrec_ivf scans through SQL: the per-backend searcher cache stays right across rebuilds in
the same connection, the buffers a backend remembers for pages are only hints, scans are
counted in pg_stat_user_indexes, and a filtered scan skips a list whose summary rules it out."""
import random
import time

import psycopg
import pytest

DIMS = 8


def vec(values):
    return "[" + ",".join(f"{x:.6f}" for x in values) + "]"


def fill(conn, table, rows, seed, first_id=1):
    """Inserts `rows` random vectors with ids from `first_id` on; returns them by id."""
    rng = random.Random(seed)
    vectors = {i: [rng.uniform(-1, 1) for _ in range(DIMS)]
               for i in range(first_id, first_id + rows)}
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} (id, v) VALUES (%s, %s)",
                        [(i, vec(v)) for i, v in vectors.items()])
    return vectors


def exact(vectors, query, k):
    dist = {i: sum((a - b) ** 2 for a, b in zip(v, query)) for i, v in vectors.items()}
    return sorted(dist, key=lambda i: (dist[i], i))[:k]


def nearest(conn, table, query, k):
    """Ids of the k nearest rows through the index (every list probed: exact)."""
    conn.execute("SET enable_seqscan = off")
    conn.execute("SET fashrec_ivf.probes = 32768")
    plan = "\n".join(r[0] for r in conn.execute(
        f"EXPLAIN SELECT id FROM {table} ORDER BY v <-> %s LIMIT %s", (vec(query), k)))
    assert "Index Scan" in plan, plan
    rows = conn.execute(f"SELECT id FROM {table} ORDER BY v <-> %s LIMIT %s", (vec(query), k))
    return [r[0] for r in rows]


def test_one_backend_sees_every_rebuild(conn):
    """The backend caches an index's centroids; TRUNCATE, REINDEX, a rolled-back REINDEX and
    DROP + CREATE each give the index new pages, and the same connection must answer from them
    (a stale cache would follow old list heads: wrong rows or a corruption ERROR)."""
    conn.execute(f"CREATE TABLE cached (id int PRIMARY KEY, v vector({DIMS}))")
    vectors = fill(conn, "cached", 300, seed=1)
    conn.execute("CREATE INDEX cached_idx ON cached USING fashrec_ivf (v) WITH (lists = 8)")
    query = [0.1] * DIMS
    assert nearest(conn, "cached", query, 10) == exact(vectors, query, 10)

    conn.execute("TRUNCATE cached")
    vectors = fill(conn, "cached", 200, seed=2)
    assert nearest(conn, "cached", query, 10) == exact(vectors, query, 10)

    conn.execute("REINDEX INDEX cached_idx")
    assert nearest(conn, "cached", query, 10) == exact(vectors, query, 10)

    with conn.transaction(force_rollback=True):
        conn.execute("REINDEX INDEX cached_idx")
        assert nearest(conn, "cached", query, 10) == exact(vectors, query, 10)
    assert nearest(conn, "cached", query, 10) == exact(vectors, query, 10)

    conn.execute("DROP INDEX cached_idx")
    conn.execute("CREATE INDEX cached_idx ON cached USING fashrec_ivf (v) WITH (lists = 3)")
    assert nearest(conn, "cached", query, 10) == exact(vectors, query, 10)

    # Inserts after the build extend the lists' chains; the cached heads still reach them.
    vectors |= fill(conn, "cached", 500, seed=3, first_id=1000)
    assert nearest(conn, "cached", query, 10) == exact(vectors, query, 10)
    conn.execute("DROP TABLE cached")


def test_scans_are_counted_for_pg_stat_user_indexes(dburl):
    with psycopg.connect(dburl, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE counted (id int PRIMARY KEY, v vector({DIMS}))")
        fill(conn, "counted", 100, seed=4)
        conn.execute("CREATE INDEX counted_idx ON counted USING fashrec_ivf (v) WITH (lists = 4)")
    scans = 7
    with psycopg.connect(dburl, autocommit=True) as conn:
        for i in range(scans):
            nearest(conn, "counted", [i / 10] * DIMS, 3)
    # A backend reports its statistics when it exits; poll until they arrive.
    with psycopg.connect(dburl, autocommit=True) as conn:
        deadline = time.monotonic() + 20
        while True:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            count = conn.execute(
                "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'counted_idx'"
            ).fetchone()[0]
            if count >= scans or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert count == scans
        conn.execute("DROP TABLE counted")


def test_every_page_a_scan_reads_is_counted_for_pg_statio(dburl):
    """A filtered scan reads the pages it prefetched through the buffer the prefetch found
    (ReadRecentBuffer, which PostgreSQL does not count): they count in idx_blks_hit too."""
    with psycopg.connect(dburl, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE paged (id int PRIMARY KEY, g int, v vector({DIMS}))")
        fill(conn, "paged", 3000, seed=6)
        conn.execute("UPDATE paged SET g = id % 3")
        conn.execute("CREATE INDEX paged_idx ON paged USING fashrec_ivf (v, g) WITH (lists = 2)")
        list_pages = conn.execute("SELECT sum(pages) FROM fashrec_ivf_lists('paged_idx')").fetchone()[0]
        assert list_pages >= 10, "each list is a chain of several pages"

    def blocks(conn):
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute("SELECT idx_blks_hit + idx_blks_read FROM pg_statio_user_indexes "
                            "WHERE indexrelname = 'paged_idx'").fetchone()[0]

    with psycopg.connect(dburl, autocommit=True) as conn:
        before = blocks(conn)
    with psycopg.connect(dburl, autocommit=True) as conn:
        conn.execute("SET fashrec_ivf.probes = 2")
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_sort = off")
        # Both lists are read whole (probes 2); ten rows need only a few vectors read again.
        got = conn.execute(f"SELECT count(*) FROM (SELECT id FROM paged WHERE g >= 0 "
                           f"ORDER BY v <-> '{vec([0.0] * DIMS)}' LIMIT 10) t").fetchone()[0]
        assert got == 10
    # A backend reports its statistics when it exits; poll until they arrive.
    with psycopg.connect(dburl, autocommit=True) as conn:
        deadline = time.monotonic() + 20
        while blocks(conn) - before < list_pages and time.monotonic() < deadline:
            time.sleep(0.2)
        assert blocks(conn) - before >= list_pages
        conn.execute("DROP TABLE paged")


@pytest.mark.parametrize("rows", [0, 1])
def test_a_scan_of_a_tiny_index_in_a_fresh_backend(dburl, rows):
    """A fresh backend's first scan fills the cache; tiny and empty indexes work as well."""
    with psycopg.connect(dburl, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE tiny{rows} (id int PRIMARY KEY, v vector({DIMS}))")
        vectors = fill(conn, f"tiny{rows}", rows, seed=5)
        conn.execute(f"CREATE INDEX ON tiny{rows} USING fashrec_ivf (v) WITH (lists = 2)")
    with psycopg.connect(dburl, autocommit=True) as conn:
        assert nearest(conn, f"tiny{rows}", [0.0] * DIMS, 5) == exact(vectors, [0.0] * DIMS, 5)
        conn.execute(f"DROP TABLE tiny{rows}")


def test_scans_stay_right_when_the_buffers_they_remember_are_reused():
    """A backend remembers which buffer held each index page and pins it there next time if it
    still holds that page (ReadRecentBuffer). With shared_buffers far smaller than the index,
    nearly every remembered buffer holds another page by the next scan: the scans must notice
    and read the page anew, answering exactly, with the buffers reused by other relations, by
    the index itself and by inserts in between."""
    from private_cluster import Cluster

    dims, rows = 64, 4000
    cluster = Cluster(port_offset=7)
    try:
        cluster.start(["shared_buffers=256kB"])
        with cluster.connect() as conn:
            conn.execute("CREATE EXTENSION fashrec")
            conn.execute(f"CREATE TABLE churn (id int PRIMARY KEY, v vector({dims}))")
            rng = random.Random(11)
            vectors = {i: [rng.uniform(-1, 1) for _ in range(dims)] for i in range(rows)}
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO churn (id, v) VALUES (%s, %s)",
                                [(i, vec(v)) for i, v in vectors.items()])
            conn.execute("CREATE INDEX churn_idx ON churn USING fashrec_ivf (v) WITH (lists = 8)")
            pages = conn.execute("SELECT pg_relation_size('churn_idx') / 8192").fetchone()[0]
            assert pages > 4 * 32, f"the index ({pages} pages) must not fit in 32 buffers"
            conn.execute("CREATE TABLE filler AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 3000) g")
            for round in range(6):
                query = [rng.uniform(-1, 1) for _ in range(dims)]
                assert nearest(conn, "churn", query, 10) == exact(vectors, query, 10), round
                # Other pages into the buffers between scans: the table's, a second table's,
                # and new index pages.
                conn.execute("SELECT count(*) FROM filler WHERE pad <> ''")
                extra = {rows + 100 * round + i: [rng.uniform(-1, 1) for _ in range(dims)] for i in range(100)}
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO churn (id, v) VALUES (%s, %s)",
                                    [(i, vec(v)) for i, v in extra.items()])
                vectors |= extra
    finally:
        cluster.remove()


def scanned_with_report(conn, sql, params):
    """The rows of an index scan (probes 1, index scans forced) and its DEBUG1 report."""
    notices = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary))
    conn.execute("SET enable_seqscan = off; SET enable_bitmapscan = off; SET fashrec_ivf.probes = 1")
    conn.execute("SET client_min_messages = debug1")
    found = conn.execute(sql, params).fetchall()
    conn.execute("RESET client_min_messages")
    scans = [n for n in notices if n.startswith("fashrec_ivf scan")]
    assert scans, notices
    return found, scans[-1]


def test_a_list_with_both_values_but_never_in_one_row_is_not_read(dburl):
    """A list's summary counts which pairs of filter values occur together in a row: near the
    query, one list holds men's sneakers and women's bags, the other men's bags; asked for men's
    bags, the scan rules the first out unread (by single values it has men and bags)."""
    rng = random.Random(7)
    groups = [(5, "men", "Sneaker"), (5, "women", "Bag"), (-5, "men", "Bag")]
    rows = []
    for i in range(150):
        center, gender, category = groups[i % 3]
        v = [center + rng.uniform(-1, 1)] + [rng.uniform(-1, 1) for _ in range(DIMS - 1)]
        rows.append((i, gender, category, vec(v)))
    with psycopg.connect(dburl, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE pairs (id int PRIMARY KEY, gender text, category text, v vector({DIMS}))")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO pairs VALUES (%s, %s, %s, %s)", rows)
        conn.execute("CREATE INDEX pairs_v ON pairs USING fashrec_ivf (v, gender, category) WITH (lists = 2)")
        query = vec([5] + [0] * (DIMS - 1))
        found, report = scanned_with_report(
            conn, "SELECT gender, category FROM pairs WHERE gender = 'men' AND category = 'Bag' "
                  "ORDER BY v <-> %s LIMIT 10", (query,))
        assert found == [("men", "Bag")] * 10
        assert "2 lists probed (1 ruled out by their summaries, unread)" in report, report


def test_a_scan_skips_the_pages_of_a_list_that_hold_no_passing_row(dburl):
    """The build orders a list's rows by their filter values, the column with the most values
    first (the category, though the gender comes first in the index), and each page keeps their
    ranges: asked for bags, a scan of the one list reads only the pages holding bags, a fifth
    and at most two more (DEBUG1 report; by gender first, bags would lie in four runs), an
    updated row's new version widens the ranges of the page it lands on, and the check stays
    clean."""
    rng = random.Random(11)
    categories = ["Bag", "Dress", "Sneaker", "Shirt", "Coat"]
    genders = ["men", "women", "unisex", "kids"]
    rows = [(i, genders[i % 4], categories[i % 5], vec([rng.uniform(-1, 1) for _ in range(DIMS)]))
            for i in range(3000)]
    with psycopg.connect(dburl, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE paged (id int PRIMARY KEY, gender text, category text, v vector({DIMS}))")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO paged VALUES (%s, %s, %s, %s)", rows)
        conn.execute("CREATE INDEX paged_v ON paged USING fashrec_ivf (gender, v, category) WITH (lists = 1)")

        def bags(query):
            return scanned_with_report(conn, "SELECT id, category FROM paged WHERE category = 'Bag' "
                                             "ORDER BY v <-> %s LIMIT 10", (vec(query),))

        query = [0.0] * DIMS
        found, report = bags(query)
        assert [c for _, c in found] == ["Bag"] * 10
        skipped = int(report.split(" pages of them ruled out by their key ranges")[0].rsplit(" ", 1)[-1])
        pages = conn.execute("SELECT pages FROM fashrec_ivf_lists('paged_v')").fetchone()[0]
        assert pages - skipped <= pages // 5 + 2, (report, pages)
        # A dress moved to the query's spot and made a bag: its new version goes to the list's
        # last page (of one other category), whose ranges widen to take it; the scan finds it.
        conn.execute("UPDATE paged SET category = 'Bag', v = %s WHERE id = 1", (vec(query),))
        found, _ = bags(query)
        assert found[0] == (1, "Bag")
        assert conn.execute("SELECT ok FROM fashrec_ivf_check('paged_v')").fetchone()[0]
