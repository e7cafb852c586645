"""Fixtures for tests against a running server (PG* environment variables, set by pg_virtualenv)."""
import os
import subprocess
import uuid

import psycopg
import pytest


def _admin():
    return psycopg.connect(dbname="postgres", autocommit=True)


@pytest.fixture(scope="module")
def dburl():
    """A libpq URL of a fresh database with the extension created, dropped after the module."""
    name = f"fashrec_test_{uuid.uuid4().hex[:8]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(dbname=name, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION fashrec")
    info = psycopg.conninfo.conninfo_to_dict("")
    host = os.environ.get("PGHOST", "localhost")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    password = os.environ.get("PGPASSWORD", info.get("password", ""))
    auth = f"{user}:{password}@" if password else f"{user}@"
    # A socket directory as host goes in the query string, where libpq accepts a path.
    yield f"postgresql://{auth}/{name}?host={host}&port={port}"
    with _admin() as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture()
def conn(dburl):
    """An autocommit connection to the module's database."""
    with psycopg.connect(dburl, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="session")
def cli():
    """Path of the built `fashrec` command-line tool."""
    path = os.environ.get("FASHREC_CLI")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("FASHREC_CLI must point at the built fashrec binary (./fashrec.sh test sets it)")
    return path


def load_catalog(cli, url, per_class, lists, probes=None):
    """Loads a balanced catalog (per_class products of each of the 10 categories) into the
    database at url, computes the product vectors and builds the index as the demo does (the
    gender modes' IN and the category checked in the index), with its own probes if given."""
    result = subprocess.run([cli, "load", "--url", url, "--balanced", str(per_class)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("""UPDATE products p SET embedding = e.v
            FROM (SELECT unnest(array_agg(id)) AS id, unnest(embed_products(array_agg(image), array_agg(keywords))) AS v
                  FROM products) e WHERE p.id = e.id""")
        conn.execute("CREATE INDEX products_embedding_idx ON products "
                     f"USING fashrec_ivf (gender, embedding, category) WITH (lists = {int(lists)}"
                     + (f", probes = {int(probes)})" if probes else ")"))
        conn.execute("ANALYZE products")
