"""Measure fashrec as deployed and write a report: markdown and PNG charts.

    ./fashrec.sh evaluate [DIR]          (or: .deps/venv/bin/python demo/evaluate.py --out DIR)

Runs the SQL functions fashrec_evaluate_images and fashrec_evaluate_texts on the products table:
every test product's picture as a photo query against the train products, and the held-out half
of the shopper text queries (training/queries.jsonl), each through the index at the server's
default fashrec_ivf.probes and exhaustively, the two image runs in two connections at once. Then
the held-out attribute queries (ATTRIBUTE_SETS in training/), through the index as a user
runs them: the plain ORDER BY embedding <-> embed_text(q) LIMIT 10 and recommend_for_text; and
recommend_similar for a sample of products, against the picture-only ranking. Beside them
it puts the numbers the models were trained to (models/manifest.json, measured in Python
onnxruntime) and the seed report's. Writes DIR/report.md, DIR/topk.png, DIR/mrr.png and
DIR/metrics.json.
"""
import argparse
import json
import pathlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import psycopg  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
KS = (1, 3, 5, 7, 9)
# attribute_queries_2.jsonl was written for the product words model, before it was trained;
# attribute_queries_3.jsonl and category_queries_2.jsonl for the quantised query encoder;
# attribute_queries_4.jsonl for the words head trained on shoppers' words; attribute_queries_5.jsonl
# and category_queries_3.jsonl for a smaller query encoder, attribute_queries_6.jsonl and
# category_queries_4.jsonl for the distilled three-layer one, attribute_queries_7.jsonl for the wider
# shopper vocabulary, attribute_queries_8.jsonl for the shared gender block.
ATTRIBUTE_SETS = tuple(f"attribute_queries{n}.jsonl" for n in ("", "_2", "_3", "_4", "_5", "_6", "_7", "_8"))
# More held-out category queries, by other authors: metrics.json key -> file of training/.
CATEGORY_SETS = {f"category_set_{n}": f"category_queries_{n}.jsonl" for n in (2, 3, 4)}
FIELDS = ("queries", "top1", "top3", "top5", "top7", "top9", "mrr", "precision10")


def evaluate(url, sql, params=()):
    """One evaluation function call in its own connection: (metrics dict, seconds)."""
    start = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(sql, params).fetchone()
    return dict(zip(FIELDS, row)), time.perf_counter() - start


def from_manifest(metrics):
    """The manifest's hit@k / mrr / precision@10 in this report's names."""
    out = {f"top{k}": metrics.get(f"hit@{k}") for k in KS}
    out["mrr"] = metrics.get("mrr")
    out["precision10"] = metrics.get("precision@10")
    return out


def pct(x):
    return "" if x is None else f"{100 * x:.1f}"


def table(rows):
    head = "| run | queries | top-1 | top-3 | top-5 | top-7 | top-9 | MRR | precision@10 | seconds |\n"
    head += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    for name, m, secs in rows:
        cells = [pct(m.get(f"top{k}")) for k in KS] + [
            "" if m.get("mrr") is None else f"{m['mrr']:.3f}", pct(m.get("precision10"))]
        head += f"| {name} | {m.get('queries', '')} | " + " | ".join(cells) + f" | {secs} |\n"
    return head


def chart_topk(path, image_rows, text_rows, seed):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    for ax, title, rows in ((axes[0], "Image to image", image_rows), (axes[1], "Text to image", text_rows)):
        for (name, m, _), style in zip(rows, ("o-", "s--", "^:")):
            ax.plot(KS, [100 * m[f"top{k}"] for k in KS], style, label=name)
        ax.set_title(title)
        ax.set_xlabel("k")
        ax.set_xticks(KS)
        ax.set_ylabel("top-k accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0].plot(KS, [100 * seed[f"hit@{k}"] for k in KS], "x-", color="grey", label="seed report")
    axes[1].axhline(100 * seed["text"], color="grey", linestyle="-", label="seed report (text)")
    for ax in axes:
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("fashrec retrieval quality: top-k accuracy (a result of the query's category among the first k)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def chart_mrr(path, rows):
    fig, ax = plt.subplots(figsize=(8, 3.8), dpi=110)
    names = [name for name, _, _ in rows]
    values = [m["mrr"] for _, m, _ in rows]
    bars = ax.barh(names, values, color=["#3b6ea8" if "image" in n else "#c07a2c" for n in names])
    ax.bar_label(bars, fmt="%.3f", padding=3, fontsize=8)
    ax.set_xlim(0.5, 1.0)
    ax.invert_yaxis()
    ax.set_xlabel("mean reciprocal rank of the first result of the query's category")
    ax.set_title("fashrec retrieval quality: MRR")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


ATTRIBUTES = ("colour", "material", "style", "occasion", "brand")
PLAIN = """SELECT category, colour, material, style, occasion, brand, gender FROM products
           ORDER BY embedding <-> embed_text(%s) LIMIT 10"""
RECOMMEND = """SELECT p.category, p.colour, p.material, p.style, p.occasion, p.brand, p.gender
               FROM recommend_for_text(%s, 10) r JOIN products p USING (id)"""
SIMILAR_SAMPLE = 300


def matches(row, q):
    """Category and every stated attribute right; a unisex product matches a men's or women's query."""
    category, *values, gender = row
    return (category == q["category"] and all(q[a] == v for a, v in zip(ATTRIBUTES, values) if a in q)
            and ("gender" not in q or gender in (q["gender"], "unisex")))


def attribute_rows(sets: dict) -> str:
    rows = []
    for name, a in sets.items():
        for label, m, secs in (("`ORDER BY embedding <-> embed_text(q) LIMIT 10`", a["plain_index"], a["plain_seconds"]),
                               ("`recommend_for_text(q, 10)`", a["recommend_for_text"], a["recommend_seconds"])):
            rows.append(f"| `{name}` | {label} | {m['queries']} | {pct(m['attribute_precision10'])} | "
                        f"{pct(m['category_precision10'])} | {secs:.1f} |")
    return "\n".join(rows)


def attribute_precision(url, queries, sql):
    """All-attribute and category precision@10 of `sql` over the attribute queries."""
    start = time.perf_counter()
    hits, cats = [], []
    with psycopg.connect(url, autocommit=True) as conn:
        for q in queries:
            found = conn.execute(sql, (q["query"],)).fetchall()
            hits.append(sum(matches(r, q) for r in found) / 10)
            cats.append(sum(r[0] == q["category"] for r in found) / 10)
    return {"queries": len(queries), "attribute_precision10": sum(hits) / len(hits),
            "category_precision10": sum(cats) / len(cats)}, time.perf_counter() - start


def satisfiable(url, queries):
    """Queries that fewer than 10 catalog products satisfy (a perfect precision@10 is impossible)."""
    rows = []
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute("SELECT category, colour, material, style, occasion, brand, gender FROM products").fetchall()
    for q in queries:
        n = sum(matches(r, q) for r in found)
        if n < 10:
            rows.append((q["query"], n))
    return rows


def similar_products(url):
    """recommend_similar on a sample of products: the share of the first 10 with the product's
    colour, and their category precision, beside the same products ranked by the picture part
    alone (the first 64 dims of the product vectors, what the embedding held before issue 18)."""
    import numpy as np
    from pgvector.psycopg import register_vector
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        table = conn.execute("SELECT id, category, colour, embedding FROM products ORDER BY id").fetchall()
        ids = np.array([r[0] for r in table])
        cat = np.array([r[1] for r in table])
        col = np.array([r[2] for r in table])
        pictures = np.stack([np.asarray(r[3], np.float32)[:64] for r in table])
        sample = ids[:: max(1, len(ids) // SIMILAR_SAMPLE)][:SIMILAR_SAMPLE]
        at = {int(i): k for k, i in enumerate(ids)}
        same_colour, same_cat, base_colour, base_cat = [], [], [], []
        for pid in sample:
            k = at[int(pid)]
            got = [at[r[0]] for r in conn.execute("SELECT id FROM recommend_similar(%s, 10)", (int(pid),)).fetchall()]
            same_colour.append(np.mean(col[got] == col[k]))
            same_cat.append(np.mean(cat[got] == cat[k]))
            d = ((pictures - pictures[k]) ** 2).sum(1)
            d[k] = np.inf
            base = np.argsort(d, kind="stable")[:10]
            base_colour.append(np.mean(col[base] == col[k]))
            base_cat.append(np.mean(cat[base] == cat[k]))
    return {"products": len(sample), "colour_share10": float(np.mean(same_colour)),
            "category_precision10": float(np.mean(same_cat)),
            "picture_only_colour_share10": float(np.mean(base_colour)),
            "picture_only_category_precision10": float(np.mean(base_cat))}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5499/fashrec")
    parser.add_argument("--out", default=str(ROOT / "out" / "evaluation"), help="folder for the report")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    queries = [json.loads(line) for line in open(ROOT / "training" / "queries.jsonl")]
    heldout = [q for q in queries if q["split"] == "heldout"]
    texts = ([q["query"] for q in heldout], [q["category"] for q in heldout])
    category_sets = {}
    for key, name in CATEGORY_SETS.items():
        qs = [json.loads(line) for line in open(ROOT / "training" / name)]
        category_sets[key] = ([q["query"] for q in qs], [q["category"] for q in qs])
    manifest = json.load(open(ROOT / "models" / "manifest.json"))["metrics"]
    try:
        with psycopg.connect(args.url, autocommit=True) as conn:
            probes = conn.execute("SELECT current_setting('fashrec_ivf.probes', true)").fetchone()[0] or "10"
            index = conn.execute("""SELECT i.indexrelid::regclass::text FROM pg_index i
                JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
                WHERE i.indrelid = 'products'::regclass AND a.amname = 'fashrec_ivf'""").fetchone()
    except psycopg.Error as e:
        sys.exit(f"error: {e}".strip() + "\nhint: load and embed the catalog first (./fashrec.sh demo)")
    if index is None:
        sys.exit("error: products has no fashrec_ivf index: the evaluation measures the index as deployed")

    print(f"evaluating {args.url.split('@')[-1]}: every test product as an image query, {len(heldout)} text queries, "
          f"index {index[0]} at probes {probes} and exhaustive (about a minute)", flush=True)
    with ThreadPoolExecutor(2) as pool:
        img_index = pool.submit(evaluate, args.url, "SELECT * FROM fashrec_evaluate_images(false)")
        img_exact = pool.submit(evaluate, args.url, "SELECT * FROM fashrec_evaluate_images(true)")
        txt_index = evaluate(args.url, "SELECT * FROM fashrec_evaluate_texts(%s, %s, false)", texts)
        txt_exact = evaluate(args.url, "SELECT * FROM fashrec_evaluate_texts(%s, %s, true)", texts)
        more_texts = {f"{key}_{how}": evaluate(args.url, "SELECT * FROM fashrec_evaluate_texts(%s, %s, %s)",
                                               (*qs, how == "exhaustive"))
                      for key, qs in category_sets.items() for how in ("index", "exhaustive")}
        img_index, img_exact = img_index.result(), img_exact.result()

    attribute_sets = {}
    for name in ATTRIBUTE_SETS:
        queries = [json.loads(line) for line in open(ROOT / "training" / name)]
        print(f"attribute queries: {len(queries)} held-out queries of {name}, plain ORDER BY and recommend_for_text",
              flush=True)
        plain, plain_s = attribute_precision(args.url, queries, PLAIN)
        recommend, recommend_s = attribute_precision(args.url, queries, RECOMMEND)
        attribute_sets[name] = {"plain_index": plain, "plain_seconds": plain_s, "recommend_for_text": recommend,
                                "recommend_seconds": recommend_s, "under_10_matches": satisfiable(args.url, queries)}
    print(f"recommend_similar on {SIMILAR_SAMPLE} products", flush=True)
    similar = similar_products(args.url)

    seed = manifest["seed_report"]
    image_rows = [
        (f"image, index (probes {probes})", img_index[0], f"{img_index[1]:.0f}"),
        ("image, exhaustive", img_exact[0], f"{img_exact[1]:.0f}"),
        ("image, training (Python onnxruntime)", from_manifest(manifest["image_clean"]), ""),
    ]
    text_rows = [
        (f"text held-out, index (probes {probes})", txt_index[0], f"{txt_index[1]:.1f}"),
        ("text held-out, exhaustive", txt_exact[0], f"{txt_exact[1]:.1f}"),
        ("text held-out, training (Python onnxruntime)", from_manifest(manifest["text_heldout_queries"]), ""),
    ] + [(f"{name}, " + (f"index (probes {probes})" if how == "index" else how),
          more_texts[f"{key}_{how}"][0], f"{more_texts[f'{key}_{how}'][1]:.1f}")
         for key, name in CATEGORY_SETS.items() for how in ("index", "exhaustive")]
    seed_row = ("seed report (image)", {f"top{k}": seed[f"hit@{k}"] for k in KS}, "")
    loss = img_exact[0]["top1"] - img_index[0]["top1"]
    drift = max(abs(img_exact[0][f] - image_rows[2][1][f]) for f in ("top1", "top5", "mrr"))

    chart_topk(out / "topk.png", image_rows, text_rows, seed)
    chart_mrr(out / "mrr.png", image_rows + text_rows)
    (out / "metrics.json").write_text(json.dumps(
        {"probes": int(probes), "image_index": img_index[0], "image_exhaustive": img_exact[0],
         "text_heldout_index": txt_index[0], "text_heldout_exhaustive": txt_exact[0],
         **{key: result[0] for key, result in more_texts.items()},
         "attribute_sets": attribute_sets, "recommend_similar": similar}, indent=1) + "\n")
    report = f"""# fashrec evaluation

Measured in the database `{args.url.split('@')[-1]}` on {time.strftime('%Y-%m-%d %H:%M')} by
`demo/evaluate.py`, through the SQL functions `fashrec_evaluate_images` and `fashrec_evaluate_texts`.

- Image to image: each of the test products (split 'test') is a query against the train products
  (split 'test' excluded); a result is relevant when its category is the query's.
- Text to image: the {len(heldout)} held-out shopper queries of `training/queries.jsonl` (the half
  not used in training), each with the category the shopper wants, against the train products
  as for images. The "training" row searched all products, test products included: those were
  never fitted, lie closer to other categories, and make that figure a little lower. The
  `{"` and `".join(CATEGORY_SETS.values())}` rows: more held-out sets of such queries, by other authors.
- top-k accuracy: share of queries with a relevant result among the first k (the seed report's
  metric). MRR: mean of 1 / rank of the first relevant result (0 when none in the first 100).
- "index" searches like users do, through `{index[0]}` at fashrec_ivf.probes = {probes};
  "exhaustive" probes every list, which returns exactly the sequential scan's answer.
- "training" is what the models scored in Python onnxruntime when they were made
  (models/manifest.json); the seed report's figures are the student system's.

## Image to image (top-k accuracy and precision@10 in %)

{table(image_rows + [seed_row])}
Top-1 accuracy through the index at probes {probes}: {100 * img_index[0]['top1']:.2f}%, exhaustive
{100 * img_exact[0]['top1']:.2f}%: the index {"loses " + f"{100 * loss:.2f} points" if loss > 0 else "loses nothing"}.
Exhaustive search in the database differs from the training measurement by at most
{100 * drift:.2f} points (top-1, top-5, MRR).

## Text to image (held-out queries)

{table(text_rows)}
The seed report gave one text figure: {100 * seed['text']:.1f}% (its own query set).

## Attribute queries (held-out)

Shopper queries naming colour, material, style, occasion, brand or gender, searched over the
whole catalog through the index at probes {probes}. A result matches when its category and every
stated attribute are the query's (exact values); a unisex product matches a men's or women's
query. Each set is a file of `training/` (its .md says who wrote it and when).

| set | search | queries | all attributes, precision@10 | category, precision@10 | seconds |
|---|---|---:|---:|---:|---:|
{attribute_rows(attribute_sets)}

Queries fewer than 10 catalog products satisfy: {"; ".join(f"{q!r} ({n})" for a in attribute_sets.values()
                                                       for q, n in a["under_10_matches"]) or "none"}.

## Similar products

`recommend_similar(id, 10)` for {similar['products']} products (every n-th id): the share of the first 10
with the product's colour is {pct(similar['colour_share10'])}% and their category precision
{pct(similar['category_precision10'])}%; ranked by the picture part alone (what the embedding held
before the words were added), {pct(similar['picture_only_colour_share10'])}% and
{pct(similar['picture_only_category_precision10'])}%.

![top-k accuracy](topk.png)

![MRR](mrr.png)
"""
    (out / "report.md").write_text(report)
    print(f"image top-1 {pct(img_index[0]['top1'])}% through the index, {pct(img_exact[0]['top1'])}% exhaustive; "
          f"text held-out top-1 {pct(txt_index[0]['top1'])}%, precision@10 {pct(txt_index[0]['precision10'])}%")
    print(f"report: {out / 'report.md'} (charts topk.png, mrr.png)")


if __name__ == "__main__":
    main()
