"""Train the words head: a MiniLM sentence embedding -> the catalog's attribute space.

The product vector (issue 18) is [a * picture ; b * words]. The picture part is the image
embedding (64-d); the words part says which catalog attribute values a text states, block by
block: category, gender, colour, material, style, occasion, brand, in the vocabulary of the
catalog's own train products. For each block the head gives a softmax over the block's values plus
"not stated"; the words output is the probabilities of the values (the "not stated" share left
out), so a text that names no colour has (nearly) no weight in the colour block. Gender has two
values (men, women); unisex is half of each. Gender is a shared block: in a vector each value v
becomes sqrt(v * the block's sum), so that unisex, [0.71, 0.71], is as long as men, [1, 0], and
a unisex query is nearest the unisex products (with [0.5, 0.5] it was as near a men's product).

The head (384 -> 512 -> GELU -> blocks) is fused into models/text_mapper.onnx as a second output,
`attributes`, next to the mapping into the image space: one model run gives both parts.

Training data, all from the train split of the catalog (the held-out query files are never read):
- product texts (name, keywords, description, short description) of 300 products per category,
  labelled with the attributes each field states;
- shopper phrasings generated from the same products' attribute values: a noun (the style's noun,
  or a generic one such as "boots" that states no style) with a random subset of colour, material,
  brand, gender and occasion around it, in the word orders the catalog's own texts use;
- those phrasings again with some of their attribute words in a shopper's words (shopper_words:
  "oxblood" for burgundy, "rucksack" for backpack, "for her"), stating the same;
- the train half of training/queries.jsonl, for the category block only.
A tenth of the train products is set apart: their phrasings are the validation queries on which
the weights a and b (a^2 + b^2 = 1) are chosen, with the 60,000 train products (their image
embeddings, their true attributes) as the gallery; the shipped a stays unless another is better by
more than a margin, since a new a means embedding every stored product again.

    python -m fashrec_train.train_words
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import CATEGORIES, CHECKPOINTS, MODELS, SEED, THREADS, TRAINING, WORK, canonical_images, \
    load_export, log, seed_everything, write_json
from . import shopper_words, text_encoder
from .train_text import one_cycle_adamw

BLOCKS = ["category", "gender", "colour", "material", "style", "occasion", "brand"]
GENDERS = ["men", "women"]
SHARED_BLOCKS = ["gender"]  # blocks whose values a product may hold together (see shared)
GENDER_SPAN = slice(len(CATEGORIES), len(CATEGORIES) + len(GENDERS))  # BLOCKS: category, gender, ...
FIELD_STATES = {  # which attributes a catalog field states
    "keywords": set(BLOCKS),
    "description": set(BLOCKS),
    "name": set(BLOCKS) - {"occasion"},
    "short_description": {"category", "colour", "material", "style"},
}
RECIPE = {
    "products_per_category": 300,
    "queries": 30000,
    "validation_share": 0.1,
    "validation_queries": 2000,
    "hidden": 512,
    "epochs": 20,
    "batch_size": 256,
    "lr": 2e-3,
    "weight_decay": 1e-4,
    "stated": {"colour": 0.6, "material": 0.5, "brand": 0.25, "gender": 0.3, "occasion": 0.3, "style": 0.5},
    "image_weight_grid": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95],
    # A new a makes every stored product vector stale (the catalog must be embedded again), so
    # the shipped a stays unless another beats it by more than this (attribute + category).
    "image_weight_keep_margin": 0.005,
    "query_norm_floor": 0.5,
    # Each phrasing again with each stated attribute's words, with this chance, in a shopper's
    # words (shopper_words); the validation phrasings keep the catalog's words.
    "shopper_words_share": 0.6,
    # Rewordings of each phrasing (each kept only if a word changed), and the chance of filler
    # words before and after each (shopper_words.pad).
    "shopper_rewordings": 2,
    "filler_share": 0.3,
}
WORDS_DIR = WORK / "words"
CKPT = CHECKPOINTS / "words" / "head.pt"
REPORT = TRAINING / "results" / "words.json"
MAPPER = MODELS / "text_mapper.onnx"
PREFIX = "words/"
OUTPUT = "attributes"


def vocabulary(rows: list[dict]) -> dict[str, list[str]]:
    train = [r for r in rows if r["split"] == "train"]
    vocab = {b: sorted({r[b] for r in train}) for b in ("colour", "material", "style", "occasion", "brand")}
    return {"category": list(CATEGORIES), "gender": GENDERS, **vocab}


def target(block: str, value: str | None, vocab: dict) -> np.ndarray:
    """Soft target over the block's values + "not stated" (last)."""
    t = np.zeros(len(vocab[block]) + 1, np.float32)
    if value is None:
        t[-1] = 1
    elif block == "gender" and value == "unisex":
        t[:2] = 0.5
    else:
        t[vocab[block].index(value)] = 1
    return t


def nouns(rows: list[dict]) -> tuple[dict, dict]:
    """The noun of each (label, style), read back from the product names, and the generic nouns of
    each category: its keyword and the last words shared by two or more of its nouns ("boots"),
    each word given to the category using it most ("shirt": Shirt, not the polo shirt's T-shirt)."""
    cands: dict = {}
    rows_keyword = {}
    for r in rows:
        if r["split"] != "train":
            continue
        poss = {"men": "men's", "women": "women's", "unisex": "unisex"}[r["gender"]]
        rest = r["name"].lower()[len(r["brand"]) + len(poss) + 2:]
        rest = rest[len(r["colour"]) + 1:]
        options = {rest}
        if rest.startswith(r["material"].lower() + " "):
            options.add(rest[len(r["material"]) + 1:])
        words = r["keywords"].split()  # "ankle boot unisex brown ...": the category keyword, then the gender
        rows_keyword.setdefault(r["label"], " ".join(words[:words.index(r["gender"])]))
        key = (r["label"], r["style"])
        cands[key] = cands[key] & options if key in cands else options
    noun = {k: min(v, key=len) for k, v in cands.items()}
    last = Counter((k[0], n.split()[-1]) for k, n in noun.items())
    owner: dict = {}
    for (label, word), n in last.items():
        if word not in owner or n > last[(owner[word], word)]:
            owner[word] = label
    generic = defaultdict(set)
    for word, label in owner.items():
        if last[(label, word)] >= 2:  # a word only one style uses would state that style
            generic[label].add(word)
    for label in generic:
        keyword = rows_keyword[label]
        generic[label] |= {keyword, keyword + ("es" if keyword.endswith("s") else "s")}
    return noun, {k: sorted(v) for k, v in generic.items()}


def occasion_phrases(rows: list[dict]) -> dict[str, str]:
    """The phrase the catalog's descriptions use for each occasion ("the outdoors" for outdoor)."""
    out = {}
    for r in rows:
        m = re.search(r"perfect for (.+?)\.", r["description"])
        if m and r["split"] == "train":
            out.setdefault(r["occasion"], m.group(1))
    return out


def phrase(r: dict, rng: np.random.Generator, noun: dict, generic: dict, phrases: dict) -> tuple[str, dict]:
    """A shopper phrasing of product r stating a random subset of its attributes."""
    p = RECIPE["stated"]
    stated = {b: r[b] for b in ("colour", "material", "brand", "gender", "occasion") if rng.random() < p[b]}
    if rng.random() < p["style"]:
        stated["style"] = r["style"]
        head = noun[(r["label"], r["style"])]
    else:
        head = str(rng.choice(generic[r["label"]]))
    stated["category"] = CATEGORIES[r["label"]]
    pre, post = [], []
    if "brand" in stated:
        if rng.random() < 0.6:
            pre.append(r["brand"])
        else:
            post.append(f"{rng.choice(['by', 'from'])} {r['brand']}")
    if "gender" in stated:
        g = r["gender"]
        if g == "unisex" or rng.random() < 0.5:
            pre.insert(0, {"men": "men's", "women": "women's", "unisex": "unisex"}[g])
        else:
            post.append(f"for {g}")
    if "colour" in stated:
        (pre.append(r["colour"]) if rng.random() < 0.8 else post.insert(0, f"in {r['colour']}"))
    if "material" in stated:
        m = r["material"].lower()
        (pre.append(m) if rng.random() < 0.7 else post.insert(0, f"{rng.choice(['in', 'made of'])} {m}"))
    if "occasion" in stated:
        u = rng.random()
        if u < 0.3:
            pre.append(r["occasion"])
        elif u < 0.65:
            post.append(f"for {r['occasion']}")
        else:
            post.append(f"for {phrases.get(r['occasion'], r['occasion'])}")
    text = " ".join(pre + [head] + post)
    if rng.random() < 0.2:
        text = " ".join(w[:1].upper() + w[1:] for w in text.split(" "))
    return text, stated


def shopper_phrasings(texts: list[str], stated: list[dict], d: "Draws",
                      rng: np.random.Generator) -> tuple[list[str], list[dict]]:
    """The phrasings that `shopper_words.reword` changed, with what each states."""
    out_texts, out_stated = [], []
    for _ in range(RECIPE["shopper_rewordings"]):
        for text, st in zip(texts, stated):
            label = CATEGORIES.index(st["category"])
            noun = d.noun[(label, st["style"])] if "style" in st else None
            new = shopper_words.reword(text, st, noun, d.generic[label], d.phrases.get(st.get("occasion")), rng,
                                       RECIPE["shopper_words_share"])
            if new != text:
                out_texts.append(shopper_words.pad(new, rng, RECIPE["filler_share"]))
                out_stated.append(st)
    return out_texts, out_stated


def product_texts(rows, ids, vocab):
    texts, targets = [], []
    for i in ids:
        r = rows[i]
        for field, states in FIELD_STATES.items():
            texts.append(r[field])
            targets.append({b: (CATEGORIES[r["label"]] if b == "category" else r[b]) if b in states else None
                            for b in BLOCKS})
    return texts, targets


def encode_cached(texts: list[str], tag: str) -> np.ndarray:
    return text_encoder.encode_cached(MODELS / "text_encoder.onnx", texts, tag, WORDS_DIR, threads=THREADS)


class WordsHead(nn.Module):
    """384-d sentence embedding -> per-block probabilities of the values ("not stated" dropped)."""

    def __init__(self, sizes: list[int], hidden: int = RECIPE["hidden"]):
        super().__init__()
        self.sizes = sizes
        self.net = nn.Sequential(nn.Linear(384, hidden), nn.GELU(), nn.Linear(hidden, sum(n + 1 for n in sizes)))

    def logits(self, s: torch.Tensor) -> list[torch.Tensor]:
        return list(torch.split(self.net(s), [n + 1 for n in self.sizes], dim=1))

    def forward(self, sentence_embedding: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.softmax(z, dim=1)[:, :-1] for z in self.logits(sentence_embedding)], dim=1)


def block_targets(stated: list[dict]) -> list[dict]:
    """Each phrasing's stated values, block by block (None: the block is not stated)."""
    return [{b: st.get(b) for b in BLOCKS} for st in stated]


def stack_targets(targets: list[dict], vocab: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per block: (targets [n, values+1], mask [n]); a block absent from a dict is unknown (mask 0)."""
    out = []
    for b in BLOCKS:
        t = np.stack([target(b, d.get(b), vocab) if b in d else np.zeros(len(vocab[b]) + 1, np.float32)
                      for d in targets])
        out.append((t, np.array([b in d for d in targets], np.float32)))
    return out


def train_head(x: np.ndarray, targets, sizes) -> WordsHead:
    torch.manual_seed(SEED)
    model = WordsHead(sizes)
    xt = torch.from_numpy(x)
    ts = [(torch.from_numpy(t), torch.from_numpy(m)) for t, m in targets]
    per_epoch = len(x) // RECIPE["batch_size"]
    opt, sched = one_cycle_adamw(model, RECIPE, per_epoch)
    g = torch.Generator().manual_seed(SEED)
    for epoch in range(RECIPE["epochs"]):
        perm = torch.randperm(len(x), generator=g)
        total = 0.0
        for s in range(per_epoch):
            idx = perm[s * RECIPE["batch_size"]:(s + 1) * RECIPE["batch_size"]]
            loss = 0.0
            for z, (t, m) in zip(model.logits(xt[idx]), ts):
                ce = -(t[idx] * F.log_softmax(z, dim=1)).sum(1)
                loss = loss + (ce * m[idx]).sum() / m[idx].sum().clamp(min=1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss)
        if epoch % 5 == 4 or epoch == RECIPE["epochs"] - 1:
            log(f"words head epoch {epoch + 1}: loss {total / per_epoch:.4f}")
    return model.eval()


def block_accuracy(model: WordsHead, x: np.ndarray, targets) -> dict:
    with torch.no_grad():
        zs = model.logits(torch.from_numpy(x))
    out = {}
    for b, z, (t, m) in zip(BLOCKS, zs, targets):
        keep = m > 0
        pred = z.numpy()[keep]
        tt = t[keep]
        if b == "gender":  # unisex is right when both values are (nearly) equal
            ok = np.where(tt[:, 0] == 0.5, np.abs(softmax(pred)[:, 0] - softmax(pred)[:, 1]) < 0.3,
                          pred.argmax(1) == tt.argmax(1))
        else:
            ok = pred.argmax(1) == tt.argmax(1)
        out[b] = float(ok.mean())
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def shared(w: np.ndarray) -> np.ndarray:
    """Each value v of the gender block as sqrt(v * the block's sum), as crates/embed/src/product.rs
    does for the manifest's shared blocks: unisex [0.5, 0.5] becomes [0.71, 0.71], men stays [1, 0]."""
    w = w.copy()
    block = np.clip(w[:, GENDER_SPAN], 0, None)
    w[:, GENDER_SPAN] = np.sqrt(block * block.sum(1, keepdims=True))
    return w


def product_words(w: np.ndarray) -> np.ndarray:
    """A product's words part from its attribute scores: shared blocks, then unit length."""
    w = shared(w)
    return w / np.linalg.norm(w, axis=1, keepdims=True)


def truth_words(rows, ids, vocab) -> np.ndarray:
    """The words part a perfect head would give each product (every block stated)."""
    return product_words(np.concatenate([np.stack([target(b, CATEGORIES[rows[i]["label"]] if b == "category"
                                                          else rows[i][b], vocab)[:-1] for i in ids])
                                         for b in BLOCKS], axis=1))


def query_words(w: np.ndarray) -> np.ndarray:
    """A query's words part: shared blocks, then unit length, or shorter when the text states
    (almost) nothing."""
    w = shared(w)
    return w / np.maximum(np.linalg.norm(w, axis=1, keepdims=True), RECIPE["query_norm_floor"])


def matches(r: dict, stated: dict) -> bool:
    """Every stated attribute is the product's (a unisex product matches a men's or women's query)."""
    for b, v in stated.items():
        have = CATEGORIES[r["label"]] if b == "category" else r[b]
        if b == "gender" and have == "unisex":
            continue
        if have != v:
            return False
    return True


def top10(q: np.ndarray, g: np.ndarray) -> np.ndarray:
    out = []
    for s in range(0, len(q), 500):
        sims = q[s:s + 500] @ g.T
        part = np.argpartition(-sims, 9, axis=1)[:, :10]
        order = np.take_along_axis(sims, part, axis=1).argsort(1)[:, ::-1]
        out.append(np.take_along_axis(part, order, axis=1))
    return np.concatenate(out)


def mapper_outputs(s: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    import onnxruntime as ort
    sess = ort.InferenceSession(str(MAPPER), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    res = sess.run(names, {"sentence_embedding": s.astype(np.float32)})
    return res[names.index("embedding")], (res[names.index(OUTPUT)] if OUTPUT in names else None)


def image_embeddings() -> np.ndarray:
    from .export_image import CATALOG_EMBEDDINGS, run_image_model, session
    if CATALOG_EMBEDDINGS.exists():
        return np.load(CATALOG_EMBEDDINGS)
    canon, _, _ = canonical_images()
    log("embedding the 70,000 catalog images with models/image_embedder.onnx")
    emb, _ = run_image_model(session(MODELS / "image_embedder.onnx"), canon)
    CATALOG_EMBEDDINGS.parent.mkdir(parents=True, exist_ok=True)
    np.save(CATALOG_EMBEDDINGS, emb)
    return emb


def strip_words(model) -> None:
    """Removes a words head fused by an earlier run, so that the mapper alone is left."""
    g = model.graph
    for n in [n for n in g.node if n.name.startswith(PREFIX) or any(o.startswith(PREFIX) for o in n.output)]:
        g.node.remove(n)
    for i in [i for i in g.initializer if i.name.startswith(PREFIX)]:
        g.initializer.remove(i)
    for o in [o for o in g.output if o.name == OUTPUT]:
        g.output.remove(o)


def fuse_into_mapper(head: WordsHead) -> None:
    """Adds the head to models/text_mapper.onnx as the output `attributes` [batch, W]."""
    import onnx
    from onnx import compose
    tmp = WORDS_DIR / "head.onnx"
    torch.onnx.export(head, (torch.zeros(2, 384),), str(tmp), input_names=["sentence_embedding"],
                      output_names=[OUTPUT], dynamic_axes={"sentence_embedding": {0: "batch"}, OUTPUT: {0: "batch"}},
                      opset_version=17, do_constant_folding=True, dynamo=False)
    h = compose.add_prefix(onnx.load(str(tmp)), PREFIX, rename_inputs=False, rename_outputs=False)
    m = onnx.load(str(MAPPER))
    strip_words(m)
    m.graph.node.extend(h.graph.node)
    m.graph.initializer.extend(h.graph.initializer)
    m.graph.output.extend(h.graph.output)
    onnx.checker.check_model(m)
    out = Path(str(MAPPER) + ".tmp")
    onnx.save(m, str(out))
    out.replace(MAPPER)


@dataclass
class Draws:
    """The catalog's blocks and this stage's split and random draws, in one fixed order (the
    product words stage takes the same validation products and phrasings from here)."""
    vocab: dict
    sizes: list
    noun: dict
    generic: dict
    phrases: dict
    labels: np.ndarray
    train: np.ndarray  # ids of the train split
    fit_ids: np.ndarray
    val_ids: np.ndarray  # the tenth held apart for validation
    picked: np.ndarray  # products whose texts train the head
    q_texts: list  # shopper phrasings of fit products, and what each states
    q_stated: list
    v_products: np.ndarray  # validation products and phrasings
    v_texts: list
    v_stated: list


def draw(rows: list[dict]) -> Draws:
    vocab = vocabulary(rows)
    noun, generic = nouns(rows)
    phrases = occasion_phrases(rows)
    rng = np.random.default_rng(SEED)
    labels = np.array([r["label"] for r in rows])
    train = np.flatnonzero(np.array([r["split"] == "train" for r in rows]))
    val_mask = rng.random(len(train)) < RECIPE["validation_share"]
    fit_ids, val_ids = train[~val_mask], train[val_mask]
    per = RECIPE["products_per_category"]
    picked = np.concatenate([rng.choice(fit_ids[labels[fit_ids] == c], per, replace=False) for c in range(10)])
    q = [phrase(rows[i], rng, noun, generic, phrases) for i in rng.choice(fit_ids, RECIPE["queries"])]
    v_products = rng.choice(val_ids, 300, replace=False)
    v = [phrase(rows[i], rng, noun, generic, phrases) for i in rng.choice(val_ids, RECIPE["validation_queries"])]
    return Draws(vocab, [len(vocab[b]) for b in BLOCKS], noun, generic, phrases, labels, train, fit_ids, val_ids,
                 picked, [t for t, _ in q], [st for _, st in q], v_products, [t for t, _ in v], [st for _, st in v])


def main() -> None:
    seed_everything()
    t0 = time.time()
    rows, _, meta = load_export()
    d = draw(rows)
    vocab, sizes, labels, train = d.vocab, d.sizes, d.labels, d.train
    p_texts, p_targets = product_texts(rows, d.picked, vocab)
    q_texts, q_targets = d.q_texts, block_targets(d.q_stated)
    train_queries = [json.loads(line) for line in (TRAINING / "queries.jsonl").open()]
    train_queries = [q for q in train_queries if q["split"] == "train"]
    c_texts = [q["query"] for q in train_queries]
    c_targets = [{"category": q["category"]} for q in train_queries]
    vp_texts, vp_targets = product_texts(rows, d.v_products, vocab)
    v_texts, v_stated = d.v_texts, d.v_stated
    w_texts, w_stated = shopper_phrasings(q_texts, d.q_stated, d, np.random.default_rng(SEED + 1))
    w_targets = block_targets(w_stated)
    vw_texts, vw_stated = shopper_phrasings(v_texts, v_stated, d, np.random.default_rng(SEED + 2))

    s_p = encode_cached(p_texts, "products")
    s_q = encode_cached(q_texts, "phrasings")
    s_c = encode_cached(c_texts, "train_queries")
    s_vp = encode_cached(vp_texts, "validation_products")
    s_v = encode_cached(v_texts, "validation_phrasings")
    s_w = encode_cached(w_texts, "shopper_phrasings")
    s_vw = encode_cached(vw_texts, "validation_shopper_phrasings")
    x = np.concatenate([s_p, s_q, s_w, s_c])
    targets = stack_targets(p_targets + q_targets + w_targets + c_targets, vocab)

    key = {"recipe": RECIPE, "vocab": vocab, "data": hashlib.sha256(x.tobytes()).hexdigest()}
    head = WordsHead(sizes)
    state = torch.load(CKPT, weights_only=False) if CKPT.exists() else None
    if state and state.get("key") == key:
        head.load_state_dict(state["model"])
        head.eval()
    else:
        head = train_head(x, targets, sizes)
        CKPT.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"model": head.state_dict(), "key": key}, CKPT)

    acc_products = block_accuracy(head, s_vp, stack_targets(vp_targets, vocab))
    acc_phrasings = block_accuracy(head, s_v, stack_targets(block_targets(v_stated), vocab))
    log(f"validation block accuracy, product texts: {acc_products}")
    log(f"validation block accuracy, phrasings: {acc_phrasings}")
    acc_shopper = block_accuracy(head, s_vw, stack_targets(block_targets(vw_stated), vocab))
    log(f"validation block accuracy, phrasings in shopper words: {acc_shopper}")

    # a, b on the validation phrasings (all attributes) and the train queries (category), against
    # the train products with their true attributes.
    img = image_embeddings()
    g_words = truth_words(rows, train, vocab)
    with torch.no_grad():
        w_v = query_words(head(torch.from_numpy(s_v)).numpy())
        w_c = query_words(head(torch.from_numpy(s_c)).numpy())
    m_v, _ = mapper_outputs(s_v)
    m_c, _ = mapper_outputs(s_c)
    c_labels = np.array([q["label"] for q in train_queries])
    grid = {}
    for a in RECIPE["image_weight_grid"]:
        b = float(np.sqrt(1 - a * a))
        gallery = np.concatenate([a * img[train], b * g_words], axis=1)
        top_v = top10(np.concatenate([a * m_v, b * w_v], axis=1), gallery)
        attr = float(np.mean([matches(rows[train[j]], st) for k, st in enumerate(v_stated) for j in top_v[k]]))
        top_c = top10(np.concatenate([a * m_c, b * w_c], axis=1), gallery)
        cat = float((labels[train[top_c]] == c_labels[:, None]).mean())
        grid[str(a)] = {"attribute_precision@10": attr, "category_precision@10": cat}
        log(f"a={a}: validation attribute precision@10 {attr:.4f}, train-query category precision@10 {cat:.4f}")
    score = {a: grid[str(a)]["attribute_precision@10"] + grid[str(a)]["category_precision@10"]
             for a in RECIPE["image_weight_grid"]}
    best = max(score, key=score.get)
    shipped = json.loads((MODELS / "manifest.json").read_text())["product"]["image_weight"]
    if shipped in score and score[best] - score[shipped] <= RECIPE["image_weight_keep_margin"]:
        best = shipped
    a = float(best)
    b = float(np.sqrt(1 - a * a))
    log(f"chosen image weight a={a}, words weight b={b:.4f} (shipped a={shipped})")

    fuse_into_mapper(head)
    _, fused = mapper_outputs(s_v[:64])
    with torch.no_grad():
        err = float(np.abs(fused - head(torch.from_numpy(s_v[:64])).numpy()).max())
    if err > 1e-4:
        raise SystemExit(f"the fused mapper's attributes differ from the head's by {err}")
    write_json(REPORT, {
        "recipe": RECIPE, "blocks": [{"name": b, "values": vocab[b]} for b in BLOCKS],
        "dims": int(sum(sizes)), "image_weight": a, "words_weight": b,
        "query_norm_floor": RECIPE["query_norm_floor"], "shared_blocks": SHARED_BLOCKS,
        "training_texts": {"product_fields": len(p_texts), "phrasings": len(q_texts),
                           "shopper_phrasings": len(w_texts), "train_queries": len(c_texts)},
        "validation_block_accuracy": {"product_texts": acc_products, "phrasings": acc_phrasings,
                                      "shopper_phrasings": acc_shopper},
        "weight_grid": grid, "examples": q_texts[:20], "catalog_seed": meta["seed"],
        "seconds": round(time.time() - t0, 1)})
    from .product_manifest import update_manifest_and_card
    update_manifest_and_card(json.loads((MODELS / "manifest.json").read_text()))
    log(f"words head fused into {MAPPER}; report {REPORT}; models/manifest.json updated")


if __name__ == "__main__":
    main()
