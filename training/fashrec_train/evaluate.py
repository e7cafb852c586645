"""Evaluate the shipped ONNX files with onnxruntime (not the PyTorch models).

- Image, clean: the 10,000 test images (manifest preprocessing) against the 60,000 train gallery.
- Image, photos: the 10,000 test images rendered as shop photos (photos.py: random colour,
  off-white background, upscaled to 360-440 px, random offset, JPEG quality 80), decoded and
  preprocessed from the JPEG bytes, against the same clean gallery.
- Text, shopper queries: the held-out half of training/queries.jsonl through the text graphs,
  against the 70,000 catalog images; the train half and the queries with words absent from the
  catalog text are reported too.
- Text, catalog: the descriptions of 2,000 test products against the 60,000 train gallery.
Writes training/results/metrics.json and models/metrics.png.

    python -m fashrec_train.evaluate
"""

from __future__ import annotations

import json
import re
import time

import numpy as np

from .common import CATEGORIES, N_TEST, MODELS, RESULTS, SEED, canonical_images, load_export, log, seed_everything, write_json
from .export_image import run_image_model, session
from .metrics import per_category, ranked_labels, retrieval_metrics
from . import photos, preprocess, text_encoder
from .train_text import load_queries

PHOTO_SEED = 4242
SEED_REPORT = {"hit@1": 0.825, "hit@3": 0.914, "hit@5": 0.931, "hit@7": 0.952, "hit@9": 0.957, "text": 0.991}


def catalog_vocabulary(rows: list[dict]) -> set[str]:
    vocab = set()
    for r in rows:
        for f in ("name", "description", "short_description", "keywords", "category", "style", "colour", "material"):
            vocab.update(re.findall(r"[a-z0-9&'-]+", str(r[f]).lower()))
    return vocab


UPPER_BODY = {"T-shirt/top", "Pullover", "Dress", "Coat", "Shirt"}


def hit5_misses(ranked: np.ndarray, q_lab: np.ndarray) -> dict:
    """Queries without a relevant result in the first 5: which category their top 5 is mostly."""
    from collections import Counter
    miss = np.flatnonzero(~(ranked[:, :5] == q_lab[:, None]).any(axis=1))
    pairs = Counter((CATEGORIES[q_lab[i]], CATEGORIES[Counter(ranked[i, :5].tolist()).most_common(1)[0][0]])
                    for i in miss)
    upper = sum(v for (a, b), v in pairs.items() if a in UPPER_BODY and b in UPPER_BODY)
    return {"count": int(len(miss)), "upper_body_share": float(upper / max(len(miss), 1)),
            "top_pairs": [{"query": a, "top5_mostly": b, "count": v} for (a, b), v in pairs.most_common(8)]}


def text_embed(sessions, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(embedding 64-d, sentence_embedding 384-d) through models/text_encoder + text_mapper, one
    text per run as embed_text runs them (the quantised encoder's scale is per run)."""
    encoder, mapper = sessions
    tok = text_encoder.tokenizer()
    e64, e384 = [], []
    for text in texts:
        ids, mask = text_encoder.tokenize(tok, [text])
        (b,) = encoder.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})
        (a,) = mapper.run(["embedding"], {"sentence_embedding": b})
        e64.append(a)
        e384.append(b)
    return np.concatenate(e64), np.concatenate(e384)


def main() -> None:
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=N_TEST, help="test photos to render (all by default)")
    args = ap.parse_args()
    seed_everything()
    t0 = time.time()
    rows, images, _ = load_export()
    canon, labels, is_train = canonical_images()
    img_sess = session(MODELS / "image_embedder.onnx")
    log("clean images through the ONNX image model")
    emb, logits = run_image_model(img_sess, canon)
    g_emb, g_lab = emb[is_train], labels[is_train]
    q_emb, q_lab = emb[~is_train], labels[~is_train]
    ranked = ranked_labels(q_emb, g_emb, g_lab)
    clean = retrieval_metrics(ranked, q_lab)
    clean["classifier_accuracy"] = float((logits[~is_train].argmax(1) == q_lab).mean())
    clean["per_category_hit@1"] = dict(zip(CATEGORIES, per_category(ranked, q_lab)))
    clean["per_category_hit@5"] = dict(zip(CATEGORIES, [
        float((ranked[q_lab == c, :5] == c).any(axis=1).mean()) for c in range(len(CATEGORIES))]))
    clean["hit@5_misses"] = hit5_misses(ranked, q_lab)
    raw = images[~is_train].astype(np.float32) / 255.0
    effect = {"mean_abs_change": float(np.abs(canon[~is_train] - raw).mean()),
              "unchanged_share": float((np.abs(canon[~is_train] - raw).max(axis=(1, 2)) < 0.01).mean())}
    log(f"clean: {json.dumps({k: round(v, 4) for k, v in clean.items() if isinstance(v, float)})}")

    log("rendering and preprocessing 10,000 test photos")
    test_ids = np.flatnonzero(~is_train)[:args.photos]
    photo_canon = np.empty((len(test_ids), 28, 28), np.float32)
    sizes, tp = [], time.time()
    for k, pid in enumerate(test_ids):
        data, _ = photos.render_photo(images[pid], photos.photo_rng(PHOTO_SEED, int(pid)))
        sizes.append(len(data))
        photo_canon[k] = preprocess.canonical_from_bytes(data)
        if k % 2000 == 0:
            log(f"photo {k}/{len(test_ids)}")
    preprocess_ms = (time.time() - tp) / len(test_ids) * 1000
    p_emb, p_logits = run_image_model(img_sess, photo_canon)
    p_lab = labels[test_ids]
    p_ranked = ranked_labels(p_emb, g_emb, g_lab)
    photo = retrieval_metrics(p_ranked, p_lab)
    photo["classifier_accuracy"] = float((p_logits.argmax(1) == p_lab).mean())
    photo["per_category_hit@1"] = dict(zip(CATEGORIES, per_category(p_ranked, p_lab)))
    photo["mean_jpeg_bytes"] = float(np.mean(sizes))
    photo["render_and_preprocess_ms_per_photo"] = round(preprocess_ms, 2)
    photo["cosine_to_clean_embedding_mean"] = float((p_emb * q_emb[:len(test_ids)]).sum(1).mean())
    log(f"photos: {json.dumps({k: round(v, 4) for k, v in photo.items() if isinstance(v, float)})}")

    log("text queries through the ONNX text graph")
    txt_sess = (session(MODELS / "text_encoder.onnx"), session(MODELS / "text_mapper.onnx"))
    queries = load_queries()
    vocab = catalog_vocabulary(rows)
    q_texts = [q["query"] for q in queries]
    t64, _ = text_embed(txt_sess, q_texts)
    ql = np.array([q["label"] for q in queries])
    split = np.array([q["split"] for q in queries])
    oov = np.array([any(w not in vocab for w in re.findall(r"[a-z0-9&'-]+", q.lower())) for q in q_texts])
    t_ranked = ranked_labels(t64, emb, labels)
    text = {}
    for name, mask in (("heldout", split == "heldout"), ("heldout_out_of_catalog_words", (split == "heldout") & oov),
                       ("unseen_terms", split == "unseen"), ("train", split == "train")):
        text[name] = retrieval_metrics(t_ranked[mask], ql[mask])
    p10 = (t_ranked[:, :10] == ql[:, None]).mean(1)
    text["heldout_failures"] = [
        {"query": q_texts[i], "category": CATEGORIES[ql[i]], "precision@10": float(p10[i]),
         "top10": [CATEGORIES[c] for c in t_ranked[i, :10]]}
        for i in np.flatnonzero((split == "heldout") & (p10 < 1.0))]
    text["unseen_failures"] = [
        {"query": q_texts[i], "category": CATEGORIES[ql[i]], "precision@10": float(p10[i])}
        for i in np.flatnonzero((split == "unseen") & (p10 < 1.0))]
    text["out_of_catalog_queries"] = [q_texts[i] for i in np.flatnonzero(oov)]
    log(f"text held-out: precision@10 {text['heldout']['precision@10']:.4f} "
        f"({len(text['heldout_failures'])} queries below 1.0)")

    rng = np.random.default_rng(SEED)
    pick = np.sort(rng.choice(np.flatnonzero(~is_train), 2000, replace=False))
    c64, _ = text_embed(txt_sess, [rows[i]["description"] for i in pick])
    catalog_text = retrieval_metrics(ranked_labels(c64, g_emb, g_lab), labels[pick])
    log(f"catalog descriptions: precision@10 {catalog_text['precision@10']:.4f}")

    metrics = {"image_clean": clean, "image_photos": photo, "text_queries": text,
               "text_catalog_descriptions": catalog_text, "seed_report": SEED_REPORT,
               "preprocessing_effect_on_catalog_images": effect,
               "photo_seed": PHOTO_SEED, "seconds": round(time.time() - t0, 1)}
    write_json(RESULTS / "metrics.json", metrics)
    chart(metrics)
    log(f"evaluation written: {RESULTS / 'metrics.json'}, {MODELS / 'metrics.png'}")


def chart(m: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    keys = ["hit@1", "hit@3", "hit@5", "hit@7", "hit@9", "mrr"]
    series = [
        ("seed (reported, image)", [SEED_REPORT.get(k, np.nan) for k in keys], "#bbbbbb"),
        ("image, clean test", [m["image_clean"][k] for k in keys], "#1f77b4"),
        ("image, rendered photos", [m["image_photos"][k] for k in keys], "#ff7f0e"),
        ("text, held-out queries", [m["text_queries"]["heldout"][k] for k in keys], "#2ca02c"),
        ("text, catalog descriptions", [m["text_catalog_descriptions"][k] for k in keys], "#9467bd"),
    ]
    fig, ax = plt.subplots(figsize=(10, 5.4), dpi=110)
    w = 0.16
    for i, (name, vals, col) in enumerate(series):
        xs = np.arange(len(keys)) + (i - 2) * w
        ax.bar(xs, vals, w, label=name, color=col)
    ax.set_xticks(np.arange(len(keys)), ["top-1", "top-3", "top-5", "top-7", "top-9", "MRR"])
    ax.set_ylim(0.75, 1.0)
    ax.set_ylabel("category match (hit@k) / MRR")
    ax.axhline(0.93, color="#d62728", lw=0.8, ls="--")
    ax.text(-0.45, 0.931, "top-1 target 0.93", color="#d62728", ha="left", va="bottom", fontsize=8)
    ax.set_title("fashrec models on ONNX Runtime: category hit@k and MRR\n"
                 "(image: 10,000 test queries vs 60,000 train images; text: queries vs catalog images)", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=3, fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    MODELS.mkdir(parents=True, exist_ok=True)
    fig.savefig(MODELS / "metrics.png")
    plt.close(fig)


if __name__ == "__main__":
    main()
