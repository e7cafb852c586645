"""Train the text-to-image mapping (384-d MiniLM sentence embedding -> 64-d image space).

The mapping has two branches, added and L2-normalised:

    embedding = normalise( mapper(s) + beta * softmax(s . B^T / tau) . T )

(models/text_mapper.onnx; s is the output of models/text_encoder.onnx, the quantised MiniLM.)

- mapper: an MLP 384 -> 512 -> 64 trained contrastively on catalog texts and the train queries;
- memory: B holds the 384-d embeddings of the train queries and of their augmented forms (a
  colour, a fit, an occasion, a price added), T the image-space prototype of each one's category;
  the softmax over cosine similarities is a soft nearest-neighbour vote in MiniLM space.
beta, tau (beta = 0: the mapper alone) and whether the memory also holds the catalog's short
descriptions are chosen by 5-fold cross-validation on the train queries only: the held-out half
plays no part in any choice.

Training data of the mapper: the catalog texts of 1,000 train products per category (description,
short description, keywords, name), each paired with its product's image embedding, plus the train
queries and their augmented forms (~10% of the samples). The 384-d inputs come from the shipped
(quantised) encoder graph, one text per run, so the mapping sees exactly what the extension computes.

Mapper loss (contrastive, instead of the seed's MSE):
- prototype InfoNCE: cosine to the 10 category prototypes of the image space (mean of the train
  image embeddings of a category, normalised), temperature 0.05, the text's category positive;
- pair InfoNCE (weight 0.1): cosine to the image embeddings of the batch, temperature 0.07, the
  text's own product positive (queries take no part).
For comparison the seed's objective (MSE to the product's image embedding) is trained on the same
data and evaluated the same way; it is not shipped.

    python -m fashrec_train.train_text
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import CATEGORIES, CHECKPOINTS, MODELS, SEED, TRAINING, WORK, load_export, log, seed_everything, write_json
from .metrics import ranked_labels
from . import text_encoder

CKPT_DIR = CHECKPOINTS / "text"
TEXT_FIELDS = ("description", "short_description", "keywords", "name")
PER_CLASS = 1000
FOLDS = 5
RECIPE = {
    "per_class_products": PER_CLASS,
    "fields": list(TEXT_FIELDS),
    "augmentations_per_query": 30,
    "query_share": 0.1,
    "epochs": 12,
    "batch_size": 512,
    "lr": 2e-3,
    "weight_decay": 1e-4,
    "hidden": 512,
    "dropout": 0.1,
    "proto_temperature": 0.05,
    "pair_temperature": 0.07,
    "pair_weight": 0.1,
    "memory_grid": {"beta": [0.0, 0.5, 1.0, 2.0, 4.0], "tau": [0.02, 0.05, 0.1],
                    "catalog_short_descriptions": [False, True]},
}

# Context words a shopper adds to a garment term. They must not decide the category, so the train
# queries are repeated with them ("red kicks for the gym", "cheap blazer for women under 50").
# Any word that occurs only in held-out or unseen queries is dropped (see augmented_queries).
PREFIXES = ["black", "white", "navy", "red", "blue", "green", "grey", "brown", "beige", "pink", "yellow",
            "cheap", "comfy", "warm", "light", "new", "designer", "cotton", "leather", "wool", "linen",
            "casual", "smart", "cute", "stylish", "classic", "affordable", "men's", "women's", "unisex"]
SUFFIXES = ["for men", "for women", "under 50", "under 100", "size m", "size 40", "for the weekend", "for work",
            "for the office", "for summer", "for winter", "for a party", "for the gym", "for running", "for travel",
            "for the beach", "for a wedding", "for everyday", "in black", "on sale", "for hiking", "for sport",
            "for going out", "for school", "for evenings"]


class TextMapper(nn.Module):
    def __init__(self, hidden: int = RECIPE["hidden"], dropout: float = RECIPE["dropout"]):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(384, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, 64))

    def forward(self, sentence_embedding: torch.Tensor) -> torch.Tensor:
        return l2(self.net(sentence_embedding))


class TextToImage(nn.Module):
    """The exported mapping: mapper branch + memory branch.

    The memory B is rounded to int8 with one scale per entry (the mapped vectors move by cosine
    < 2e-5) and kept here as float, B^T, so that the export can store it back as int8 with
    MatMulInteger (see export_mapping); each entry's category is a one-hot row, so the vote is
    softmax(s . B^T / tau) . onehot . prototypes."""

    def __init__(self, mapper: TextMapper, bank: np.ndarray, bank_labels: np.ndarray, protos: np.ndarray,
                 beta: float, tau: float):
        super().__init__()
        self.mapper = mapper
        q, scale = symmetric_int8(bank.T, axis=0)
        self.register_buffer("memory", torch.from_numpy((q * scale).astype(np.float32)))
        self.register_buffer("bank_category", F.one_hot(torch.from_numpy(bank_labels), protos.shape[0]).to(torch.uint8))
        self.register_buffer("prototypes", torch.from_numpy(protos.astype(np.float32)))
        self.beta, self.tau = float(beta), float(tau)

    def forward(self, sentence_embedding: torch.Tensor) -> torch.Tensor:
        v = self.mapper(sentence_embedding)
        if self.beta > 0:
            w = torch.softmax(sentence_embedding @ self.memory / self.tau, dim=1)
            v = v + self.beta * ((w @ self.bank_category.float()) @ self.prototypes)
        return l2(v)


def symmetric_int8(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """x ~ q * scale with q int8 in [-127, 127] and one scale per slice along `axis` (keepdims)."""
    scale = np.maximum(np.abs(x).max(axis, keepdims=True), 1e-12) / 127  # an all-zero slice stays zero
    return np.round(x / scale).astype(np.int8), scale


def l2(e: torch.Tensor) -> torch.Tensor:
    return e / torch.sqrt(torch.clamp((e * e).sum(1, keepdim=True), min=1e-24))


def load_queries() -> list[dict]:
    qs = [json.loads(line) for line in (TRAINING / "queries.jsonl").open()]
    for q in qs:
        if CATEGORIES[q["label"]] != q["category"] or q["split"] not in ("train", "heldout", "unseen"):
            raise SystemExit(f"bad query line: {q}")
    return qs


def chosen_encoder() -> Path:
    report = json.loads(text_encoder.REPORT.read_text())
    return text_encoder.REPORT.parent / report["chosen"]


def encode_cached(texts: list[str], tag: str) -> np.ndarray:
    return text_encoder.encode_cached(chosen_encoder(), texts, tag, WORK / "text")


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9&'-]+", text.lower()))


def augmented_queries(queries: list[dict], rng: np.random.Generator, per_query: int) -> list[tuple[str, int, int]]:
    """(text, label, query index): each train query with a random prefix and/or suffix.

    No augmented text contains a word that occurs only in held-out or unseen queries."""
    train_words = set().union(*(words(q["query"]) for q in queries if q["split"] == "train"))
    private = set().union(*(words(q["query"]) for q in queries if q["split"] != "train")) - train_words
    pre = [p for p in PREFIXES if not words(p) & private]
    suf = [x for x in SUFFIXES if not words(x) & private]
    out = []
    for qi, q in enumerate(queries):
        if q["split"] != "train":
            continue
        seen = {q["query"]}
        for _ in range(per_query):
            t = q["query"]
            r = rng.random()
            if r < 0.35:
                t = f"{pre[rng.integers(len(pre))]} {t}"
            elif r < 0.7:
                t = f"{t} {suf[rng.integers(len(suf))]}"
            else:
                t = f"{pre[rng.integers(len(pre))]} {t} {suf[rng.integers(len(suf))]}"
            if t not in seen:
                seen.add(t)
                out.append((t, q["label"], qi))
    return out


def catalog_training_texts(rows: list[dict]) -> tuple[list[str], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    labels = np.array([r["label"] for r in rows])
    train = np.array([r["split"] == "train" for r in rows])
    texts, lab, pid = [], [], []
    for c in range(len(CATEGORIES)):
        ids = np.flatnonzero(train & (labels == c))
        for i in np.sort(rng.choice(ids, PER_CLASS, replace=False)):
            for f in TEXT_FIELDS:
                texts.append(rows[i][f])
                lab.append(c)
                pid.append(i)
    return texts, np.array(lab), np.array(pid)


def prototypes(emb: np.ndarray, labels: np.ndarray, train: np.ndarray) -> np.ndarray:
    p = np.stack([emb[train & (labels == c)].mean(0) for c in range(len(CATEGORIES))])
    return p / np.linalg.norm(p, axis=1, keepdims=True)


def one_cycle_adamw(model: nn.Module, recipe: dict, per_epoch: int):
    """AdamW with a one-cycle learning rate over the recipe's epochs (lr, weight_decay, epochs)."""
    opt = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=recipe["weight_decay"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe["lr"], total_steps=recipe["epochs"] * per_epoch,
                                                pct_start=0.1)
    return opt, sched


def train_mapper(objective: str, x: np.ndarray, y: np.ndarray, pid: np.ndarray,
                 img: np.ndarray, protos: np.ndarray, tag: str) -> TextMapper:
    torch.manual_seed(SEED)
    x, y, pid = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(pid)
    img, protos = torch.from_numpy(img), torch.from_numpy(protos)
    model = TextMapper()
    per_epoch = len(x) // RECIPE["batch_size"]
    opt, sched = one_cycle_adamw(model, RECIPE, per_epoch)
    g = torch.Generator().manual_seed(SEED)
    for epoch in range(RECIPE["epochs"]):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        total = 0.0
        for s in range(per_epoch):
            idx = perm[s * RECIPE["batch_size"]:(s + 1) * RECIPE["batch_size"]]
            m = model(x[idx])
            has = pid[idx] >= 0
            target = img[pid[idx].clamp(min=0)]
            if objective == "mse":
                loss = F.mse_loss(m[has], target[has])
            else:
                loss = F.cross_entropy(m @ protos.T / RECIPE["proto_temperature"], y[idx])
                if has.sum() > 1:
                    logits = m[has] @ target[has].T / RECIPE["pair_temperature"]
                    loss = loss + RECIPE["pair_weight"] * F.cross_entropy(logits, torch.arange(int(has.sum())))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss)
    log(f"mapper {tag} ({objective}): final epoch loss {total / per_epoch:.4f}")
    return model.eval()


def mapper_data(s_cat, tl, tp, s_aug, aug_lab, s_q, q_lab, q_idx, aug_idx):
    """Catalog texts + the given train queries and their augmentations (queries ~10% of samples)."""
    xq = np.concatenate([s_q[q_idx], s_aug[aug_idx]])
    yq = np.concatenate([q_lab[q_idx], aug_lab[aug_idx]])
    reps = max(1, round(RECIPE["query_share"] * len(s_cat) / len(xq)))
    x = np.concatenate([s_cat] + [xq] * reps)
    y = np.concatenate([tl] + [yq] * reps)
    pid = np.concatenate([tp] + [np.full(len(xq), -1)] * reps)
    return x, y, pid, np.concatenate([s_q[q_idx], s_aug[aug_idx]]), yq


def combine(mapper: TextMapper, s: np.ndarray, bank: np.ndarray, bank_labels: np.ndarray, protos: np.ndarray,
            beta: float, tau: float):
    with torch.no_grad():
        return TextToImage(mapper, bank, bank_labels, protos, beta, tau)(torch.from_numpy(s)).numpy()


def precision10(v: np.ndarray, labels: np.ndarray, gallery: np.ndarray, gallery_labels: np.ndarray) -> float:
    return float((ranked_labels(v, gallery, gallery_labels, depth=10) == labels[:, None]).mean())


def export_mapping(model: TextToImage, out: Path) -> None:
    """The mapping graph: input sentence_embedding [batch, 384] -> embedding [batch, 64].

    The memory similarity runs in int8 (see int8_memory_matmul): a float memory would make the
    file 4x larger and every call read 4x the bytes, which is what a call costs at this size."""
    import onnx
    tmp = Path(str(out) + ".tmp")
    torch.onnx.export(model, (torch.zeros(2, 384),), str(tmp),
                      input_names=["sentence_embedding"], output_names=["embedding"],
                      dynamic_axes={"sentence_embedding": {0: "batch"}, "embedding": {0: "batch"}},
                      opset_version=17, do_constant_folding=False, dynamo=False)
    m = onnx.load(str(tmp))
    int8_memory_matmul(m)
    m.producer_name = "fashrec-training"
    onnx.checker.check_model(m)
    onnx.save(m, str(tmp))
    tmp.replace(out)


def int8_memory_matmul(m) -> None:
    """Replaces MatMul(s, memory) by an int8 MatMulInteger, in place.

    The memory (B^T, already rounded to int8 with one scale per entry) is stored as int8 plus its
    scales; each row of s is quantised symmetrically with its own scale, so a text's vector does not
    depend on the other texts of the batch (per-tensor dynamic quantisation would make it):
    s . B^T = (s_scale * s_int8) . (B_int8 * B_scale) = (s_int8 . B_int8) * s_scale * B_scale.
    s_int8 travels as uint8 with zero point 128: ONNX Runtime's fast kernel is uint8 x int8 (its
    int8 x int8 kernel took 12 ms here, against 0.3 ms)."""
    from onnx import TensorProto, helper, numpy_helper
    g = m.graph
    node = [n for n in g.node if n.op_type == "MatMul" and n.input[1] == "memory"]
    init = [t for t in g.initializer if t.name == "memory"]
    if len(node) != 1 or len(init) != 1:
        raise SystemExit("expected one MatMul reading the memory initializer")
    node, init = node[0], init[0]
    # The memory holds int8 values times their scales already: this recovers them exactly.
    b_int8, b_scale = symmetric_int8(numpy_helper.to_array(init), axis=0)
    g.initializer.remove(init)
    g.initializer.extend([
        numpy_helper.from_array(b_int8, "memory_int8"),
        numpy_helper.from_array(b_scale[0].astype(np.float32), "memory_scale"),
        numpy_helper.from_array(np.array(1e-12 * 127, np.float32), "memory_tiny"),
        numpy_helper.from_array(np.array(127, np.float32), "memory_127"),
        numpy_helper.from_array(np.array(128, np.float32), "memory_128"),
        numpy_helper.from_array(np.array(128, np.uint8), "memory_zero")])
    x, y, n = node.input[0], node.output[0], "memory_"
    new = [
        helper.make_node("Abs", [x], [n + "abs"]),
        helper.make_node("ReduceMax", [n + "abs"], [n + "amax"], axes=[1], keepdims=1),
        helper.make_node("Max", [n + "amax", n + "tiny"], [n + "amax_safe"]),
        helper.make_node("Div", [n + "amax_safe", n + "127"], [n + "row_scale"]),
        helper.make_node("Div", [x, n + "row_scale"], [n + "x_scaled"]),
        helper.make_node("Round", [n + "x_scaled"], [n + "x_round"]),
        helper.make_node("Add", [n + "x_round", n + "128"], [n + "x_shifted"]),
        helper.make_node("Cast", [n + "x_shifted"], [n + "x_uint8"], to=TensorProto.UINT8),
        helper.make_node("MatMulInteger", [n + "x_uint8", "memory_int8", n + "zero"], [n + "acc"]),
        helper.make_node("Cast", [n + "acc"], [n + "acc_float"], to=TensorProto.FLOAT),
        helper.make_node("Mul", [n + "acc_float", n + "row_scale"], [n + "row_scaled"]),
        helper.make_node("Mul", [n + "row_scaled", "memory_scale"], [y]),
    ]
    at = list(g.node).index(node)
    g.node.remove(node)
    for k, nd in enumerate(new):
        g.node.insert(at + k, nd)


def main() -> None:
    from .export_image import CATALOG_EMBEDDINGS
    seed_everything()
    t0 = time.time()
    rows, _, _ = load_export()
    labels = np.array([r["label"] for r in rows])
    train = np.array([r["split"] == "train" for r in rows])
    img = np.load(CATALOG_EMBEDDINGS)
    protos = prototypes(img, labels, train)

    texts, tl, tp = catalog_training_texts(rows)
    queries = load_queries()
    aug = augmented_queries(queries, np.random.default_rng(SEED), RECIPE["augmentations_per_query"])
    s_cat = encode_cached(texts, "catalog")
    s_q = encode_cached([q["query"] for q in queries], "queries")
    s_aug = encode_cached([a[0] for a in aug], "augmented")
    q_lab = np.array([q["label"] for q in queries])
    q_split = np.array([q["split"] for q in queries])
    aug_lab = np.array([a[1] for a in aug])
    aug_src = np.array([a[2] for a in aug])
    train_q = np.flatnonzero(q_split == "train")
    short_of = {rows[i]["short_description"]: rows[i]["label"] for i in np.flatnonzero(train)}
    shorts = sorted(short_of)
    short_lab = np.array([short_of[t] for t in shorts])
    s_short = encode_cached(shorts, "short_descriptions")

    def memory(q_idx: np.ndarray, aug_mask: np.ndarray, with_shorts: bool) -> tuple[np.ndarray, np.ndarray]:
        parts = [s_q[q_idx], s_aug[aug_mask]] + ([s_short] if with_shorts else [])
        labs = [q_lab[q_idx], aug_lab[aug_mask]] + ([short_lab] if with_shorts else [])
        return np.concatenate(parts), np.concatenate(labs)
    log(f"mapping data: {len(texts)} catalog texts, {len(train_q)} train queries, {len(aug)} augmented queries")
    CKPT_DIR.mkdir(parents=True, exist_ok=True)

    # The image embeddings and the encodings are in the key: a retrained image model or another
    # encoder must retrain the mappers.
    img_sha256 = hashlib.sha256(img.tobytes()).hexdigest()
    text_sha256 = hashlib.sha256(s_cat.tobytes() + s_aug.tobytes() + s_q.tobytes()).hexdigest()

    def mapper_cached(tag: str, objective: str, q_idx: np.ndarray) -> TextMapper:
        ck = CKPT_DIR / f"mapper_{tag}.pt"
        key = {"recipe": RECIPE, "objective": objective, "queries": q_idx.tolist(), "n_texts": len(texts),
               "image_embeddings": img_sha256, "text_embeddings": text_sha256}
        mapper = TextMapper()
        if ck.exists():
            state = torch.load(ck, weights_only=False)
            if state.get("key") == key:
                mapper.load_state_dict(state["model"])
                return mapper.eval()
        x, y, pid, _, _ = mapper_data(s_cat, tl, tp, s_aug, aug_lab, s_q, q_lab, q_idx, np.isin(aug_src, q_idx))
        mapper = train_mapper(objective, x, y, pid, img, protos, tag)
        torch.save({"model": mapper.state_dict(), "key": key}, ck)
        return mapper

    # 5-fold cross-validation on the train queries: whole queries (and their augmentations) out,
    # together with their sibling phrasing (queries.jsonl starts the train half with pairs of
    # phrasings of one garment term), so that a fold is scored on terms it has not seen, like the
    # held-out half. Later entries are grouped two by two in file order all the same; a term they
    # share with an earlier entry can sit in two folds.
    within = np.array([np.sum(q_lab[train_q[:k]] == q_lab[qi]) for k, qi in enumerate(train_q)])
    fold_of = (within // 2) % FOLDS
    mg = RECIPE["memory_grid"]
    grid = [(b, t, c) for b in mg["beta"] for t in mg["tau"] for c in mg["catalog_short_descriptions"]
            if b > 0 or (t == mg["tau"][0] and not c)]
    name = lambda b, t, c: f"beta={b},tau={t},short_descriptions={c}"  # noqa: E731
    cv = {name(*g): [] for g in grid}
    for f in range(FOLDS):
        fit, out = train_q[fold_of != f], train_q[fold_of == f]
        mapper = mapper_cached(f"cv{f}", "contrastive", fit)
        for c in mg["catalog_short_descriptions"]:
            bank, bank_labels = memory(fit, np.isin(aug_src, fit), c)
            for b, t, c2 in grid:
                if c2 == c:
                    v = combine(mapper, s_q[out], bank, bank_labels, protos, b, t)
                    cv[name(b, t, c)].append(precision10(v, q_lab[out], img, labels))
    cv_mean = {k: float(np.mean(v)) for k, v in cv.items()}
    best = max(grid, key=lambda g: (round(cv_mean[name(*g)], 4), -g[0], not g[2]))
    log("cross-validation precision@10: " + ", ".join(f"{k} {v:.4f}" for k, v in cv_mean.items()))
    log(f"chosen: {name(*best)}")

    # Final models on all train queries.
    bank, bank_labels = memory(train_q, np.ones(len(aug), bool), best[2])
    results = {}
    held = np.flatnonzero(q_split == "heldout")
    unseen = np.flatnonzero(q_split == "unseen")
    for objective in ("mse", "contrastive"):
        mapper = mapper_cached(f"final_{objective}", objective, train_q)
        res = {}
        for variant, (b, t) in (("mapper_only", (0.0, 1.0)), ("mapper_and_memory", best[:2])):
            res[variant] = {
                split: precision10(combine(mapper, s_q[idx], bank, bank_labels, protos, b, t), q_lab[idx], img, labels)
                for split, idx in (("heldout", held), ("unseen", unseen), ("train", train_q))}
        results[objective] = res
        log(f"{objective}: precision@10 " + json.dumps(res))
    final = TextToImage(mapper, bank, bank_labels, protos, *best[:2]).eval()
    MODELS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(chosen_encoder(), MODELS / "text_encoder.onnx")
    export_mapping(final, MODELS / "text_mapper.onnx")
    write_json(CKPT_DIR / "mapper_report.json", {
        "recipe": RECIPE, "catalog_texts": len(texts), "train_queries": int(len(train_q)),
        "augmented_queries": len(aug), "memory_entries": int(len(bank)), "heldout_queries": int(len(held)),
        "unseen_queries": int(len(unseen)), "encoder": chosen_encoder().name,
        "cross_validation_precision@10": cv_mean,
        "chosen": {"beta": best[0], "tau": best[1], "catalog_short_descriptions_in_memory": best[2]},
        "torch_precision@10": results, "seconds": round(time.time() - t0, 1)})
    log(f"text models written: {MODELS / 'text_encoder.onnx'}, {MODELS / 'text_mapper.onnx'}")


if __name__ == "__main__":
    main()
