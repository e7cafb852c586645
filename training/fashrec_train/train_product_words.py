"""Train the product words model: a shop's text about a product -> the words part of its vector.

embed_product used to run the sentence encoder (MiniLM, ~300 million multiply-adds for a
14-token text) and the words head on every product's text, which made a product six times the
cost of its picture. A shop describes its own products in the catalog's attribute words, so the
words its text contains say which attribute values it states: this model is a bag of the text's
WordPiece tokens (the shipped tokenizer, the encoder's input), an embedding of each token the
training texts contain, their mean, and an MLP to the same blocks as the words head (a softmax
per block over its values and "not stated", that class left out). Shopper queries keep the
encoder (embed_text): they use words no catalog text has ("kicks", "cheongsam").

Training data, all from the train split of the catalog (the held-out query files are never read):
the four texts (name, keywords, description, short description) of products of every category,
each labelled with the attributes that field states; the shopper phrasings of train_words; texts
of the descriptions' other words, which state nothing; the train half of training/queries.jsonl
(category only). The validation products of train_words (a
tenth of the train split, the same draw) measure it against the words head on the same texts,
and end to end: validation phrasings through embed_text's models against the 60,000 train
products, their words part from this model or from the encoder and words head.

    python -m fashrec_train.train_product_words
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import CATEGORIES, CHECKPOINTS, MODELS, SEED, TRAINING, load_export, log, seed_everything, \
    write_json
from .tokens import tokenize, tokenizer
from .train_text import one_cycle_adamw
from .train_words import BLOCKS, block_targets, draw, encode_cached, image_embeddings, mapper_outputs, matches, \
    phrase, product_texts, product_words, query_words, stack_targets, top10

RECIPE = {
    "products_per_category": 2000,
    "phrasings": 30000,
    "min_token_count": 2,
    "dims": 64,
    "hidden": 256,
    "epochs": 12,
    "batch_size": 512,
    "lr": 3e-3,
    "weight_decay": 1e-4,
    "token_dropout": 0.1,
    "filler_texts": 5000,
}
MODEL = MODELS / "product_words.onnx"
CKPT = CHECKPOINTS / "product_words" / "model.pt"
REPORT = TRAINING / "results" / "product_words.json"
OUTPUT = "attributes"


class ProductWords(nn.Module):
    """Token ids -> per-block probabilities of the values, from the mean of the known tokens."""

    def __init__(self, rows: torch.Tensor, known: int, sizes: list[int]):
        super().__init__()
        self.sizes = sizes
        self.register_buffer("rows", rows)  # [tokenizer vocabulary]: a known token's row, else 0
        self.embed = nn.Embedding(known + 1, RECIPE["dims"], padding_idx=0)
        self.net = nn.Sequential(nn.Linear(RECIPE["dims"], RECIPE["hidden"]), nn.GELU(),
                                 nn.Linear(RECIPE["hidden"], sum(n + 1 for n in sizes)))

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> list[torch.Tensor]:
        rows = self.rows[input_ids] * attention_mask
        present = (rows > 0).to(torch.float32).unsqueeze(-1)
        pooled = self.embed(rows).sum(1) / present.sum(1).clamp(min=1)
        return list(torch.split(self.net(pooled), [n + 1 for n in self.sizes], dim=1))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.softmax(z, dim=1)[:, :-1] for z in self.logits(input_ids, attention_mask)], dim=1)


def known_tokens(tok, texts: list[str]) -> torch.Tensor:
    """The row of each token id seen at least min_token_count times in the texts (special tokens
    and rarer ones get row 0: no embedding, left out of the mean)."""
    counts = np.zeros(tok.get_vocab_size(), np.int64)
    special = {tok.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]", "[UNK]")}
    for e in tok.encode_batch(texts):
        np.add.at(counts, [i for i in e.ids if i not in special], 1)
    keep = np.flatnonzero(counts >= RECIPE["min_token_count"])
    rows = np.zeros(len(counts), np.int64)
    rows[keep] = np.arange(1, len(keep) + 1)
    return torch.from_numpy(rows)


def filler_texts(rows: list[dict], phrases: dict, rng: np.random.Generator) -> list[str]:
    """Texts that state no attribute: 0 to 6 words of the catalog's descriptions that no product
    name, keywords or occasion phrase contains ("perfect for", "size 36"), so that such words
    carry no weight and a text of them alone reads as "not stated" in every block."""
    words = lambda t: re.findall(r"[a-z0-9'&-]+", t.lower())  # noqa: E731
    named = {w for r in rows for w in words(r["name"] + " " + r["keywords"])} | {"men", "women"}
    named |= {w for p in phrases.values() for w in words(p)}
    filler = sorted({w for r in rows if r["split"] == "train" for w in words(r["description"])} - named)
    return [" ".join(rng.choice(filler, rng.integers(0, 7))) for _ in range(RECIPE["filler_texts"])]


def batches(tok, texts: list[str], size: int = 1024):
    """Token ids and masks of the texts, `size` at a time."""
    for s in range(0, len(texts), size):
        yield tokenize(tok, texts[s:s + size])


def train(model: ProductWords, tok, texts: list[str], targets) -> ProductWords:
    torch.manual_seed(SEED)
    ts = [(torch.from_numpy(t), torch.from_numpy(m)) for t, m in targets]
    size = RECIPE["batch_size"]
    per_epoch = len(texts) // size
    opt, sched = one_cycle_adamw(model, RECIPE, per_epoch)
    g = torch.Generator().manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    for epoch in range(RECIPE["epochs"]):
        perm = torch.randperm(len(texts), generator=g)
        total = 0.0
        for s in range(per_epoch):
            idx = perm[s * size:(s + 1) * size]
            ids, mask = tokenize(tok, [texts[i] for i in idx])
            mask = mask * (rng.random(mask.shape) >= RECIPE["token_dropout"])  # a text with a word left out
            loss = 0.0
            for z, (t, m) in zip(model.logits(torch.from_numpy(ids), torch.from_numpy(mask)), ts):
                ce = -(t[idx] * F.log_softmax(z, dim=1)).sum(1)
                loss = loss + (ce * m[idx]).sum() / m[idx].sum().clamp(min=1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss)
        log(f"product words epoch {epoch + 1}: loss {total / per_epoch:.4f}")
    return model.eval()


def words_of(model: ProductWords, tok, texts: list[str]) -> np.ndarray:
    out = []
    with torch.no_grad():
        for ids, mask in batches(tok, texts):
            out.append(model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy())
    return np.concatenate(out)


def block_accuracy(scores: np.ndarray, targets, sizes: list[int]) -> dict:
    """Per block, the share of texts whose most likely value (or "not stated") is the label's;
    `scores` are the values' probabilities, "not stated" being what is left to 1."""
    out, at = {}, 0
    for b, n, (t, m) in zip(BLOCKS, sizes, targets):
        p = scores[:, at:at + n]
        at += n
        full = np.concatenate([p, 1 - p.sum(1, keepdims=True)], axis=1)[m > 0]
        tt = t[m > 0]
        if b == "gender":  # unisex is right when both values are (nearly) equal
            ok = np.where(tt[:, 0] == 0.5, np.abs(full[:, 0] - full[:, 1]) < 0.3, full.argmax(1) == tt.argmax(1))
        else:
            ok = full.argmax(1) == tt.argmax(1)
        out[b] = float(ok.mean())
    return out


def export(model: ProductWords, tok) -> None:
    ids, mask = tokenize(tok, ["black canvas shoes", "a longer text about a red evening gown"])
    tmp = Path(str(MODEL) + ".tmp")
    torch.onnx.export(model, (torch.from_numpy(ids), torch.from_numpy(mask)), str(tmp),
                      input_names=["input_ids", "attention_mask"], output_names=[OUTPUT],
                      dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                                    OUTPUT: {0: "batch"}},
                      opset_version=17, do_constant_folding=True, dynamo=False)
    tmp.replace(MODEL)


def onnx_words(texts: list[str], tok) -> np.ndarray:
    import onnxruntime as ort
    sess = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    out = []
    for ids, mask in batches(tok, texts):
        out.append(sess.run([OUTPUT], {"input_ids": ids, "attention_mask": mask})[0])
    return np.concatenate(out)


def main() -> None:
    seed_everything()
    t0 = time.time()
    rows, _, meta = load_export()
    d = draw(rows)  # train_words' draws: its validation products and phrasings are held apart here too
    vocab, sizes, labels, train_ids, fit_ids = d.vocab, d.sizes, d.labels, d.train, d.fit_ids
    noun, generic, phrases = d.noun, d.generic, d.phrases
    v_texts, v_stated = d.v_texts, d.v_stated
    vp_texts, vp_targets = product_texts(rows, d.v_products, vocab)

    own = np.random.default_rng(SEED + 1)
    per = RECIPE["products_per_category"]
    picked = np.concatenate([own.choice(fit_ids[labels[fit_ids] == c], per, replace=False) for c in range(10)])
    texts, targets = product_texts(rows, picked, vocab)
    for i in own.choice(fit_ids, RECIPE["phrasings"]):
        t, st = phrase(rows[i], own, noun, generic, phrases)
        texts.append(t)
        targets.append({b: st.get(b) for b in BLOCKS})
    for t in filler_texts(rows, phrases, own):
        texts.append(t)
        targets.append({b: None for b in BLOCKS})
    train_queries = [json.loads(line) for line in (TRAINING / "queries.jsonl").open()]
    for q in train_queries:
        if q["split"] == "train":
            texts.append(q["query"])
            targets.append({"category": q["category"]})

    tok = tokenizer()
    model = ProductWords(known_tokens(tok, texts), 0, sizes)
    known = int(model.rows.max())
    model = ProductWords(model.rows, known, sizes)
    key = {"recipe": RECIPE, "vocab": vocab, "data": hashlib.sha256("\n".join(texts).encode()).hexdigest()}
    state = torch.load(CKPT, weights_only=False) if CKPT.exists() else None
    if state and state.get("key") == key:
        model.load_state_dict(state["model"])
        model.eval()
    else:
        model = train(model, tok, texts, stack_targets(targets, vocab))
        CKPT.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"model": model.state_dict(), "key": key}, CKPT)
    export(model, tok)
    err = float(np.abs(onnx_words(vp_texts, tok) - words_of(model, tok, vp_texts)).max())
    if err > 1e-4:
        raise SystemExit(f"{MODEL} differs from the trained model by {err}")

    # The words head on the encoder, on the same validation texts.
    _, head_vp = mapper_outputs(encode_cached(vp_texts, "validation_products"))
    vp_t = stack_targets(vp_targets, vocab)
    v_t = stack_targets(block_targets(v_stated), vocab)
    s_v = encode_cached(v_texts, "validation_phrasings")
    m_v, head_v = mapper_outputs(s_v)
    accuracy = {
        "product_words": {"product_texts": block_accuracy(words_of(model, tok, vp_texts), vp_t, sizes),
                          "phrasings": block_accuracy(words_of(model, tok, v_texts), v_t, sizes)},
        "words_head": {"product_texts": block_accuracy(head_vp, vp_t, sizes),
                       "phrasings": block_accuracy(head_v, v_t, sizes)},
    }
    log(f"validation block accuracy: {accuracy}")

    # End to end: validation phrasings as embed_text makes them, against the train products as
    # `fashrec embed` makes them (image embedding, words of the keywords).
    manifest = json.loads((MODELS / "manifest.json").read_text())
    a, b = manifest["product"]["image_weight"], manifest["product"]["words_weight"]
    img = image_embeddings()[train_ids]
    keywords = [rows[i]["keywords"] for i in train_ids]
    _, head_g = mapper_outputs(encode_cached(keywords, "train_keywords"))
    query = np.concatenate([a * m_v, b * query_words(head_v)], axis=1)
    end_to_end = {}
    for name, words in (("product_words", words_of(model, tok, keywords)), ("words_head", head_g)):
        gallery = np.concatenate([a * img, b * product_words(words)], axis=1)
        top = top10(query, gallery)
        end_to_end[name] = {
            "attribute_precision@10": float(np.mean([matches(rows[train_ids[j]], st)
                                                     for k, st in enumerate(v_stated) for j in top[k]])),
            "category_precision@10": float(np.mean([labels[train_ids[j]] == CATEGORIES.index(st["category"])
                                                    for k, st in enumerate(v_stated) for j in top[k]]))}
    log(f"validation phrasings against the train products: {end_to_end}")
    write_json(REPORT, {
        "recipe": RECIPE, "known_tokens": known, "training_texts": len(texts),
        "validation_block_accuracy": accuracy, "validation_end_to_end": end_to_end,
        "image_weight": a, "words_weight": b, "max_abs_onnx_vs_torch": err,
        "catalog_seed": meta["seed"], "seconds": round(time.time() - t0, 1)})
    from .product_manifest import update_manifest_and_card
    update_manifest_and_card(manifest)
    log(f"wrote {MODEL} ({MODEL.stat().st_size / 1e6:.1f} MB); report {REPORT}; models/manifest.json updated")


if __name__ == "__main__":
    main()
