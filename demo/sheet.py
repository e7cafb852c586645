"""Draw a PNG sheet of example recommendations: each row a shopper's query (an uploaded photo, words,
a product, a liked list; general and each gender mode) and the top 5 products the SQL functions
return, with category, price, gender and score.

    .deps/venv/bin/python demo/sheet.py [--url URL] [--out out/recommendations.png]

The uploaded photo is training/reference/photo_60005.jpg: a test product rendered as a shop photo
(upscaled, tinted, offset, JPEG), so not a catalog image. Product images are drawn dark on light
(Fashion-MNIST stores them negated).
"""
import argparse
import io
import pathlib
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
PHOTO = ROOT / "training" / "reference" / "photo_60005.jpg"
TOP = 5


def examples(conn):
    """(title, query picture or words, SQL, params) for each row of the sheet."""
    photo = PHOTO.read_bytes()
    coat = conn.execute("SELECT id, name FROM products WHERE category = 'Coat' AND gender = 'men' "
                        "AND embedding IS NOT NULL ORDER BY id LIMIT 1").fetchone()
    liked = [r[0] for r in conn.execute(
        "SELECT id FROM products WHERE category = 'Sandal' AND gender = 'women' "
        "AND embedding IS NOT NULL ORDER BY id LIMIT 3").fetchall()]
    return [
        ("Uploaded photo\nany gender", photo,
         "SELECT * FROM recommend_for_image(%s, %s)", (photo, TOP)),
        ("Words\nfor men (men + unisex)", "black canvas shoes",
         "SELECT * FROM recommend_for_text(%s, %s, 'men')", ("black canvas shoes", TOP)),
        ("Words\nfor women (women + unisex)", "summer dress",
         "SELECT * FROM recommend_for_text(%s, %s, 'women')", ("summer dress", TOP)),
        ("Words\nunisex only", "leather backpack",
         "SELECT * FROM recommend_for_text(%s, %s, 'unisex')", ("leather backpack", TOP)),
        (f"Similar to #{coat[0]}, for men\n" + "\n".join(textwrap.wrap(coat[1], 26)[:2]), product_image(conn, coat[0]),
         "SELECT * FROM recommend_similar(%s, %s, 'men')", (coat[0], TOP)),
        (f"Shopper who liked\n#{', #'.join(map(str, liked))}\n(sandals), any gender", product_image(conn, liked[0]),
         "SELECT * FROM recommend_for_profile(%s, %s)", (liked, TOP)),
    ]


def product_image(conn, pid):
    return conn.execute("SELECT image FROM products WHERE id = %s", (pid,)).fetchone()[0]


def picture(data, negate):
    img = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    return 255 - img if negate else img


def draw(rows, path):
    fig, axes = plt.subplots(len(rows), TOP + 1, figsize=(2.3 * (TOP + 1), 3.1 * len(rows)), dpi=100)
    for r, (title, query_pic, results) in enumerate(rows):
        ax = axes[r][0]
        ax.set_facecolor("#eef2f7")
        if isinstance(query_pic, bytes):
            # The photo is a shop photo already (dark on light); catalog images are negated.
            ax.imshow(picture(query_pic, negate=query_pic[:4] == b"\x89PNG"), cmap="gray", vmin=0, vmax=255)
        else:
            ax.text(0.5, 0.5, "\n".join(textwrap.wrap(query_pic, 14)), ha="center", va="center",
                    fontsize=14, style="italic")
        ax.set_title(title, fontsize=8.5, fontweight="bold", loc="left")
        ax.set_xticks([])
        ax.set_yticks([])
        for c in range(TOP):
            ax = axes[r][c + 1]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(results):
                ax.axis("off")
                continue
            p = results[c]
            ax.imshow(picture(p["image"], negate=True), cmap="gray", vmin=0, vmax=255)
            name = "\n".join(textwrap.wrap(p["name"], 30)[:2])
            ax.set_title(f"{name}\n{p['category']} · {p['gender']}\n${p['price']} · score {p['score']:.4f}",
                         fontsize=7)
    fig.suptitle("fashrec: top-5 recommendations from SQL (recommend_for_image / _text / similar / profile)",
                 fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(path)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5499/fashrec")
    parser.add_argument("--out", default=str(ROOT / "out" / "recommendations.png"))
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with psycopg.connect(args.url, autocommit=True) as conn:
        for title, query_pic, sql, params in examples(conn):
            cur = conn.execute(f"SELECT r.*, p.image FROM ({sql}) r JOIN products p USING (id) ORDER BY r.score DESC",
                               params)
            names = [d.name for d in cur.description]
            rows.append((title, query_pic, [dict(zip(names, row)) for row in cur.fetchall()]))
    draw(rows, out)
    print(f"recommendation sheet: {out}")


if __name__ == "__main__":
    main()
