"""`fashrec embed` against a real server: it fills every missing embedding with what SQL's
embed_product(image, keywords) gives, a rerun has nothing left to do, a partial table is completed, and a product
whose image cannot be embedded is named while the others are still embedded."""
import re
import signal
import subprocess
import time

import pytest

PER_CLASS = 20
PRODUCTS = PER_CLASS * 10
# Small against PRODUCTS, so the run takes many batches and the last one is partial.
BATCH = 64
BAD_ID = 1_000_000


def run_cli(cli, *args):
    return subprocess.run([cli, *args], capture_output=True, text=True, timeout=600)


def embedded_count(output):
    match = re.search(r"^embedded (\d+) products", output, re.MULTILINE)
    assert match, f"no summary line in:\n{output}"
    return int(match.group(1))


def scalar(conn, sql, *params):
    # No parameters: pass None, so a "%" in the SQL is not read as a placeholder.
    return conn.execute(sql, params or None).fetchone()[0]


@pytest.fixture(scope="module")
def first_run(cli, dburl):
    """A balanced catalog loaded, then one `fashrec embed` run; yields that run's result."""
    load = run_cli(cli, "load", "--url", dburl, "--balanced", str(PER_CLASS))
    assert load.returncode == 0, load.stderr
    return run_cli(cli, "embed", "--url", dburl, "--batch", str(BATCH))


@pytest.fixture()
def db(first_run, conn):
    return conn


def test_embeds_every_product(db, first_run):
    assert first_run.returncode == 0, first_run.stderr
    assert embedded_count(first_run.stdout) == PRODUCTS
    assert re.search(r"in [\d.]+ s \(\d+ products/s\)", first_run.stdout), first_run.stdout
    assert scalar(db, "SELECT count(*) FROM products WHERE embedding IS NULL") == 0
    # Product vectors have the dims of every other vector of the product space, and unit length.
    dims = scalar(db, "SELECT vector_dims(embed_text('black canvas shoes'))")
    assert dims > 64
    assert scalar(db, "SELECT count(*) FROM products WHERE vector_dims(embedding) = %s", dims) == PRODUCTS
    assert scalar(db, "SELECT max(abs(vector_norm(embedding) - 1)) FROM products") < 1e-5


def test_same_vectors_as_embed_product(db, first_run):
    rows = db.execute("SELECT id, 1 - (embedding <=> embed_product(image, keywords)) FROM products ORDER BY id"
                      ).fetchall()
    assert len(rows) == PRODUCTS
    worst_id, worst = min(rows, key=lambda r: r[1])
    assert worst > 0.9999, f"product {worst_id}: cosine {worst} to embed_product(image, keywords)"
    # Each row got its own image's vector, not a neighbour's from the same batch.
    assert scalar(db, "SELECT count(DISTINCT embedding::text) FROM products") > PRODUCTS * 0.9


def test_rerun_embeds_nothing(cli, dburl, db):
    before = scalar(db, "SELECT md5(string_agg(embedding::text, ',' ORDER BY id)) FROM products")
    rerun = run_cli(cli, "embed", "--url", dburl)
    assert rerun.returncode == 0, rerun.stderr
    assert embedded_count(rerun.stdout) == 0
    assert scalar(db, "SELECT md5(string_agg(embedding::text, ',' ORDER BY id)) FROM products") == before


def test_continues_a_partial_table(cli, dburl, db):
    """What an interrupted run leaves: some rows NULL, the rest kept."""
    cleared = db.execute("UPDATE products SET embedding = NULL WHERE id % 3 = 0").rowcount
    kept = scalar(db, "SELECT md5(string_agg(embedding::text, ',' ORDER BY id)) FROM products WHERE id % 3 <> 0")
    assert cleared > 0
    rerun = run_cli(cli, "embed", "--url", dburl, "--batch", "7")
    assert rerun.returncode == 0, rerun.stderr
    assert embedded_count(rerun.stdout) == cleared
    assert scalar(db, "SELECT count(*) FROM products WHERE embedding IS NULL") == 0
    assert scalar(db, "SELECT md5(string_agg(embedding::text, ',' ORDER BY id)) FROM products "
                      "WHERE id % 3 <> 0") == kept


def test_bad_image_is_named_and_the_rest_embedded(cli, dburl, db):
    columns = ("name, category, gender, size, price, colour, material, style, occasion, brand, "
               "description, short_description, keywords, split")
    db.execute(f"INSERT INTO products (id, {columns}, image) "
               f"SELECT %s, {columns}, '\\x00010203'::bytea FROM products ORDER BY id LIMIT 1", (BAD_ID,))
    try:
        cleared = db.execute("UPDATE products SET embedding = NULL WHERE id %% 5 = 0 AND id <> %s", (BAD_ID,)).rowcount
        result = run_cli(cli, "embed", "--url", dburl)
        assert result.returncode == 1, result.stdout + result.stderr
        assert f"product {BAD_ID}: ERROR: data is not an image" in result.stderr, result.stderr
        assert embedded_count(result.stdout) == cleared
        assert db.execute("SELECT id FROM products WHERE embedding IS NULL").fetchall() == [(BAD_ID,)]
    finally:
        db.execute("DELETE FROM products WHERE id = %s", (BAD_ID,))


def test_missing_table_is_a_clear_error(cli, dburl, db):
    db.execute("ALTER TABLE products RENAME TO products_away")
    try:
        result = run_cli(cli, "embed", "--url", dburl)
    finally:
        db.execute("ALTER TABLE products_away RENAME TO products")
    assert result.returncode == 1
    assert "no products table" in result.stderr and "fashrec load" in result.stderr, result.stderr


def test_ctrl_c_cancels_the_batch_in_the_server(cli, dburl, db):
    """Ctrl-C stops the statement in the server at once, not after the batch would have ended."""
    columns = ("name, category, gender, size, price, colour, material, style, occasion, brand, "
               "description, short_description, keywords, split, image")
    copies = 40  # one batch of PRODUCTS * copies rows: seconds of work in the server
    db.execute(f"INSERT INTO products (id, {columns}) SELECT 2000000 + row_number() OVER (), "
               f"{columns} FROM products, generate_series(1, {copies}) c")
    active = ("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s "
              "AND pid <> pg_backend_pid()")
    try:
        process = subprocess.Popen([cli, "embed", "--url", dburl, "--batch", str(PRODUCTS * copies)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while scalar(db, active, "%embed_products%") == 0:
            assert process.poll() is None and time.monotonic() < deadline, "the batch never started"
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 1 and "interrupted: 0 products were embedded" in stderr, stderr
        # The server stopped too: no statement left running, nothing of the batch kept.
        deadline = time.monotonic() + 1.0
        while scalar(db, active, "%embed_products%") > 0:
            assert time.monotonic() < deadline, "the batch went on running in the server"
            time.sleep(0.02)
        assert scalar(db, "SELECT count(*) FROM products WHERE id >= 2000000 AND embedding IS NOT NULL") == 0
    finally:
        db.execute("DELETE FROM products WHERE id >= 2000000")
