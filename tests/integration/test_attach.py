"""fashrec_attach on a shop's own table unlike the demo's (schema shop, a text SKU key, other
column names): a COPY of 10,000 rows is embedded in the same statement, in one model run per
1,000 rows; an updated photo re-embeds that row only; a bad image fails the statement naming
its SKU (or, by option, leaves its row NULL with a WARNING); detach removes the triggers.
fashrec_recommend on that table returns what the plain SQL query returns."""
import gzip
import io

import numpy as np
import psycopg
import pytest
from PIL import Image

ROWS = 10_000
CHUNK = 1_000  # rows per model run, as sql/attach.sql batches them
MNIST = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
CATEGORIES = ["t-shirt", "trousers", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
              "bag", "ankle boot"]
COLOURS = ["black", "white", "red", "navy", "beige", "green"]
SEXES = ["men", "women", "unisex", "women"]
SHOP = """
CREATE SCHEMA shop;
CREATE TABLE shop.items (
    sku text PRIMARY KEY,
    title text NOT NULL,
    blurb text,
    sex text,
    kind varchar,
    photo bytea,
    price_cents int,
    vec vector
)"""


def photos(count):
    """PNG pictures of the Fashion-MNIST test set (Debian's dataset-fashion-mnist)."""
    with gzip.open(MNIST) as f:
        pixels = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    out = []
    for k in range(count):
        buf = io.BytesIO()
        Image.fromarray(pixels[k % len(pixels)]).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


PHOTOS = photos(ROWS)


def item(k):
    return (f"SKU-{k:05d}", f"item {k}", f"{COLOURS[k % 6]} cotton {CATEGORIES[k % 10]}",
            SEXES[k % 4], CATEGORIES[k % 10], PHOTOS[k], 100 + k)


def copy_items(conn, items):
    with conn.cursor().copy("COPY shop.items (sku, title, blurb, sex, kind, photo, price_cents) FROM STDIN") as copy:
        for row in items:
            copy.write_row(row)


def calls(conn, function):
    """Calls of `function` in this transaction so far (track_functions = 'all')."""
    return conn.execute("SELECT coalesce(pg_stat_get_xact_function_calls(%s::regprocedure), 0)",
                        (function,)).fetchone()[0]


EMBED_ROWS = "fashrec_embed_rows(text, text, text[], bytea[], text[], text)"


@pytest.fixture(scope="module")
def shop(dburl):
    """shop.items attached, then 10,000 rows copied in; yields the connection of that COPY's
    transaction facts: model runs counted inside it, and the rows without an embedding then."""
    with psycopg.connect(dburl) as conn:
        conn.execute(SHOP)
        conn.execute("SELECT fashrec_attach('shop.items', image => 'photo', text => 'blurb', embedding => 'vec')")
        conn.execute("SET LOCAL track_functions = 'all'")
        copy_items(conn, (item(k) for k in range(ROWS)))
        facts = {
            "missing": conn.execute("SELECT count(*) FROM shop.items WHERE vec IS NULL").fetchone()[0],
            "batch_runs": calls(conn, EMBED_ROWS),
            "single_runs": calls(conn, "embed_product(bytea, text)"),
        }
        conn.commit()
    return facts


@pytest.fixture()
def db(shop, conn):
    return conn


def test_copy_embeds_every_row_in_the_statement(db, shop):
    assert shop["missing"] == 0
    assert shop["batch_runs"] == ROWS // CHUNK
    assert shop["single_runs"] == 0
    assert db.execute("SELECT count(*) FROM shop.items").fetchone()[0] == ROWS


def test_embeddings_are_embed_product(db, shop):
    # A batch and a single run may round differently: compare as nearly equal.
    worst = db.execute("""SELECT max(vec <-> embed_product(photo, blurb)) FROM shop.items
                          WHERE sku IN ('SKU-00000', 'SKU-01234', 'SKU-09999')""").fetchone()[0]
    assert worst < 1e-4


def test_update_of_a_photo_re_embeds_that_row_only(db, shop):
    before = dict(db.execute("SELECT sku, vec::text FROM shop.items").fetchall())
    db.execute("UPDATE shop.items SET photo = %s WHERE sku = 'SKU-00042'", (PHOTOS[7],))
    after = dict(db.execute("SELECT sku, vec::text FROM shop.items").fetchall())
    changed = [sku for sku in before if before[sku] != after[sku]]
    assert changed == ["SKU-00042"]
    distance = db.execute("""SELECT vec <-> embed_product(photo, blurb) FROM shop.items
                             WHERE sku = 'SKU-00042'""").fetchone()[0]
    assert distance < 1e-4
    # Another column, or the same photo again, runs no model.
    with db.transaction():
        db.execute("SET LOCAL track_functions = 'all'")
        db.execute("UPDATE shop.items SET price_cents = price_cents + 1, photo = photo WHERE sku < 'SKU-00100'")
        assert calls(db, EMBED_ROWS) == 0


def test_new_text_re_embeds_and_null_clears(db, shop):
    db.execute("UPDATE shop.items SET blurb = 'red leather bag' WHERE sku = 'SKU-00043'")
    assert db.execute("""SELECT vec <-> embed_product(photo, 'red leather bag') FROM shop.items
                         WHERE sku = 'SKU-00043'""").fetchone()[0] < 1e-4
    db.execute("UPDATE shop.items SET photo = NULL WHERE sku = 'SKU-00044'")
    db.execute("UPDATE shop.items SET blurb = NULL WHERE sku = 'SKU-00045'")
    nulls = db.execute("""SELECT sku FROM shop.items WHERE vec IS NULL ORDER BY sku""").fetchall()
    assert nulls == [("SKU-00044",), ("SKU-00045",)]
    db.execute("UPDATE shop.items SET photo = %s WHERE sku = 'SKU-00044'", (PHOTOS[44],))
    assert db.execute("SELECT vec IS NOT NULL FROM shop.items WHERE sku = 'SKU-00044'").fetchone()[0]


def test_a_bad_image_fails_the_statement_naming_its_sku(db, shop):
    rows = [item(k) for k in range(3)]
    rows = [(f"NEW-{k}", *r[1:]) for k, r in enumerate(rows)]
    rows[1] = ("NEW-BAD", "broken", "black shoe", "men", "sneaker", b"not an image", 1)
    with pytest.raises(psycopg.errors.InvalidParameterValue) as err:
        copy_items(db, rows)
    assert "shop.items" in str(err.value) and "sku = 'NEW-BAD'" in str(err.value)
    assert db.execute("SELECT count(*) FROM shop.items WHERE sku LIKE 'NEW-%'").fetchone()[0] == 0
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="sku = 'BLANK'"):
        db.execute("INSERT INTO shop.items (sku, title, blurb, photo) VALUES ('BLANK', 't', '  ', %s)",
                   (PHOTOS[0],))


def test_on_error_null_leaves_the_row_null_with_a_warning(db, shop):
    db.execute("CREATE TABLE shop.lenient (code int PRIMARY KEY, pic bytea, v vector)")
    db.execute("SELECT fashrec_attach('shop.lenient', image => 'pic', embedding => 'v', on_error => 'null')")
    notices = []
    db.add_notice_handler(lambda d: notices.append((d.severity_nonlocalized, d.message_primary)))
    db.execute("INSERT INTO shop.lenient VALUES (1, %s), (2, 'garbage'), (3, %s)", (PHOTOS[1], PHOTOS[3]))
    got = dict(db.execute("SELECT code, v IS NOT NULL FROM shop.lenient").fetchall())
    assert got == {1: True, 2: False, 3: True}
    assert [n for n in notices if n[0] == "WARNING" and "code = '2'" in n[1]], notices
    # Without a text column the embedding is the photo's: embed_image.
    assert db.execute("SELECT v <-> embed_image(pic) FROM shop.lenient WHERE code = 1").fetchone()[0] < 1e-4
    assert db.execute("SELECT relation::text, key, image, text, embedding, on_error FROM fashrec_attachments "
                      "WHERE relation = 'shop.lenient'::regclass").fetchone() == (
                          "shop.lenient", "code", "pic", None, "v", "null")


def test_attach_backfills_rows_without_an_embedding(db, shop):
    db.execute("CREATE TABLE shop.old (id bigint PRIMARY KEY, img bytea, words varchar, e vector)")
    db.execute("INSERT INTO shop.old VALUES (1, %s, 'navy coat', NULL), (2, NULL, 'bag', NULL)", (PHOTOS[19],))
    db.execute("SELECT fashrec_attach('shop.old', image => 'img', text => 'words', embedding => 'e')")
    assert db.execute("SELECT e <-> embed_product(img, words) FROM shop.old WHERE id = 1").fetchone()[0] < 1e-4
    assert db.execute("SELECT e IS NULL FROM shop.old WHERE id = 2").fetchone()[0]


@pytest.mark.parametrize("call, error", [
    ("fashrec_attach('shop.items', image => 'photo', embedding => 'vec')", psycopg.errors.DuplicateObject),
    ("fashrec_attach('shop.args', image => 'nope', embedding => 'v')", psycopg.errors.UndefinedColumn),
    ("fashrec_attach('shop.args', image => 'label', embedding => 'v')", psycopg.errors.DatatypeMismatch),
    ("fashrec_attach('shop.args', image => 'pic', embedding => 'label')", psycopg.errors.DatatypeMismatch),
    ("fashrec_attach('shop.args', image => 'pic', text => 'pic', embedding => 'v')", psycopg.errors.DatatypeMismatch),
    ("fashrec_attach('shop.args', image => 'pic', embedding => 'v')", psycopg.errors.InvalidTableDefinition),
    ("fashrec_attach('shop.args', image => 'pic', embedding => 'v', key => 'label')", psycopg.errors.InvalidTableDefinition),
    ("fashrec_attach('shop.args', image => 'pic', embedding => 'v', key => 'nope')", psycopg.errors.UndefinedColumn),
    ("fashrec_attach('shop.args', image => 'pic', embedding => 'v', key => 'code', on_error => 'skip')",
     psycopg.errors.InvalidParameterValue),
    ("fashrec_attach('shop.args', image => NULL, embedding => 'v', key => 'code')", psycopg.errors.NullValueNotAllowed),
    ("fashrec_attach('shop.args_view', image => 'pic', embedding => 'v')", psycopg.errors.WrongObjectType),
    ("fashrec_attach('shop.missing', image => 'pic', embedding => 'v')", psycopg.errors.UndefinedTable),
    ("fashrec_detach('shop.args')", psycopg.errors.UndefinedObject),
])
def test_bad_arguments_have_clear_sqlstates(db, shop, call, error):
    db.execute("""CREATE TABLE IF NOT EXISTS shop.args (code int NOT NULL UNIQUE, label text, pic bytea, v vector);
                  CREATE OR REPLACE VIEW shop.args_view AS SELECT * FROM shop.args""")
    with pytest.raises(error):
        db.execute(f"SELECT {call}")


def test_detach_removes_the_triggers_and_keeps_the_embeddings(db, shop):
    db.execute("CREATE TABLE shop.gone (sku text PRIMARY KEY, photo bytea, vec vector)")
    db.execute("SELECT fashrec_attach('shop.gone', image => 'photo', embedding => 'vec')")
    db.execute("INSERT INTO shop.gone VALUES ('A', %s)", (PHOTOS[5],))
    db.execute("SELECT fashrec_detach('shop.gone')")
    assert db.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'shop.gone'::regclass").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM fashrec_attachments WHERE relation = 'shop.gone'::regclass"
                      ).fetchone()[0] == 0
    db.execute("INSERT INTO shop.gone VALUES ('B', %s)", (PHOTOS[6],))
    db.execute("UPDATE shop.gone SET photo = %s WHERE sku = 'A'", (PHOTOS[8],))
    got = dict(db.execute("SELECT sku, vec IS NOT NULL FROM shop.gone").fetchall())
    assert got == {"A": True, "B": False}


@pytest.mark.parametrize("exact", [False, True])
def test_fashrec_recommend_returns_the_plain_query_s_rows(db, shop, exact):
    db.execute("CREATE INDEX IF NOT EXISTS items_vec_idx ON shop.items USING fashrec_ivf (sex, vec, kind) "
               "WITH (lists = 50)")
    db.execute("ANALYZE shop.items")
    db.execute("SET fashrec_ivf.probes = 4")
    db.execute(f"SET enable_indexscan = {'off' if exact else 'on'}")
    for text, gender, kind in [("black cotton dress", "women", "dress"), ("white sneaker", "men", None),
                               ("navy coat", None, "coat"), ("bag", None, None)]:
        genders = {"men": ["men", "unisex"], "women": ["women", "unisex"]}.get(gender)
        plain = db.execute(
            "SELECT sku, fashrec_similarity(vec, embed_text(%s)) FROM shop.items WHERE true"
            + (" AND sex = ANY(%s)" if genders else "") + (" AND kind = %s" if kind else "")
            + " ORDER BY vec <-> embed_text(%s) LIMIT 10",
            [text] + ([genders] if genders else []) + ([kind] if kind else []) + [text]).fetchall()
        got = db.execute("""SELECT (item).sku, score FROM fashrec_recommend(NULL::shop.items, embed_text(%s), 10,
                                for_gender => %s, in_category => %s, embedding => 'vec', gender => 'sex',
                                category => 'kind')""", (text, gender, kind)).fetchall()
        assert [r[0] for r in got] == [r[0] for r in plain]
        assert [round(r[1], 9) for r in got] == [round(r[1], 9) for r in plain]
        assert len(got) == 10
    plan = "\n".join(r[0] for r in db.execute(
        "EXPLAIN SELECT sku FROM shop.items WHERE sex = ANY('{men,unisex}') AND kind = 'coat' "
        "ORDER BY vec <-> embed_text('navy coat') LIMIT 10").fetchall())
    assert ("items_vec_idx" in plan) != exact, plan
    # The whole row comes back with its own types.
    item = db.execute("SELECT (item).price_cents, pg_typeof(item)::text FROM fashrec_recommend("
                      "NULL::shop.items, (SELECT vec FROM shop.items WHERE sku = 'SKU-09009'), 1, embedding => 'vec')"
                      ).fetchone()
    assert item == (9109, "shop.items")


@pytest.mark.parametrize("call, error", [
    ("NULL::int, embed_text('x'), embedding => 'vec'", psycopg.errors.WrongObjectType),
    ("NULL::shop.items, embed_text('x')", psycopg.errors.UndefinedColumn),
    ("NULL::shop.items, embed_text('x'), embedding => 'sex'", psycopg.errors.DatatypeMismatch),
    ("NULL::shop.items, embed_text('x'), embedding => 'vec', for_gender => 'men'", psycopg.errors.UndefinedColumn),
    ("NULL::shop.items, embed_text('x'), embedding => 'vec', for_gender => 'kids'", psycopg.errors.InvalidParameterValue),
    ("NULL::shop.items, embed_text('x'), 0, embedding => 'vec'", psycopg.errors.InvalidParameterValue),
])
def test_fashrec_recommend_bad_arguments(db, shop, call, error):
    with pytest.raises(error):
        db.execute(f"SELECT * FROM fashrec_recommend({call})")
