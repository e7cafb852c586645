"""Reference inputs and expected outputs for the Rust implementation (training/reference/).

Images: a few test products as the catalog stores them (28x28 grayscale PNG, bright on black), as
rendered shop photos (lossless PNG and the JPEG of the same rendering), one RGBA PNG with a
transparent background, one large photo and one JPEG stored sideways with an EXIF orientation. For each: the intermediate values of the
preprocessing (background, polarity, trim box, resized size), the 28x28 model input, and the
embedding and logits of models/image_embedder.onnx.
Texts: a few queries (one over 256 tokens): token ids, the sentence_embedding of
models/text_encoder.onnx and the embedding of models/text_mapper.onnx.

A Rust implementation should match the 28x28 input to ~1e-5 and the embeddings to cosine >= 0.9999
on the PNG files; JPEG decoders differ slightly (IDCT, chroma upsampling), so for the JPEG files
cosine >= 0.999 is the fair bar.

    python -m fashrec_train.reference
"""

from __future__ import annotations

import io
import shutil

import numpy as np
from PIL import Image

from .common import CATEGORIES, MODELS, TRAINING, load_export, log, seed_everything, write_json
from .export_image import session
from . import photos, preprocess, text_encoder

REF = TRAINING / "reference"
PRODUCT_IDS = [60000, 60002, 60005, 60017, 60023, 60042]
TEXTS = ["black canvas shoes", "kicks", "a red evening gown for a wedding", "",
         "Tote bag in brown leather, roomy enough for a laptop. " * 30]


def r(v, n=6):
    return [round(float(x), n) for x in np.asarray(v).ravel()]


def main() -> None:
    seed_everything()
    rows, images, _ = load_export()
    if REF.exists():
        shutil.rmtree(REF)
    REF.mkdir(parents=True)
    files: list[tuple[str, bytes, str]] = []
    for pid in PRODUCT_IDS:
        buf = io.BytesIO()
        Image.fromarray(images[pid], "L").save(buf, format="PNG")
        files.append((f"catalog_{pid}.png", buf.getvalue(), "catalog image, 28x28 grayscale"))
        for fmt, ext in (("PNG", "png"), ("JPEG", "jpg")):
            data, info = photos.render_photo(images[pid], photos.photo_rng(99, pid), fmt=fmt)
            files.append((f"photo_{pid}.{ext}", data, f"rendered photo ({info['colour']}, {ext.upper()})"))
    # RGBA: product on a transparent background (composited over white by the pipeline).
    pid = PRODUCT_IDS[1]
    alpha = images[pid].astype(np.float64) / 255.0
    big = Image.fromarray(np.dstack([np.full((28, 28, 3), (30, 60, 160), np.uint8),
                                     np.rint(alpha * 255).astype(np.uint8)]), "RGBA").resize((300, 300), Image.BICUBIC)
    buf = io.BytesIO()
    big.save(buf, format="PNG")
    files.append((f"rgba_{pid}.png", buf.getvalue(), "RGBA, transparent background"))
    # A large photo (downscaling from ~2000 px).
    pid = PRODUCT_IDS[2]
    rgb = 250 - (images[pid].astype(np.float64)[..., None] / 255.0) * (250 - np.array([110, 70, 40]))
    canvas = Image.new("RGB", (2400, 1800), (250, 250, 250))
    canvas.paste(Image.fromarray(np.rint(rgb).astype(np.uint8), "RGB").resize((1500, 1500), Image.BICUBIC), (300, 200))
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    files.append((f"large_{pid}.png", buf.getvalue(), "2400x1800 RGB"))

    # A phone photo stored sideways: pixels turned a quarter, EXIF orientation 6 (turn 90 degrees
    # clockwise to view) puts the product upright again.
    pid = PRODUCT_IDS[3]
    data, _ = photos.render_photo(images[pid], photos.photo_rng(99, pid), fmt="PNG")
    with Image.open(io.BytesIO(data)) as upright:
        sideways = upright.convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    sideways.save(buf, format="JPEG", quality=90, exif=exif.tobytes())
    files.append((f"exif6_{pid}.jpg", buf.getvalue(), "JPEG stored sideways with EXIF orientation 6"))

    sess = session(MODELS / "image_embedder.onnx")
    image_refs = []
    for name, data, what in files:
        (REF / name).write_bytes(data)
        x, details = preprocess.canonical_with_details(preprocess.luma_from_pil(preprocess.decode(data)))
        emb, logits = sess.run(["embedding", "logits"], {"image": x[None, None]})
        pid = int(name.split("_")[1].split(".")[0])
        image_refs.append({"file": name, "what": what, "product_id": pid, "category": CATEGORIES[rows[pid]["label"]],
                           "preprocessing": details, "input": r(x), "embedding": r(emb[0]),
                           "logits": r(logits[0], 5), "predicted": CATEGORIES[int(logits[0].argmax())]})

    encoder, mapper = session(MODELS / "text_encoder.onnx"), session(MODELS / "text_mapper.onnx")
    tok = text_encoder.tokenizer()
    text_refs = []
    for t in TEXTS:
        ids, mask = text_encoder.tokenize(tok, [t])
        (e384,) = encoder.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})
        (e64,) = mapper.run(["embedding"], {"sentence_embedding": e384})
        text_refs.append({"text": t, "input_ids": ids[0].tolist(), "tokens": int(mask.sum()),
                          "sentence_embedding": r(e384[0]), "embedding": r(e64[0])})
    write_json(REF / "reference.json", {
        "about": __doc__.strip().splitlines()[0],
        "tolerance": {"input_abs": 1e-5, "embedding_cosine_png": 0.9999, "embedding_cosine_jpeg": 0.999},
        "preprocessing": {"trim_threshold": preprocess.TRIM_THRESHOLD, "min_contrast": preprocess.MIN_CONTRAST,
                          "light_background": preprocess.LIGHT_BACKGROUND},
        "images": image_refs, "texts": text_refs})
    log(f"reference vectors: {REF} ({len(image_refs)} images, {len(text_refs)} texts)")


if __name__ == "__main__":
    main()
