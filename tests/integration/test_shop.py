"""The storefront (crates/shop) in a real browser: Debian's chromium driven by Playwright, against
the built fashrec-shop serving a small embedded catalog as the role crates/shop/sql/setup.sql
makes. Each step's screenshot goes to $FASHREC_TEST_OUT/shop (./fashrec.sh test sets it)."""
import base64
import contextlib
import json
import os
import pathlib
import re
import secrets
import socket
import subprocess
import tempfile

import psycopg
import pytest
from playwright.sync_api import sync_playwright

from conftest import load_catalog

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("FASHREC_CHROMIUM", "/usr/bin/chromium")
ALLOWED = {"everyone": {"men", "women", "unisex"}, "men": {"men", "unisex"},
           "women": {"women", "unisex"}, "unisex": {"unisex"}}
# Rendered shop photos of test-split products, none of them in a balanced (train) catalog.
PHOTOS = [(i["file"], i["category"]) for i in
          json.loads((ROOT / "training/reference/reference.json").read_text())["images"]
          if i["file"].startswith("photo_") and i["file"].endswith(".jpg")]
PAGE = 24


@pytest.fixture(scope="module")
def catalog(cli, dburl):
    load_catalog(cli, dburl, 200, lists=20)
    password = secrets.token_hex(12)
    with psycopg.connect(dburl, autocommit=True) as conn:
        conn.execute((ROOT / "crates/shop/sql/setup.sql").read_text())
        conn.execute(f"ALTER ROLE fashrec_shop PASSWORD '{password}'")
    return dburl, password


def shop_url(dburl, password):
    """The module database's URL for the shop's own role."""
    info = psycopg.conninfo.conninfo_to_dict(dburl)
    return (f"postgresql://fashrec_shop:{password}@{info.get('host', 'localhost')}:"
            f"{info.get('port', 5432)}/{info['dbname']}")


def start_shop(url):
    """Starts fashrec-shop on a free loopback port; returns the process and its address."""
    binary = os.environ.get("FASHREC_SHOP")
    if not binary or not os.access(binary, os.X_OK):
        pytest.fail("FASHREC_SHOP must point at the built fashrec-shop binary (./fashrec.sh test sets it)")
    process = subprocess.Popen([binary, "--url", url, "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if not match:
        process.kill()
        pytest.fail(f"fashrec-shop did not start: {line!r}")
    return process, match.group(0)


@pytest.fixture(scope="module")
def shop(catalog):
    process, address = start_shop(shop_url(*catalog))
    yield address
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def db(catalog):
    with psycopg.connect(catalog[0], autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shots():
    out = os.environ.get("FASHREC_TEST_OUT") or tempfile.mkdtemp(prefix="fashrec-shop-")
    folder = pathlib.Path(out) / "shop"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture()
def page(browser, shots, request):
    """A fresh browser session (no cookie); the console must stay free of errors."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    page.shot = lambda name: page.screenshot(path=shots / f"{request.node.name}-{name}.png", full_page=True)
    yield page
    context.close()
    # A page the shop answers with an error status (a refused upload) is logged by chromium as a
    # failed resource; anything else in the console is a fault of the page.
    unexpected = [e for e in errors if not re.fullmatch(
        r"Failed to load resource: the server responded with a status of (400|413|422|503) \(.*\)", e)]
    assert unexpected == []


def cards(page, selector=".results .card"):
    return page.locator(selector).evaluate_all(
        "els => els.map(e => ({id: +e.dataset.id, category: e.dataset.category, gender: e.dataset.gender}))")


def search(page, shop, words, gender="everyone", category=""):
    page.goto(shop)
    form = page.locator("form.words")
    form.locator("input[name=q]").fill(words)
    form.locator("select[name=gender]").select_option(gender)
    form.locator("select[name=category]").select_option(category)
    with page.expect_navigation():
        form.locator("button").click()
    return cards(page)


def upload(page, shop, name, data, mime="image/jpeg"):
    page.goto(shop)
    form = page.locator("form.photo")
    form.locator("input[type=file]").set_input_files({"name": name, "mimeType": mime, "buffer": data})
    with page.expect_navigation():
        form.locator("button").click()
    return cards(page)


def notice(page):
    return page.locator(".notice").inner_text() if page.locator(".notice").count() else ""


@pytest.mark.parametrize("words, category", [
    ("summer dress", "Dress"), ("ankle boots", "Ankle boot"), ("leather handbag", "Bag"),
    ("trousers", "Trouser"), ("sandals", "Sandal")])
def test_a_words_search_returns_the_asked_category(page, shop, db, words, category):
    got = search(page, shop, words)
    page.shot(category.replace(" ", "_"))
    assert len(got) == PAGE
    # What the page lists is recommend_for_text's answer, in its order.
    expected = [r[0] for r in db.execute("SELECT id FROM recommend_for_text(%s, %s)", (words, PAGE))]
    assert [c["id"] for c in got] == expected
    assert [c["category"] for c in got[:5]] == [category] * 5, got[:5]
    assert page.locator(".results .card .score").count() == PAGE
    # Every picture arrived and is drawn crisp at a readable size.
    first = page.locator(".results .card img").first
    assert first.evaluate("img => img.complete && img.naturalWidth") == 28
    assert first.evaluate("img => getComputedStyle(img).imageRendering") == "pixelated"
    assert first.bounding_box()["width"] >= 100


def test_the_category_filter_keeps_only_that_category(page, shop):
    got = search(page, shop, "something warm", category="Coat")
    assert len(got) == PAGE and {c["category"] for c in got} == {"Coat"}


def test_the_price_range_keeps_only_those_prices_and_an_empty_result_says_why(page, shop):
    page.goto(f"{shop}?q=leather+bag&min=20&max=60")
    prices = [float(p) for p in page.locator(".results .card .price").all_inner_texts()]
    assert prices and all(20 <= p <= 60 for p in prices), prices
    page.goto(f"{shop}?q=dress&gender=men&category=Dress")
    page.shot("empty")
    assert page.locator(".results .empty").inner_text() == \
        "No products: the catalog has no product for men (or unisex) in category Dress."
    page.goto(f"{shop}?q=dress&max=cheap")
    assert "The price \"cheap\" is not an amount" in notice(page)


@pytest.mark.parametrize("mode", ["everyone", "men", "women", "unisex"])
def test_each_gender_mode_shows_only_the_genders_it_admits(page, shop, mode):
    got = search(page, shop, "shirt", gender=mode)
    page.shot(mode)
    assert len(got) == PAGE
    genders = {c["gender"] for c in got}
    assert genders <= ALLOWED[mode], got
    if mode == "everyone":  # not a strict mode in disguise
        assert {"men", "women"} <= genders, got
    assert page.locator("form.words select[name=gender]").input_value() == mode


# The image model finds 93.7% of 10,000 rendered photos' categories first (hit@1 of image_photos
# in training/results/metrics.json); two of the six reference photos are among its misses, in
# PNG and JPEG and at 200 or 500 products a class alike: the black ankle boot 60023 comes out
# among sandals, the dress 60042 among trousers.
MODEL_MISSES = {"photo_60023.jpg", "photo_60042.jpg"}


def test_uploading_a_rendered_photo_of_a_test_product_returns_its_category_first(page, shop, db):
    for file, category in PHOTOS:
        photo = (ROOT / "training/reference" / file).read_bytes()
        got = upload(page, shop, file, photo)
        page.shot(file.split(".")[0])
        expected = [r[0] for r in db.execute("SELECT id FROM recommend_for_image(%s, %s)", (photo, PAGE))]
        assert [c["id"] for c in got] == expected, file
        if file not in MODEL_MISSES:
            assert got[0]["category"] == category, (file, got[:3])


def test_a_dropped_photo_is_searched_like_a_picked_one(page, shop):
    file, category = PHOTOS[0]
    data = base64.b64encode((ROOT / "training/reference" / file).read_bytes()).decode()
    page.goto(shop)
    with page.expect_navigation():
        page.evaluate("""([name, data]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: "image/jpeg"}));
            document.getElementById("drop").dispatchEvent(new DragEvent("drop", {dataTransfer: transfer}));
        }""", [file, data])
    got = cards(page)
    assert got and got[0]["category"] == category, got[:3]
    assert file in page.locator(".results h2").inner_text()


def test_a_product_page_lists_similar_products_of_its_category(page, shop, db):
    first = search(page, shop, "ankle boots")[0]
    with page.expect_navigation():
        page.locator(".results .card a").first.click()
    page.shot("product")
    product = page.locator("article.product")
    assert int(product.get_attribute("data-id")) == first["id"]
    description = db.execute("SELECT description FROM products WHERE id = %s", (first["id"],)).fetchone()[0]
    assert product.locator(".description").inner_text() == description
    similar = cards(page)
    assert len(similar) == PAGE and first["id"] not in [c["id"] for c in similar]
    expected = [r[0] for r in db.execute("SELECT id FROM recommend_similar(%s, %s)", (first["id"], PAGE))]
    assert [c["id"] for c in similar] == expected
    assert [c["category"] for c in similar[:10]] == [first["category"]] * 10, similar[:10]


def like(page, shop, product_id):
    page.goto(f"{shop}product/{product_id}")
    with page.expect_navigation():
        page.locator("button.like").click()
    assert page.locator("button.like").get_attribute("value") == "unlike"


def test_liking_three_products_changes_for_you(page, shop, db):
    page.goto(f"{shop}for-you")
    assert "not liked any product" in page.locator(".empty").inner_text()
    bags = [r[0] for r in db.execute("SELECT id FROM products WHERE category = 'Bag' ORDER BY id LIMIT 3")]
    like(page, shop, bags[0])
    page.goto(f"{shop}for-you")
    after_one = cards(page)
    page.shot("one-like")
    like(page, shop, bags[1])
    like(page, shop, bags[2])
    page.goto(f"{shop}for-you")
    page.shot("three-likes")
    assert {c["id"] for c in cards(page, ".liked .card")} == set(bags)
    after_three = cards(page)
    assert len(after_three) == PAGE and not set(bags) & {c["id"] for c in after_three}
    assert [c["id"] for c in after_three] != [c["id"] for c in after_one]
    assert sum(c["category"] == "Bag" for c in after_three[:10]) >= 8, after_three[:10]
    # The likes are the session's: a new browser session has none, and unliking removes one.
    session = page.context.cookies()[0]["value"]
    assert {r[0] for r in db.execute("SELECT product_id FROM shop_likes WHERE session = %s", (session,))} == set(bags)
    page.goto(f"{shop}product/{bags[0]}")
    with page.expect_navigation():
        page.locator("button.like").click()
    assert page.locator("button.like").get_attribute("value") == "like"
    page.goto(f"{shop}for-you")
    assert {c["id"] for c in cards(page, ".liked .card")} == set(bags[1:])


def test_a_malformed_upload_shows_the_database_error_and_the_page_keeps_working(page, shop):
    got = upload(page, shop, "holiday.jpg", b"this is not a picture at all")
    page.shot("refused")
    assert got == []
    assert "The database refused the request: data is not an image in a supported format" in notice(page)
    assert search(page, shop, "summer dress")  # the next search works
    assert notice(page) == ""


def test_a_photo_over_8_mb_is_refused_before_the_database(page, shop):
    upload(page, shop, "huge.jpg", b"\xff\xd8\xff" + bytes(8 * 1024 * 1024))
    page.shot("too-large")
    assert "larger than 8 MB" in notice(page)
    assert search(page, shop, "summer dress")


def test_words_are_shown_escaped(page, shop):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    search(page, shop, "<script>alert(1)</script> dress")
    assert "<script>alert(1)</script> dress" in page.locator(".results h2").inner_text()
    assert dialogs == []


@contextlib.contextmanager
def closed_port():
    """A loopback port bound but not listening: connections to it are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def test_the_page_says_when_the_database_is_unreachable(page):
    with closed_port() as port:
        process, address = start_shop(f"postgresql://fashrec_shop@127.0.0.1:{port}/fashrec")
        try:
            page.goto(address)
            page.shot("unreachable")
            assert "The database is unreachable" in notice(page)
            page.goto(address + "?q=shoes")
            assert "The database is unreachable" in notice(page)
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_the_shop_role_may_only_read_the_catalog_and_keep_likes(db):
    role = db.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'fashrec_shop'").fetchone()
    assert role == (False, False, False)
    privileges = {(table, p): db.execute("SELECT has_table_privilege('fashrec_shop', %s, %s)", (table, p)).fetchone()[0]
                  for table in ("products", "shop_likes") for p in ("SELECT", "INSERT", "UPDATE", "DELETE")}
    assert privileges == {("products", "SELECT"): True, ("products", "INSERT"): False,
                          ("products", "UPDATE"): False, ("products", "DELETE"): False,
                          ("shop_likes", "SELECT"): True, ("shop_likes", "INSERT"): True,
                          ("shop_likes", "UPDATE"): False, ("shop_likes", "DELETE"): True}
