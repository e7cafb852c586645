"""Writes the preprocessing fixtures of crates/embed: a few images and the 28x28 model input that
the Python reference (training/fashrec_train/preprocess.py) makes of each, so the Rust
implementation is checked against it. Run from the repository root with the training venv:
    training/.venv/bin/python crates/embed/tests/data/make_preprocess_fixtures.py"""
import gzip
import io
import json
import pathlib
import sys

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "training"))
from fashrec_train.photos import render_photo  # noqa: E402
from fashrec_train.preprocess import canonical_from_bytes  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)

fixtures = {}
rng = np.random.default_rng(11)
for k in (0, 1, 17):
    jpeg, _ = render_photo(images[k], rng)
    name = f"photo{k}.jpg"
    (HERE / name).write_bytes(jpeg)
    fixtures[name] = canonical_from_bytes(jpeg).ravel().tolist()

# A catalog image (Fashion-MNIST polarity) as PNG, and an RGBA cut-out on transparency.
buf = io.BytesIO()
Image.fromarray(images[5], "L").save(buf, format="PNG")
(HERE / "catalog5.png").write_bytes(buf.getvalue())
fixtures["catalog5.png"] = canonical_from_bytes(buf.getvalue()).ravel().tolist()

rgba = np.zeros((60, 90, 4), dtype=np.uint8)
rgba[10:50, 20:70] = (40, 90, 200, 255)
rgba[20:40, 30:60, 3] = 128
buf = io.BytesIO()
Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
(HERE / "cutout.png").write_bytes(buf.getvalue())
fixtures["cutout.png"] = canonical_from_bytes(buf.getvalue()).ravel().tolist()

(HERE / "preprocess_expected.json").write_text(json.dumps(fixtures))
