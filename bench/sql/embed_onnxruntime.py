"""The Python side of bench/sql/embed_speed.py: the image model run by Python onnxruntime with the
reference preprocessing (training/fashrec_train/preprocess.py) on the same encoded images the SQL
side embedded. Runs under training/.venv (onnxruntime, numpy, Pillow), which embed_speed.py's own
environment need not have.

    training/.venv/bin/python bench/sql/embed_onnxruntime.py IMAGES_FILE [--batch 64] [--threads 1]

IMAGES_FILE: encoded images, each a 4-byte little-endian length and then that many bytes.
Prints one JSON object: images, seconds, images_per_second, and the time split between
preprocessing and the model.
"""
import argparse
import json
import pathlib
import struct
import sys
import time

import numpy as np
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))
from fashrec_train.preprocess import canonical_from_bytes  # noqa: E402


def read_images(path):
    data = pathlib.Path(path).read_bytes()
    images, at = [], 0
    while at < len(data):
        (n,) = struct.unpack_from("<I", data, at)
        images.append(data[at + 4:at + 4 + n])
        at += 4 + n
    return images


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images")
    parser.add_argument("--batch", type=int, default=64, help="images per model run (the extension runs 64)")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads (fashrec.model_threads)")
    args = parser.parse_args()

    images = read_images(args.images)
    manifest = json.loads((ROOT / "models/manifest.json").read_text())
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(str(ROOT / "models" / manifest["image"]["file"]), opts,
                                   providers=["CPUExecutionProvider"])
    name = manifest["image"]["input"]
    outputs = [manifest["image"]["embedding_output"], manifest["image"]["logits_output"]]
    # One warm-up run, as the SQL side is measured in a backend that has loaded its models.
    session.run(outputs, {name: np.stack([canonical_from_bytes(images[0])])[:, None]})

    prep = model = 0.0
    start = time.perf_counter()
    for i in range(0, len(images), args.batch):
        t0 = time.perf_counter()
        batch = np.stack([canonical_from_bytes(b) for b in images[i:i + args.batch]])[:, None]
        t1 = time.perf_counter()
        session.run(outputs, {name: batch})
        prep, model = prep + t1 - t0, model + time.perf_counter() - t1
    seconds = time.perf_counter() - start
    print(json.dumps({"images": len(images), "seconds": seconds, "images_per_second": len(images) / seconds,
                      "preprocess_seconds": prep, "model_seconds": model, "onnxruntime": ort.__version__}))


if __name__ == "__main__":
    main()
