"""`fashrec load` and `fashrec export` against a real server: the catalog rules hold on the
loaded table, not only in the generator (colours agree with the pictures too), and a rerun
changes nothing."""
import json
import statistics
import struct
import subprocess
import uuid
import zlib
from decimal import Decimal

import psycopg
import pytest

PER_CLASS = 300
CATEGORIES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# The designed rules, stated again here on purpose: the test checks the code against the design.
PRICE_RANGE = {  # whole units; prices run from min.00 to max.99
    "T-shirt/top": (7, 49), "Trouser": (19, 129), "Pullover": (19, 159), "Dress": (19, 249),
    "Coat": (49, 399), "Sandal": (14, 99), "Shirt": (14, 119), "Sneaker": (39, 199),
    "Bag": (19, 349), "Ankle boot": (49, 279),
}
GENDER_MIX = {  # percent men, women, unisex
    "T-shirt/top": (35, 45, 20), "Trouser": (45, 40, 15), "Pullover": (40, 40, 20),
    "Dress": (0, 100, 0), "Coat": (45, 45, 10), "Sandal": (30, 55, 15), "Shirt": (50, 40, 10),
    "Sneaker": (30, 30, 40), "Bag": (10, 45, 45), "Ankle boot": (30, 60, 10),
}
LETTERS = {"XS", "S", "M", "L", "XL", "XXL"}
WAIST = {f"W{w}" for w in range(24, 41, 2)}
SHOES = {str(s) for s in range(36, 47)}
SIZES = {
    "T-shirt/top": LETTERS, "Trouser": WAIST, "Pullover": LETTERS, "Dress": LETTERS,
    "Coat": LETTERS, "Sandal": SHOES, "Shirt": LETTERS, "Sneaker": SHOES, "Bag": {"One Size"},
    "Ankle boot": SHOES,
}
WOMEN_ONLY_STYLES = {"crop", "strappy", "wedge", "heeled", "blouse", "platform", "clutch"}
COLUMNS = ["id", "name", "category", "gender", "size", "price", "colour", "material", "style",
           "occasion", "brand", "description", "short_description", "keywords", "split", "image",
           "keywords_tsv"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_cli(cli, *args):
    return subprocess.run([cli, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def loaded(cli, dburl):
    """The module's database after one balanced load; yields the load's output."""
    result = run_cli(cli, "load", "--url", dburl, "--balanced", str(PER_CLASS))
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture()
def db(loaded, conn):
    return conn


def scalar(conn, sql, *params):
    return conn.execute(sql, params).fetchone()[0]


def test_balanced_load_has_300_per_class(db, loaded):
    assert f"loaded {PER_CLASS * 10} new products" in loaded.stdout
    assert scalar(db, "SELECT count(*) FROM products") == PER_CLASS * 10
    per_class = dict(db.execute("SELECT category, count(*) FROM products GROUP BY 1").fetchall())
    assert per_class == {c: PER_CLASS for c in CATEGORIES}
    # The balanced subset is the first N of each class of the train split.
    assert scalar(db, "SELECT count(*) FROM products WHERE split <> 'train' OR id >= 60000") == 0


def test_rerun_neither_duplicates_nor_loses(cli, dburl, db):
    before = db.execute("SELECT md5(string_agg(id || name || price || description, ',' ORDER BY id)) "
                        "FROM products").fetchone()[0]
    result = run_cli(cli, "load", "--url", dburl, "--balanced", str(PER_CLASS))
    assert result.returncode == 0, result.stderr
    assert "loaded 0 new products" in result.stdout
    assert db.execute("SELECT count(*), count(DISTINCT id) FROM products").fetchone() == (3000, 3000)
    after = db.execute("SELECT md5(string_agg(id || name || price || description, ',' ORDER BY id)) "
                       "FROM products").fetchone()[0]
    assert before == after


def test_every_column_filled_except_embedding(db):
    for column in COLUMNS:
        assert scalar(db, f"SELECT count(*) FROM products WHERE {column} IS NULL") == 0, column
    for column in ["name", "size", "colour", "material", "style", "occasion", "brand",
                   "description", "short_description", "keywords"]:
        assert scalar(db, f"SELECT count(*) FROM products WHERE btrim({column}) = ''") == 0, column
    assert scalar(db, "SELECT count(*) FROM products WHERE embedding IS NOT NULL") == 0


def test_dresses_are_for_women(db):
    genders = {g for (g,) in db.execute("SELECT DISTINCT gender FROM products WHERE category = 'Dress'")}
    assert genders <= {"women", "unisex"}


def test_no_winter_sandals_no_formal_sneakers(db):
    assert scalar(db, "SELECT count(*) FROM products WHERE category = 'Sandal' "
                      "AND (occasion = 'winter' OR style = 'winter' "
                      "OR keywords_tsv @@ to_tsquery('english', 'winter'))") == 0
    assert scalar(db, "SELECT count(*) FROM products WHERE category = 'Sneaker' "
                      "AND occasion IN ('formal', 'business', 'wedding')") == 0


def test_women_only_styles(db):
    rows = db.execute("SELECT category, style, gender FROM products "
                      "WHERE style = ANY(%s) AND gender <> 'women'", (list(WOMEN_ONLY_STYLES),)).fetchall()
    assert rows == []
    assert scalar(db, "SELECT count(*) FROM products WHERE style = ANY(%s)", list(WOMEN_ONLY_STYLES)) > 0


def test_prices_within_category_ranges(db):
    for category, low, high in db.execute("SELECT category, min(price), max(price) FROM products GROUP BY 1"):
        lo, hi = PRICE_RANGE[category]
        assert Decimal(lo) <= low and high <= Decimal(hi) + Decimal("0.99"), (category, low, high)
    assert scalar(db, "SELECT count(*) FROM products WHERE price <> round(price, 2)") == 0


def test_sizes_in_the_category_set(db):
    for category, size in db.execute("SELECT DISTINCT category, size FROM products"):
        assert size in SIZES[category], (category, size)
    # Shoe sizes follow the gender: women 36-42, men 40-46.
    shoes = "category IN ('Sandal', 'Sneaker', 'Ankle boot')"
    assert scalar(db, f"SELECT count(*) FROM products WHERE {shoes} AND gender = 'women' "
                      "AND size::int NOT BETWEEN 36 AND 42") == 0
    assert scalar(db, f"SELECT count(*) FROM products WHERE {shoes} AND gender = 'men' "
                      "AND size::int NOT BETWEEN 40 AND 46") == 0


def test_gender_mix_per_category(db):
    counts = {}
    for category, gender, n in db.execute("SELECT category, gender, count(*) FROM products GROUP BY 1, 2"):
        counts.setdefault(category, {})[gender] = n
    for category, weights in GENDER_MIX.items():
        for gender, percent in zip(["men", "women", "unisex"], weights):
            share = 100 * counts[category].get(gender, 0) / PER_CLASS
            if percent == 0:
                assert share == 0, (category, gender)
            else:
                # 300 draws: a binomial share's standard deviation is at most ~2.9 points.
                assert abs(share - percent) < 12, (category, gender, share, percent)


def test_keywords_full_text_search(db):
    sneakers = db.execute("SELECT DISTINCT category FROM products "
                          "WHERE keywords_tsv @@ to_tsquery('english', 'sneaker')").fetchall()
    assert sneakers == [("Sneaker",)]
    assert scalar(db, "SELECT count(*) FROM products WHERE keywords_tsv @@ to_tsquery('english', 'sneaker')") \
        == PER_CLASS
    hits = db.execute("SELECT colour, material FROM products "
                      "WHERE keywords_tsv @@ plainto_tsquery('english', 'black canvas')").fetchall()
    assert hits and all(colour == "black" and material == "canvas" for colour, material in hits)
    indexes = {name for (name,) in db.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'products'")}
    assert "products_keywords_tsv_idx" in indexes


def png_pixels(data):
    """The 8-bit grayscale pixels of a PNG (enough of a decoder for these images)."""
    assert data[:8] == PNG_MAGIC
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 0), "8-bit grayscale"
        elif kind == b"IDAT":
            idat += body
    raw, out, prev = zlib.decompress(idat), bytearray(), bytearray(width)
    for y in range(height):
        start = y * (width + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + width])
        for x in range(width):
            a, b, c = (line[x - 1] if x else 0), prev[x], (prev[x - 1] if x else 0)
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return width, height, bytes(out)


def lightness_in_picture(png):
    """How light the product looks in its shop picture: the PNG shown the right way round
    (255 - value, as demo/sheet.py draws it), the mean of the pixels that are not the white page."""
    shown = [255 - v for v in png_pixels(png)[2] if v > 0]
    return sum(shown) / len(shown) if shown else 255.0


def test_named_colours_agree_with_the_picture(db):
    dark, light = {}, {}
    for category, colour, image in db.execute(
            "SELECT category, colour, image FROM products "
            "WHERE colour IN ('black', 'navy', 'white', 'cream', 'silver')"):
        group = dark if colour in ("black", "navy") else light
        group.setdefault(category, []).append(lightness_in_picture(bytes(image)))
    # Only these palettes hold white, cream or silver as well as black or navy.
    compared = sorted(set(dark) & set(light))
    assert compared == ["Dress", "Pullover", "Sandal", "Shirt", "Sneaker", "T-shirt/top"]
    lighter = sum(x > statistics.median(light[c]) for c in compared for x in dark[c])
    darker = sum(x < statistics.median(dark[c]) for c in compared for x in light[c])
    n_dark, n_light = (sum(len(g[c]) for c in compared) for g in (dark, light))
    assert n_dark > 200 and n_light > 200
    assert lighter < 0.02 * n_dark, (lighter, n_dark)
    assert darker < 0.02 * n_light, (darker, n_light)


def test_export_matches_the_table(cli, db, tmp_path):
    result = run_cli(cli, "export", "--out", str(tmp_path), "--balanced", str(PER_CLASS))
    assert result.returncode == 0, result.stderr
    meta = json.loads((tmp_path / "export.json").read_text())
    assert meta["count"] == PER_CLASS * 10 and meta["images_shape"] == [PER_CLASS * 10, 28, 28]
    exported = [json.loads(line) for line in (tmp_path / "catalog.jsonl").read_text().splitlines()]
    pixels = (tmp_path / "images.u8").read_bytes()
    assert len(pixels) == len(exported) * 784

    fields = ["id", "name", "category", "gender", "size", "price", "colour", "material", "style",
              "occasion", "brand", "description", "short_description", "keywords", "split"]
    rows = db.execute(f"SELECT {', '.join(fields)}, image FROM products ORDER BY id").fetchall()
    assert [r[0] for r in rows] == [e["id"] for e in exported]
    for k, (row, record) in enumerate(zip(rows, exported)):
        table = dict(zip(fields, row))
        table["price"] = float(table["price"])
        assert table == {f: record[f] for f in fields}
        assert CATEGORIES[record["label"]] == record["category"]
        if k % 97 == 0:  # decoding in Python is slow; a spread sample is enough
            assert png_pixels(bytes(row[-1])) == (28, 28, pixels[k * 784:(k + 1) * 784])


def test_missing_extension_is_explained(cli, dburl):
    name = f"fashrec_noext_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dbname="postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        current = psycopg.conninfo.conninfo_to_dict(dburl)["dbname"]
        url = dburl.replace(f"/{current}?", f"/{name}?", 1)
        assert name in url
        result = run_cli(cli, "load", "--url", url, "--balanced", "1")
        assert result.returncode != 0
        assert f"extension fashrec is not installed in database {name}" in result.stderr
        assert "CREATE EXTENSION fashrec" in result.stderr
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_unreachable_server_and_missing_data_are_explained(cli, tmp_path):
    result = run_cli(cli, "load", "--url", "postgresql://postgres@127.0.0.1:1/fashrec", "--balanced", "1")
    assert result.returncode != 0
    assert "cannot connect to PostgreSQL at 127.0.0.1 port 1" in result.stderr
    result = run_cli(cli, "export", "--out", str(tmp_path), "--data", str(tmp_path / "absent"))
    assert result.returncode != 0
    assert "apt-get install dataset-fashion-mnist" in result.stderr
