"""pgvector's own Python client library talks to fashrec's vector type unchanged."""
import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector


@pytest.fixture()
def vconn(conn):
    register_vector(conn)
    conn.execute("DROP TABLE IF EXISTS items")
    conn.execute("CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))")
    return conn


def test_text_parameters_round_trip(vconn):
    vconn.execute("INSERT INTO items VALUES (1, %s)", (np.array([1.5, -2.25, 3e-5], dtype=np.float32),))
    got = vconn.execute("SELECT embedding FROM items WHERE id = 1").fetchone()[0]
    assert list(got) == pytest.approx([1.5, -2.25, 3e-5], rel=1e-7)


def test_binary_parameters_and_results_round_trip(vconn):
    rng = np.random.default_rng(7)
    rows = [(i, rng.standard_normal(3).astype(np.float32)) for i in range(50)]
    with vconn.cursor(binary=True) as cur:
        # %b forces binary parameters; binary=True asks for binary results.
        cur.executemany("INSERT INTO items VALUES (%b, %b)", rows)
        cur.execute("SELECT id, embedding FROM items ORDER BY id")
        back = cur.fetchall()
    assert len(back) == 50
    for (i, v), (j, w) in zip(rows, back):
        assert i == j
        np.testing.assert_array_equal(v, np.asarray(w))


def test_binary_copy_round_trip(vconn):
    vectors = np.arange(30, dtype=np.float32).reshape(10, 3) / 7
    with vconn.cursor() as cur:
        with cur.copy("COPY items (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "vector"])
            for i, v in enumerate(vectors):
                copy.write_row((i, v))
        with cur.copy("COPY (SELECT embedding FROM items ORDER BY id) TO STDOUT WITH (FORMAT BINARY)") as copy:
            copy.set_types(["vector"])
            back = [row[0] for row in copy.rows()]
    np.testing.assert_array_equal(np.stack([np.asarray(b) for b in back]), vectors)


def test_distance_of_client_vectors(vconn):
    a = np.array([1, 2, 3], dtype=np.float32)
    b = np.array([3, 2, 1], dtype=np.float32)
    with vconn.cursor(binary=True) as cur:
        cur.execute("SELECT %b::vector <-> %b::vector", (a, b))
        assert cur.fetchone()[0] == 2.8284271247461903


def test_binary_dimension_mismatch_is_an_error(vconn):
    with pytest.raises(psycopg.errors.DataException, match="expected 3 dimensions, not 2"):
        with vconn.cursor(binary=True) as cur:
            cur.execute("INSERT INTO items VALUES (99, %b)", (np.array([1, 2], dtype=np.float32),))
    assert vconn.execute("SELECT count(*) FROM items").fetchone()[0] == 0
