"""Every user-facing ERROR carries the SQLSTATE a client can act on (pgvector's where pgvector has
one), not XX000, and the connection lives on after it. Each case runs in a fresh connection."""
import uuid

import psycopg
import pytest

# (name, setup statements, failing statement, SQLSTATE). Not here, because SQL cannot reach them: a
# fashrec_ivf scan without ORDER BY (0A000; the planner never picks one), a NULL vector argument
# (22004; every function taking one is STRICT), and the internal errors (XX000).
CASES = [
    ("malformed text", [], "SELECT '[1,2'::vector", "22P02"),
    ("typmod with two numbers", [], "SELECT '[1]'::vector(1, 2)", "22023"),
    ("typmod not an integer", [], "SELECT '[1]'::vector('three')", "22023"),
    ("typmod of zero", [], "SELECT '[1]'::vector(0)", "22023"),
    ("NULL in an array", [], "SELECT ARRAY[1, NULL]::real[]::vector", "22004"),
    ("element out of integer range", [], "SELECT '[3e9]'::vector::int[]", "22003"),
    ("dimension mismatch", [], "SELECT '[1,2]'::vector <-> '[1,2,3]'", "22000"),
    ("wrong dimensions for a column", [], "INSERT INTO items VALUES (99, '[1,2]')", "22000"),
    ("index scan with a query of other dimensions", ["SET enable_seqscan = off"],
     "SELECT id FROM items ORDER BY v <-> '[1,2]' LIMIT 1", "22000"),
    # A binary-coercible cast lets SQL hand the type any bytes: here 3 dimensions and no elements.
    ("corrupt stored vector", ["CREATE CAST (bytea AS vector) WITHOUT FUNCTION"],
     "SELECT vector_dims('\\x03000000'::bytea::vector)", "XX001"),
    ("empty text to embed", [], "SELECT embed_text('   ')", "22023"),
    ("check of an index of another kind", [], "SELECT * FROM fashrec_ivf_check('items_id')", "42809"),
    ("info of a table", [], "SELECT * FROM fashrec_ivf_info('items')", "42809"),
    ("index on an empty column without dimensions", ["CREATE TABLE no_dims (v vector)"],
     "CREATE INDEX ON no_dims USING fashrec_ivf (v)", "42P17"),
    ("operator class with an unsupported distance function",
     ["CREATE OPERATOR CLASS ip_as_distance FOR TYPE vector USING fashrec_ivf AS "
      "OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops, FUNCTION 1 inner_product(vector, vector)"],
     "CREATE INDEX ON items USING fashrec_ivf (v ip_as_distance)", "42P17"),
    ("operator class without a distance function",
     ["CREATE OPERATOR CLASS no_function FOR TYPE vector USING fashrec_ivf AS "
      "OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops"],
     "CREATE INDEX ON items USING fashrec_ivf (v no_function)", "42P17"),
]


@pytest.fixture(scope="module")
def items(dburl):
    with psycopg.connect(dburl, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id int, v vector(3))")
        conn.execute("INSERT INTO items SELECT i, ARRAY[i, i % 7, i % 3]::vector FROM generate_series(1, 100) i")
        conn.execute("CREATE INDEX items_v ON items USING fashrec_ivf (v) WITH (lists = 4)")
        conn.execute("CREATE INDEX items_id ON items (id)")
    return dburl


def assert_error_then_alive(conn, statement, sqlstate):
    with pytest.raises(psycopg.Error) as raised:
        conn.execute(statement)
    assert raised.value.diag.sqlstate == sqlstate, raised.value.diag.message_primary
    conn.rollback()
    assert conn.execute("SELECT '[1,2,3]'::vector <-> '[1,2,4]'").fetchone() == (1.0,)


@pytest.mark.parametrize("name,setup,statement,sqlstate", CASES, ids=[c[0] for c in CASES])
def test_error_has_its_sqlstate(items, name, setup, statement, sqlstate):
    with psycopg.connect(items) as conn:  # one transaction: the setup is rolled back with the error
        for s in setup:
            conn.execute(s)
        assert_error_then_alive(conn, statement, sqlstate)


def test_invalid_utf8_is_invalid_text(items):
    # Only a SQL_ASCII database lets bytes that are not UTF-8 reach the input function.
    name = f"fashrec_ascii_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dbname="postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE \"{name}\" ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    try:
        with psycopg.connect(items, dbname=name, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION fashrec")
            assert_error_then_alive(conn, "SELECT E'[1,\\377]'::vector", "22P02")
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
