"""The product vector's entries in models/manifest.json and its section of models/MODEL_CARD.md,
from the report of the train_words stage (and, once recorded, the evaluation in the database).
Both the train_words stage and the manifest stage write them through these functions."""

from __future__ import annotations

import json
import time

from .common import EXPORT, MODELS, TRAINING, load_export, write_json
from .train_words import BLOCKS, MAPPER, OUTPUT, REPORT

ATTRIBUTES_MEANING = ("per block of `product.blocks`, the probabilities of its values that the text states "
                      "them (softmax with a 'not stated' class, that class left out); the words part")


def add_to_manifest(manifest: dict) -> None:
    """The words head's entries in models/manifest.json, from this stage's report (the manifest
    stage calls this too): the fused mapper file, its second output and the product section."""
    from .manifest import file_entry, io_spec, sha256  # manifest.py imports this module
    report = json.loads(REPORT.read_text())
    text = manifest["text"]
    _, outputs, _ = io_spec(MAPPER)
    meanings = {o["name"]: o.get("meaning") for o in text["mapper"]["outputs"]}
    for o in outputs:
        o["meaning"] = ATTRIBUTES_MEANING if o["name"] == OUTPUT else meanings.get(o["name"])
    text["mapper"].update({**file_entry(MAPPER), "outputs": outputs})
    text["mapper_attributes_output"] = OUTPUT
    image_dims = manifest["image"]["dims"]
    manifest["product"] = {
        "dims": image_dims + report["dims"],
        "image_weight": report["image_weight"],
        "words_weight": report["words_weight"],
        "query_norm_floor": report["query_norm_floor"],
        "layout": f"[a * picture ({image_dims} dims) ; b * words ({report['dims']} dims)], a^2 + b^2 = 1",
        "product_rule": "embed_product: picture = image embedding (unit), words = product_words' attributes / "
                        "|attributes|",
        "text_rule": "embed_text: picture = the mapper's embedding (unit), words = attributes / "
                     "max(|attributes|, query_norm_floor)",
        "photo_rule": "embed_image: [image embedding ; zeros], unit length",
        "shared_rule": "in a shared block each value v becomes sqrt(v * the block's sum) before the words "
                       "are scaled (a unisex product, half men and half women, is as long as a men's one)",
        "shared_blocks": report.get("shared_blocks", []),
        "blocks": report["blocks"],
    }
    from .train_product_words import MODEL as PRODUCT_WORDS, OUTPUT as PRODUCT_WORDS_OUTPUT
    inputs, outputs, _ = io_spec(PRODUCT_WORDS)
    for o in outputs:
        o["meaning"] = ATTRIBUTES_MEANING + ", of a shop's text about its product (embed_product)"
    text["product_words"] = {**file_entry(PRODUCT_WORDS), "inputs": inputs, "outputs": outputs}
    text["product_words_output"] = PRODUCT_WORDS_OUTPUT
    files = [MODELS / manifest["image"]["file"], MODELS / text["encoder"]["file"], MAPPER,
             MODELS / text["tokenizer"]["file"], PRODUCT_WORDS]
    manifest["total_bytes"] = sum(f.stat().st_size for f in files)
    _, _, meta = load_export()
    manifest["catalog"]["export_sha256"] = {meta["catalog_file"]: sha256(EXPORT / meta["catalog_file"]),
                                            meta["images_file"]: sha256(EXPORT / meta["images_file"])}


DATABASE = TRAINING / "results" / "database.json"  # demo/evaluate.py's metrics.json on these models
# The held-out set that judged the shipped models (attribute_queries_8.jsonl); the earlier sets,
# category_queries_2..4.jsonl among them, had been evaluated before.
HELD_OUT, LAST_CATEGORY_SET = 8, 4
CARD_BEGIN, CARD_END = "<!-- product vector: product_manifest.card_section -->", "<!-- /product vector -->"


def card_section() -> str:
    """The model card's section on the product vector, from this stage's report and, when it has
    been recorded, the evaluation in the database (training/results/database.json)."""
    r = json.loads(REPORT.read_text())
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    grid = "\n".join(f"| {a} | {pct(g['attribute_precision@10'])} | {pct(g['category_precision@10'])} |"
                     for a, g in r["weight_grid"].items())
    acc = r["validation_block_accuracy"]
    blocks = ", ".join(f"{b['name']} {len(b['values'])}" for b in r["blocks"])
    accuracy = "\n".join(f"| {b} | {pct(acc['product_texts'][b])} | {pct(acc['phrasings'][b])} | "
                         f"{pct(acc['shopper_phrasings'][b])} |" for b in BLOCKS)
    t = r["training_texts"]
    db = ""
    d = json.loads(DATABASE.read_text()) if DATABASE.exists() else {}
    # Only a database measurement that has the held-out set can be of these models.
    if f"attribute_queries_{HELD_OUT}.jsonl" in d.get("attribute_sets", {}):
        sim, sets = d["recommend_similar"], d["attribute_sets"]
        new = sets[f"attribute_queries_{HELD_OUT}.jsonl"]
        before = range(HELD_OUT - 1, 0, -1)
        earlier = [sets[f"attribute_queries{f'_{n}' if n > 1 else ''}.jsonl"] for n in before]
        img, exact, txt = d["image_index"], d["image_exhaustive"], d["text_heldout_index"]

        def row(search: str, measure: str) -> str:
            return (f"{new[search][measure]:.3f} (earlier sets {', '.join(map(str, before))}: "
                    f"{', '.join(f'{e[search][measure]:.3f}' for e in earlier)})")
        category_rows = "\n".join(
            f"| category queries `category_queries_{n}.jsonl`, "
            f"precision@10, index | | {d[f'category_set_{n}_index']['precision10']:.3f} "
            f"(exhaustive {d[f'category_set_{n}_exhaustive']['precision10']:.3f}) |"
            for n in range(LAST_CATEGORY_SET, 1, -1))
        db = f"""
### Measured in the database

`./fashrec.sh evaluate` (demo/evaluate.py) on the demo catalog (70,000 products, product vectors
from `fashrec embed`, the fashrec_ivf index at probes {d['probes']}); its metrics.json is
`training/results/database.json`. The held-out set is `training/attribute_queries_{HELD_OUT}.jsonl`,
written by an author who saw no result and committed before the shared gender block it judges;
nothing was chosen on it. The earlier sets had been evaluated before, so their figures are no
longer held out: `attribute_queries_7.jsonl` (written for the wider shopper vocabulary of
`shopper_words.py`; its misses on unisex and gender-neutral queries led to the shared gender
block), `attribute_queries_6.jsonl`
and `category_queries_4.jsonl` (written for the distilled query encoder; the sixth set's misses,
words the head had not learnt, led to the wider vocabulary), `attribute_queries_5.jsonl` and
`category_queries_3.jsonl` (written for a smaller encoder; they judged a first distillation of two
epochs, which fell short on category queries, before the distillation was lengthened to five),
`attribute_queries_4.jsonl` (the words head trained on shoppers' words), `attribute_queries_3.jsonl`
and `category_queries_2.jsonl` (the quantised encoder; some of the third set's shopper words were
known when `shopper_words.py` was written), `attribute_queries_2.jsonl` (the product words model)
and `attribute_queries.jsonl`. A result matches when its category and every stated attribute are
the query's, a unisex product matching a men's or women's query.

| measure | bar | measured |
|---|---|---|
| plain `ORDER BY embedding <-> embed_text(q) LIMIT 10`, all attributes, precision@10 | >= 0.90 | {row('plain_index', 'attribute_precision10')} |
| the same, category precision@10 | >= 0.98 | {row('plain_index', 'category_precision10')} |
| `recommend_for_text(q, 10)`, all attributes, precision@10 | >= 0.95 | {row('recommend_for_text', 'attribute_precision10')} |
| held-out category queries (`queries.jsonl`), precision@10, index | >= 0.953 | {txt['precision10']:.3f} (exhaustive {d['text_heldout_exhaustive']['precision10']:.3f}) |
{category_rows}
| photo queries (`embed_image` of the test pictures): top-1, MRR, exhaustive | >= 0.937, >= 0.954 | {exact['top1']:.4f}, {exact['mrr']:.4f} (the 64-d ranking, exactly) |
| the same through the index at probes {d['probes']} | | {img['top1']:.4f}, {img['mrr']:.4f} (hit@5 {img['top5']:.4f}, exhaustive {exact['top5']:.4f}) |
| `recommend_similar`, share of the first 10 with the product's colour | >= 0.6 | {sim['colour_share10']:.3f} (picture only: {sim['picture_only_colour_share10']:.3f}) |
| `recommend_similar`, category precision@10 | as before | {sim['category_precision10']:.3f} (picture only: {sim['picture_only_category_precision10']:.3f}) |

Before the shared gender block (the same models, a unisex product's gender [0.5, 0.5]; the same
server and catalog, 2026-12-06, Intel Xeon with AVX-512, measured just before the catalog was
embedded and indexed again under the block): the eighth set plain 0.889 (category 0.990), recommend_for_text 0.906; the seventh 0.916
(0.980) and 0.929; the sixth 0.955 and 0.966, the fifth 0.952 and 0.953; `queries.jsonl` 0.954
(exhaustive 0.947); `category_queries_4.jsonl` 0.875, `_3` 0.892, `_2` 0.977; `recommend_similar`
colour share 0.628; the photo figures exhaustively the same (the picture part did not change).
The block touches neither model file: `train_words` was run again for it (its weight grid above
is under the block) and its retrained head differs from the shipped one by at most 0.003 in an
attribute score of 256 random sentence embeddings (torch's threaded training is not bit-exact), so the shipped `text_mapper.onnx`
was kept rather than adding 12 MB to every clone.

With the narrower shopper vocabulary before (the words head of 375f7dc; the same server, index and
product vectors, the models alternated through `fashrec.model_dir`, 2026-12-03, AVX2-only AMD
EPYC): the seventh set plain 0.896 (category 0.980), recommend_for_text 0.919; the sixth set 0.924
and 0.939, the fifth 0.928 and 0.935; `queries.jsonl` 0.957 (exhaustive 0.956);
`category_queries_4.jsonl` 0.866, `_3` 0.876, `_2` 0.971. So the wider vocabulary gains 1.9
points plain and 1.0 with recommend_for_text on the held-out set, and more on the sets whose misses
it followed, with `queries.jsonl` 0.2 points lower through the index and 0.9 exhaustively; the
product side and the photo figures are unchanged (the same product vectors).

With the six-layer quantised encoder before the distilled one (its mapping and words head; the
same server, index and product vectors, the models alternated through `fashrec.model_dir`,
2026-12-03, on an Intel Xeon): the sixth set plain 0.899 (category 0.985), recommend_for_text 0.923;
`category_queries_4.jsonl` 0.879 (exhaustive 0.866); the fifth set 0.929 and 0.945,
`category_queries_3.jsonl` 0.912, `category_queries_2.jsonl` 0.985, `queries.jsonl` 0.958
(exhaustive 0.949). So the distilled encoder is ahead on attribute queries and even on
`queries.jsonl`, and behind on the other authors' category-only queries (1.4 points on the
held-out `category_queries_4.jsonl` through the index, 0.1 exhaustive; 4.1 and 1.2 on the third
and second sets). The first distillation (two epochs, mean cosine 0.936 to the six layers'
vectors on the encoder's checked texts, against 0.959 after five): the fifth set 0.927 and 0.932,
`category_queries_3.jsonl` 0.890, `queries.jsonl` 0.946 (exhaustive 0.934), below the bar.

Before the shopper words (the head trained on catalog words only, whose validation chose
a = 0.8; the catalog embedded again for each), on the same server and sets (2026-12-03): the fourth set plain 0.782 (category 0.983), recommend_for_text 0.792, 79
of its queries better and 3 worse with the head trained on them; the third set 0.884 (0.980) and 0.907. With
the float encoder before the quantised one: the third set 0.883 (0.990) and 0.913,
`category_queries_2.jsonl` 0.987 (exhaustive 0.979), `queries.jsonl` 0.951 (exhaustive 0.949).

Limits seen: the words head reads the catalog's values and the shopper words it was trained on
(`shopper_words.py`) and their close variants; a word neither covers is read as MiniLM places it,
often as nothing. The index's lists are clustered on whole product vectors, so a photo query (no
words part) picks its probed lists less well than the picture alone would, and loses recall at
probes {d['probes']} (hit@5 and MRR above); raise `fashrec_ivf.probes` for photo search. The figures
through the index move a little with each build of the index (its k-means lists). Only the
attribute values the catalog sells have a dimension. Speed (bench/embed.md): the distilled encoder takes 0.52x the
six-layer one's time and 0.50x its instructions on the AVX2 kernels (0.35x the float encoder's);
embed_text p50 2.3-2.4 ms against 3.0-4.2 ms on an AVX-512 machine, and 2.3-3.0 ms against
4.3-4.6 ms on an AVX2-only one (9.9 ms p50 there with the float encoder); embed_products meets
0.9x embed_images (0.92x on the AVX2 machine) since the product words model replaced the encoder
for products.
"""
    gender = ("; it is a shared block: each value v becomes sqrt(v * the block's sum), so unisex\n"
              "  [0.71, 0.71] is as long as men [1, 0] and a unisex query is nearest the unisex products\n"
              "  (as [0.5, 0.5] it was as near a men's product; a catalog embedded before this rule must be\n"
              "  embedded again)") if "gender" in r.get("shared_blocks", []) else ""
    return f"""{CARD_BEGIN}
## Product vector (issue 18)

`products.embedding` is one vector per product, `[a * picture ; b * words]`, a = {r['image_weight']},
b = {r['words_weight']:.4f} (a^2 + b^2 = 1), {64 + r['dims']} dims:

- picture: the 64-d image embedding (unit length), what the picture shows (shape, category);
- words: which catalog attribute values the shop's text states, {r['dims']} dims in blocks
  ({blocks}); each block is the softmax over its values and "not stated", that class left out,
  so a text naming no colour puts (almost) no weight in the colour block. Gender is two values,
  a unisex product half of each{gender}. For a product the words part is scaled to unit length.

Why this design: the stored embedding used to be the picture's alone, a 28x28 grayscale shape, in
which no text mapping can find a colour or a material. Concatenating two parts of fixed norm keeps
one vector, one index and one `ORDER BY`: for unit product vectors |q - p|^2 = |q|^2 + 1 - 2 q.p
and q.p = a^2 (picture agreement) + b^2 (attributes agreement), so the query's words weigh in
with a fixed share, and a product matching more stated attributes ranks higher within its
category. A photo query is `[picture ; 0]`: every product's words part adds the same constant to
the distance, so photo search ranks products exactly as the 64-d image embedding did (a test
proves it). An explicit attribute space, rather than a learned joint one, needs no paired
image-text training and says what each dimension means; its cost is that only the catalog's own
attribute values are known (a colour the catalog never sells has no dimension).

`embed_text(q)` = `[a * mapper(q) ; b * words(q) / max(|words(q)|, {r['query_norm_floor']})]`: the mapping into
the image space as before, the words part shorter when the query states (almost) nothing.
`embed_product(image, text)` reads the shop's text with the product words model (below), in the
same blocks; `fashrec embed` passes the keywords (every attribute in about 14 tokens).

The words head (384 -> {r['recipe']['hidden']} -> GELU -> the blocks) is the second output, `attributes`, of
`text_mapper.onnx`: one model run gives both parts. It was trained by `train_words` on the train
split only: {t['product_fields']:,} catalog texts (name, keywords, description and short description of
{r['recipe']['products_per_category']} products per category, each labelled with the attributes that field states),
{t['phrasings']:,} shopper phrasings generated from those products' attribute values (a style's noun, or
a generic noun such as "boots" that states no style, with a random subset of colour, material,
brand, gender and occasion in the catalog's word orders), {t['shopper_phrasings']:,} rewordings of those
phrasings ({r['recipe']['shopper_rewordings']} of each) with some of their attribute words in a shopper's words
(`shopper_words.py`: "oxblood" for burgundy, "rucksack" for backpack, "for her", "kicks" for
sneakers; each stated attribute reworded with chance {r['recipe']['shopper_words_share']}) and, with chance
{r['recipe']['filler_share']} each, filler words that state nothing before and after ("looking for", "please"),
and the {t['train_queries']} train queries of
`queries.jsonl` (category only). A tenth of the train products was held apart; their texts and
phrasings give the validation figures below, and the weights were chosen on them (the sum of the
two columns of the second table, on phrasings in the catalog's words; the shipped a is kept
unless another is ahead by more than {r['recipe']['image_weight_keep_margin']}, since a new a means embedding every stored product
again), with the 60,000 train products (image embeddings, true attributes) as gallery. The held-out files were not read by
training. The head trained without the shopper phrasings read the validation phrasings in
shopper words with colour 72%, material 89%, style 79% and occasion 90% accuracy.

| block | validation product texts | validation phrasings | the same in shopper words |
|---|---|---|---|
{accuracy}

| a | validation attribute precision@10 | train-query category precision@10 |
|---|---|---|
{grid}
{product_words_section()}{db}{CARD_END}
"""


def product_words_section() -> str:
    """The product words model (train_product_words), from its report."""
    from .train_product_words import REPORT as PW_REPORT
    r = json.loads(PW_REPORT.read_text())
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    acc = r["validation_block_accuracy"]
    rows = "\n".join(f"| {b} | {pct(acc['product_words']['product_texts'][b])} | "
                     f"{pct(acc['words_head']['product_texts'][b])} |" for b in BLOCKS)
    e2e = r["validation_end_to_end"]
    rec = r["recipe"]
    return f"""
### The product words model

The words part of a product comes from `product_words.onnx`, not from the encoder and the words
head: with the encoder a product cost six times its picture (bench/embed.md), and a shop's text
about its own products states its attributes in the catalog's words. The model is a bag of the
text's WordPiece tokens (the shipped tokenizer): an embedding ({rec['dims']} dims) of each of the
{r['known_tokens']:,} tokens seen at least {rec['min_token_count']} times in its training texts, the mean of those
present, an MLP ({rec['dims']} -> {rec['hidden']} -> GELU -> the blocks) and the words head's block softmax.
It was trained by `train_product_words` on {r['training_texts']:,} train-split texts: the four fields of
{rec['products_per_category']:,} products per category, {rec['phrasings']:,} phrasings as above, {rec['filler_texts']:,} texts of the
descriptions' other words ("perfect for", "size 36") that state nothing, and the train queries, with
{pct(rec['token_dropout'])} of the tokens of each training text dropped. Queries keep the encoder
(embed_text): a shopper's words include terms no catalog text has.

On the validation products' texts (the same 1,200 as above), block accuracy:

| block | product words model | words head on the encoder |
|---|---|---|
{rows}

End to end on the validation phrasings (embed_text's models) against the 60,000 train products as
`fashrec embed` makes them (picture and keywords), attribute precision@10: product words model
{pct(e2e['product_words']['attribute_precision@10'])}, encoder and words head {pct(e2e['words_head']['attribute_precision@10'])}
(category precision@10 {pct(e2e['product_words']['category_precision@10'])} and {pct(e2e['words_head']['category_precision@10'])}).
Its limit: a word no training text had is ignored, where the encoder would place it near its
synonyms; a shop whose texts use other words than the catalog's should keep its texts to them or
retrain this model on its own.
"""


def update_manifest_and_card(manifest: dict) -> None:
    """Writes models/manifest.json with the product entries and the model card's section (the
    train_words and train_product_words stages end with this)."""
    add_to_manifest(manifest)
    manifest["generated"] = time.strftime("%Y-%m-%d")
    write_json(MODELS / "manifest.json", manifest)
    write_card_section()


def write_card_section() -> None:
    """Puts card_section() into models/MODEL_CARD.md, replacing an earlier one (before Wall times)."""
    path = MODELS / "MODEL_CARD.md"
    card = path.read_text()
    if CARD_BEGIN in card:
        card = card[:card.index(CARD_BEGIN)] + card[card.index(CARD_END) + len(CARD_END):].lstrip("\n")
    at = card.index("## Wall times")
    path.write_text(card[:at] + card_section().rstrip("\n") + "\n\n" + card[at:])
