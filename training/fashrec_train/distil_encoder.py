"""The query encoder's weights: MiniLM's first layers taught to give the whole model's vectors.

A query's cost is the encoder's, a sixth of it per transformer layer. The student is
all-MiniLM-L6-v2 cut to its first `layers` layers; cut alone, its vectors are far from the six
layers' (mean cosine 0.43 at three) and the mapping trained on them lost three points of
held-out precision. Distillation trains the student's transformer layers so that its
mean-pooled, normalised output matches the six-layer model's (loss 1 - cosine). The word,
position and type embeddings stay frozen, so that a word the distillation texts never contain
keeps the teacher's embedding.

The texts, none from a held-out file (the validation products and phrasings of train_words are
left out too, so that its choice of weights stays honest):
- the catalog texts (name, keywords, description, short description) of train products;
- train_words' phrasings of the attribute values, and their shopper rewordings;
- the train queries of queries.jsonl and train_text's augmentations of them;
- general words: 1 to 4 whole words of the tokenizer's vocabulary, at random, alone or around a
  garment noun, so that what the shop never says still lands where the teacher puts it.

    python -m fashrec_train.distil_encoder      (text_encoder runs it unless its checkpoint matches)
"""

from __future__ import annotations

import hashlib
import re
import time

import numpy as np
import torch

from .common import CHECKPOINTS, SEED, WORK, load_export, log, seed_everything, write_json
from .tokens import model_dir, tokenize, tokenizer

RECIPE = {
    "catalog_products": 8000,
    "vocabulary_texts": 20000,
    "epochs": 5,
    "batch_size": 128,
    "lr": 2e-4,
    "weight_decay": 0.01,
}
CKPT = CHECKPOINTS / "text" / "student.pt"
REPORT = CKPT.with_suffix(".json")  # read by the manifest stage for the model card


def pooled(bert, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean pooling over the mask, L2-normalised: sentence-transformers' sentence embedding (and,
    exported by text_encoder, the ONNX graph's)."""
    hidden = bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
    m = mask.unsqueeze(-1).to(hidden.dtype)
    s = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return s / torch.sqrt(torch.clamp((s * s).sum(1, keepdim=True), min=1e-24))


def vocabulary_texts(n: int, nouns: list[str], rng: np.random.Generator) -> list[str]:
    tok = tokenizer()
    vocab = sorted(w for w in tok.get_vocab() if re.fullmatch(r"[a-z]{3,}", w))
    out = []
    for _ in range(n):
        words = [vocab[i] for i in rng.integers(len(vocab), size=rng.integers(1, 5))]
        if rng.random() < 0.5:
            words.insert(rng.integers(len(words) + 1), nouns[rng.integers(len(nouns))])
        out.append(" ".join(words))
    return out


def texts() -> dict[str, list[str]]:
    from . import train_text, train_words
    rows, _, _ = load_export()
    d = train_words.draw(rows)
    rng = np.random.default_rng(SEED + 3)
    fields = train_text.TEXT_FIELDS
    products = rng.choice(d.fit_ids, RECIPE["catalog_products"], replace=False)
    queries = train_text.load_queries()
    aug = train_text.augmented_queries(queries, np.random.default_rng(SEED), train_text.RECIPE["augmentations_per_query"])
    shopper, _ = train_words.shopper_phrasings(d.q_texts, d.q_stated, d, np.random.default_rng(SEED + 1))
    nouns = sorted(set(d.noun.values()).union(*d.generic.values()))
    return {
        "catalog": [rows[i][f] for i in products for f in fields],
        "phrasings": d.q_texts + shopper,
        "queries": [q["query"] for q in queries if q["split"] == "train"] + [a[0] for a in aug],
        "vocabulary": vocabulary_texts(RECIPE["vocabulary_texts"], nouns, rng),
    }


def token_counts(corpus: list[str]) -> np.ndarray:
    return np.array([len(e.ids) for e in tokenizer().encode_batch(corpus)])


def batches(lengths: np.ndarray, rng: np.random.Generator):
    """Batches of similar token counts (little padding), in random order."""
    order = np.argsort(lengths + rng.random(len(lengths)), kind="stable")
    size = RECIPE["batch_size"]
    chunks = [order[s:s + size] for s in range(0, len(order), size)]
    for k in rng.permutation(len(chunks)):
        yield chunks[k]


def encode(bert, corpus: list[str], size: int = 256) -> np.ndarray:
    """Sentence embeddings of the corpus, batched by token count (less padding, less time)."""
    tok = tokenizer()
    order = np.argsort(token_counts(corpus), kind="stable")
    out = np.zeros((len(corpus), 384), np.float32)
    with torch.no_grad():
        for s in range(0, len(corpus), size):
            idx = order[s:s + size]
            ids, mask = tokenize(tok, [corpus[i] for i in idx])
            out[idx] = pooled(bert, torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    return out


def student(layers: int):
    """The distilled `layers`-layer BertModel (trained here unless its checkpoint matches)."""
    from transformers import BertModel
    load = lambda n: BertModel.from_pretrained(str(model_dir()), attn_implementation="eager",  # noqa: E731
                                               add_pooling_layer=False, num_hidden_layers=n).eval()
    seed_everything()
    by_source = texts()
    corpus = [t for part in by_source.values() for t in part]
    key = {"recipe": RECIPE, "layers": layers, "texts": hashlib.sha256("\n".join(corpus).encode()).hexdigest()}
    model = load(layers)
    state = torch.load(CKPT, weights_only=False) if CKPT.exists() else None
    if state and state.get("key") == key:
        model.load_state_dict(state["model"])
        return model.eval()
    t0 = time.time()
    log(f"distilling a {layers}-layer encoder on {len(corpus)} texts: "
        + ", ".join(f"{k} {len(v)}" for k, v in by_source.items()))
    cache = WORK / "text" / f"teacher_{key['texts'][:16]}.npy"
    if cache.exists():
        teacher = np.load(cache)
    else:
        teacher = encode(load(6), corpus)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, teacher)
        log(f"teacher vectors in {time.time() - t0:.0f}s")
    history = distil(model, corpus, teacher, t0)
    CKPT.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), "key": key}, CKPT)
    write_json(REPORT, {"recipe": RECIPE, "layers": layers, "texts": {k: len(v) for k, v in
               by_source.items()}, "mean_cosine_by_epoch": history, "seconds": round(time.time() - t0, 1)})
    return model


def distil(model, corpus: list[str], teacher: np.ndarray, t0: float) -> list[float]:
    """Trains the model's transformer layers towards the teacher's vectors; the mean cosine per epoch."""
    for p in model.embeddings.parameters():
        p.requires_grad = False
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=RECIPE["lr"], weight_decay=RECIPE["weight_decay"])
    per_epoch = -(-len(corpus) // RECIPE["batch_size"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=RECIPE["lr"], total_steps=RECIPE["epochs"] * per_epoch,
                                                pct_start=0.1)
    tok = tokenizer()
    lengths = token_counts(corpus)
    rng = np.random.default_rng(SEED + 4)
    history = []
    for epoch in range(RECIPE["epochs"]):
        model.train()
        total = 0.0
        for idx in batches(lengths, rng):
            ids, mask = tokenize(tok, [corpus[i] for i in idx])
            s = pooled(model, torch.from_numpy(ids), torch.from_numpy(mask))
            loss = 1 - (s * torch.from_numpy(teacher[idx])).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        history.append(1 - total / len(corpus))
        log(f"distillation epoch {epoch + 1}: mean cosine to the teacher {history[-1]:.4f} ({time.time() - t0:.0f}s)")
    model.eval()
    return history


def main() -> None:
    from .text_encoder import LAYERS
    student(LAYERS)


if __name__ == "__main__":
    main()
