"""Upgrades and dumps. Each earlier release's install script (sql/fashrec--X.sql, installed beside
the current one) is created, given data, a fashrec_ivf index with filter columns and, where the
release has it, an attached table; ALTER EXTENSION fashrec UPDATE then keeps every one answering,
and the updated catalog equals a fresh install's (so an SQL change without its upgrade step fails
here, with the difference shown). pg_dump / pg_restore of a database using the extension
round-trips vectors, index and triggers."""
import difflib
import os
import pathlib
import re
import subprocess
import uuid

import psycopg
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = "/usr/lib/postgresql/15/bin"
CURRENT = re.search(r'^version = "(.+)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)
RELEASES = sorted(p.name[len("fashrec--"):-len(".sql")] for p in (ROOT / "sql").glob("fashrec--*.sql")
                  if p.name.count("--") == 1)
PER_CLASS = 15
TEXTS = ["black canvas shoes", "summer dress"]

# Every object of the extension, described by what defines it (pg_depend's extension members).
CATALOG = r"""
WITH m AS (
    SELECT classid, objid, objsubid FROM pg_depend
    WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
      AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fashrec'))
SELECT pg_describe_object(classid, objid, objsubid) AS object, concat_ws(E'\n',
    CASE classid
    WHEN 'pg_proc'::regclass THEN (
        SELECT CASE WHEN p.prokind = 'a' THEN
            format('aggregate %s transfn %s finalfn %s combinefn %s stype %s initval %s parallel %s',
                   p.oid::regprocedure, a.aggtransfn, a.aggfinalfn, a.aggcombinefn,
                   a.aggtranstype::regtype, a.agginitval, p.proparallel)
            ELSE pg_get_functiondef(p.oid) END || ' acl ' || coalesce(p.proacl::text, '-')
        FROM pg_proc p LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid WHERE p.oid = m.objid)
    WHEN 'pg_type'::regclass THEN (
        SELECT format('len %s byval %s type %s category %s in %s out %s recv %s send %s modin %s modout %s analyze %s align %s storage %s elem %s columns %s',
                      t.typlen, t.typbyval, t.typtype, t.typcategory, t.typinput, t.typoutput, t.typreceive,
                      t.typsend, t.typmodin, t.typmodout, t.typanalyze, t.typalign, t.typstorage, t.typelem::regtype,
                      (SELECT string_agg(format('%s %s', attname, format_type(atttypid, atttypmod)), ', ' ORDER BY attnum)
                       FROM pg_attribute WHERE attrelid = t.typrelid AND attnum > 0))
        FROM pg_type t WHERE t.oid = m.objid)
    WHEN 'pg_operator'::regclass THEN (
        SELECT format('%s(%s, %s) -> %s code %s commutator %s negator %s restrict %s join %s hashes %s merges %s',
                      o.oprname, o.oprleft::regtype, o.oprright::regtype, o.oprresult::regtype, o.oprcode,
                      o.oprcom::regoperator, o.oprnegate::regoperator, o.oprrest, o.oprjoin, o.oprcanhash, o.oprcanmerge)
        FROM pg_operator o WHERE o.oid = m.objid)
    WHEN 'pg_opclass'::regclass THEN (
        SELECT format('for %s using %s default %s family %s key %s', c.opcintype::regtype, am.amname, c.opcdefault,
                      f.opfname, c.opckeytype::regtype)
        FROM pg_opclass c JOIN pg_am am ON am.oid = c.opcmethod JOIN pg_opfamily f ON f.oid = c.opcfamily
        WHERE c.oid = m.objid)
    WHEN 'pg_opfamily'::regclass THEN (
        SELECT concat_ws(' ',
            (SELECT string_agg(format('op %s %s %s %s', amopstrategy, amopopr::regoperator, amoppurpose,
                                      amopsortfamily), '; ' ORDER BY amopstrategy, amopopr::regoperator::text)
             FROM pg_amop WHERE amopfamily = m.objid),
            (SELECT string_agg(format('proc %s %s %s %s', amprocnum, amproclefttype::regtype,
                                      amprocrighttype::regtype, amproc::regprocedure), '; '
                               ORDER BY amprocnum, amproclefttype::regtype::text)
             FROM pg_amproc WHERE amprocfamily = m.objid)))
    WHEN 'pg_am'::regclass THEN (SELECT format('%s handler %s', amtype, amhandler) FROM pg_am WHERE oid = m.objid)
    WHEN 'pg_cast'::regclass THEN (
        SELECT format('function %s context %s method %s', castfunc::regprocedure, castcontext, castmethod)
        FROM pg_cast WHERE oid = m.objid)
    WHEN 'pg_class'::regclass THEN (
        SELECT format('kind %s acl %s columns %s view %s', c.relkind, coalesce(c.relacl::text, '-'),
                      (SELECT string_agg(format('%s %s', attname, format_type(atttypid, atttypmod)), ', ' ORDER BY attnum)
                       FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped),
                      CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END)
        FROM pg_class c WHERE c.oid = m.objid)
    END,
    (SELECT 'comment ' || description FROM pg_description d
     WHERE d.classoid = m.classid AND d.objoid = m.objid AND d.objsubid = 0)) AS definition
FROM m ORDER BY 1
"""


def admin():
    return psycopg.connect(dbname="postgres", autocommit=True)


@pytest.fixture()
def new_db():
    """Makes databases on demand (new_db() -> name), dropped after the test."""
    made = []

    def make():
        name = f"fashrec_upgrade_{uuid.uuid4().hex[:8]}"
        with admin() as a:
            a.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return name

    yield make
    with admin() as a:
        for name in made:
            a.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def connect(name):
    return psycopg.connect(dbname=name, autocommit=True)


def catalog(name):
    with connect(name) as conn:
        return [f"{obj}\n    {definition}" for obj, definition in conn.execute(CATALOG).fetchall()]


def url(name):
    host = os.environ.get("PGHOST", "localhost")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    password = os.environ.get("PGPASSWORD", "")
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgresql://{auth}/{name}?host={host}&port={port}"


def fill(cli, name):
    """A small catalog with product vectors and the demo's index (gender, embedding, category)."""
    load = subprocess.run([cli, "load", "--url", url(name), "--balanced", str(PER_CLASS)],
                          capture_output=True, text=True, timeout=300)
    assert load.returncode == 0, load.stderr
    with connect(name) as conn:
        conn.execute("""UPDATE products p SET embedding = e.v
            FROM (SELECT unnest(array_agg(id)) AS id, unnest(embed_products(array_agg(image), array_agg(keywords))) AS v
                  FROM products) e WHERE p.id = e.id""")
        conn.execute("CREATE INDEX products_embedding_idx ON products "
                     "USING fashrec_ivf (gender, embedding, category) WITH (lists = 8)")
        conn.execute("ANALYZE products")


def attach(conn):
    conn.execute("""CREATE SCHEMA shop;
        CREATE TABLE shop.items (sku text PRIMARY KEY, photo bytea, blurb text, vec vector);
        SELECT fashrec_attach('shop.items', image => 'photo', text => 'blurb', embedding => 'vec');
        INSERT INTO shop.items SELECT 'SKU-' || id, image, keywords FROM products WHERE id % 10 = 0""")


def answers(conn):
    """What the extension's objects answer on this database: through the index, the embed and
    recommend functions, the attached table."""
    conn.execute("SET enable_seqscan = off; SET fashrec_ivf.probes = 8")
    out = {}
    for text in TEXTS:
        query = "SELECT id FROM products WHERE gender = ANY(%s) ORDER BY embedding <-> embed_text(%s) LIMIT 5"
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + query, (["men", "unisex"], text)))
        assert "products_embedding_idx" in plan, plan
        out["index " + text] = conn.execute(query, (["men", "unisex"], text)).fetchall()
        out["text " + text] = conn.execute("SELECT embed_text(%s)::text", (text,)).fetchone()
        out["recommend " + text] = conn.execute(
            "SELECT id, round(score::numeric, 5) FROM recommend_for_text(%s, 5, 'women')", (text,)).fetchall()
    out["similar"] = conn.execute(
        "SELECT id FROM recommend_similar((SELECT min(id) FROM products), 5)").fetchall()
    out["image"] = conn.execute("""SELECT embed_image(image)::text, embed_product(image, keywords)::text
                                   FROM products ORDER BY id LIMIT 1""").fetchone()
    check = conn.execute("SELECT ok, missing, duplicated FROM fashrec_ivf_check('products_embedding_idx')").fetchone()
    assert check == (True, 0, 0), check
    if conn.execute("SELECT to_regclass('shop.items') IS NOT NULL").fetchone()[0]:
        out["attached"] = conn.execute("SELECT count(*), count(vec) FROM shop.items").fetchone()
    return out


def added_rows_are_indexed_and_embedded(conn):
    first = conn.execute("SELECT min(id) FROM products").fetchone()[0]
    columns = ("name, category, gender, size, price, colour, material, style, occasion, brand, description, "
               "short_description, keywords, split, image, embedding")
    conn.execute(f"INSERT INTO products (id, {columns}) SELECT id + 100000, {columns} FROM products WHERE id = %s",
                 (first,))
    conn.execute("SET enable_seqscan = off")
    got = conn.execute("""SELECT id FROM products ORDER BY embedding <->
                          (SELECT embedding FROM products WHERE id = %s) LIMIT 2""", (first,)).fetchall()
    assert sorted(got) == [(first,), (first + 100000,)]
    conn.execute("INSERT INTO shop.items SELECT 'NEW-' || id, image, keywords FROM products ORDER BY id LIMIT 2")
    assert conn.execute("SELECT count(*) FROM shop.items WHERE sku LIKE 'NEW-%' AND vec IS NULL").fetchone()[0] == 0


def test_releases_are_known():
    assert RELEASES, "sql/ holds no release's install script"
    assert CURRENT not in RELEASES, f"{CURRENT} is the version being developed, not a release"
    for release in RELEASES:
        assert (ROOT / "sql" / f"fashrec--{release}--{CURRENT}.sql").exists() or any(
            (ROOT / "sql").glob(f"fashrec--{release}--*.sql")), f"no upgrade script from {release}"


@pytest.mark.parametrize("release", RELEASES)
def test_update_keeps_every_object_answering(cli, new_db, release):
    name = new_db()
    with connect(name) as conn:
        conn.execute(f"CREATE EXTENSION fashrec VERSION '{release}'")
    fill(cli, name)
    with connect(name) as conn:
        has_attach = conn.execute("SELECT to_regproc('fashrec_attach') IS NOT NULL").fetchone()[0]
        if has_attach:
            attach(conn)
        before = answers(conn)
    with connect(name) as conn:  # a fresh backend, as after an upgrade of the server
        conn.execute("ALTER EXTENSION fashrec UPDATE")
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'fashrec'").fetchone()[0] == CURRENT
    with connect(name) as conn:
        if not has_attach:
            attach(conn)
            before["attached"] = conn.execute("SELECT count(*), count(*) FROM shop.items").fetchone()
        assert answers(conn) == before
        added_rows_are_indexed_and_embedded(conn)


@pytest.mark.parametrize("release", RELEASES)
def test_updated_catalog_equals_a_fresh_install(new_db, release):
    fresh, updated = new_db(), new_db()
    with connect(fresh) as conn:
        conn.execute("CREATE EXTENSION fashrec")
    with connect(updated) as conn:
        conn.execute(f"CREATE EXTENSION fashrec VERSION '{release}'")
        conn.execute("ALTER EXTENSION fashrec UPDATE")
    want, got = catalog(fresh), catalog(updated)
    assert len(want) > 50
    diff = "\n".join(difflib.unified_diff(want, got, f"fresh {CURRENT}", f"{release} updated", n=0,
                                         lineterm=""))
    if diff:
        pytest.fail(f"the upgrade from {release} (sql/fashrec--{release}--*.sql) misses these changes "
                    f"(- as a fresh install has it, + as the updated database has it):\n{diff}", pytrace=False)


def test_dump_and_restore_round_trip(cli, new_db, tmp_path):
    source, restored = new_db(), new_db()
    with connect(source) as conn:
        conn.execute("CREATE EXTENSION fashrec")
    fill(cli, source)
    with connect(source) as conn:
        attach(conn)
        before = answers(conn)
        vectors = conn.execute("SELECT id, embedding::text FROM products ORDER BY id").fetchall()
        triggers = conn.execute("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                                "WHERE tgrelid = 'shop.items'::regclass ORDER BY 1").fetchall()
    dump = tmp_path / "fashrec.dump"
    env = dict(os.environ)
    subprocess.run([f"{BIN}/pg_dump", "-Fc", "-f", str(dump), "-d", source], check=True, env=env)
    restore = subprocess.run([f"{BIN}/pg_restore", "--exit-on-error", "-d", restored, str(dump)],
                             capture_output=True, text=True, env=env)
    assert restore.returncode == 0, restore.stderr
    with connect(restored) as conn:
        assert conn.execute("SELECT id, embedding::text FROM products ORDER BY id").fetchall() == vectors
        assert conn.execute("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                            "WHERE tgrelid = 'shop.items'::regclass ORDER BY 1").fetchall() == triggers
        assert len(triggers) == 2
        conn.execute("ANALYZE products")
        assert answers(conn) == before
        added_rows_are_indexed_and_embedded(conn)
