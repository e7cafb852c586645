"""Paths, seeds, the catalog export and the cached canonical images shared by every stage."""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import numpy as np

TRAINING = Path(__file__).resolve().parent.parent
REPO = TRAINING.parent
MODELS = Path(os.environ.get("FASHREC_MODELS", REPO / "models"))
RESULTS = Path(os.environ.get("FASHREC_RESULTS", TRAINING / "results"))
WORK = Path(os.environ.get("FASHREC_WORK", TRAINING / "work"))
CHECKPOINTS = Path(os.environ.get("FASHREC_CHECKPOINTS", TRAINING / "checkpoints"))
EXPORT = Path(os.environ.get("FASHREC_EXPORT", WORK / "catalog"))

SEED = 20250501
THREADS = int(os.environ.get("FASHREC_THREADS", "2"))

CATEGORIES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
N_TRAIN, N_TEST = 60000, 10000


def seed_everything(seed: int = SEED) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    try:
        import torch
        torch.manual_seed(seed)
        torch.set_num_threads(THREADS)
    except ImportError:
        pass


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def load_export() -> tuple[list[dict], np.ndarray, dict]:
    """The catalog exactly as `fashrec export` wrote it: rows, images (N, 28, 28) uint8, meta."""
    meta_path = EXPORT / "export.json"
    if not meta_path.exists():
        raise SystemExit(f"no complete catalog export in {EXPORT} (run `fashrec export --out {EXPORT}`)")
    meta = json.loads(meta_path.read_text())
    rows = [json.loads(line) for line in (EXPORT / meta["catalog_file"]).open()]
    images = np.fromfile(EXPORT / meta["images_file"], np.uint8).reshape(meta["images_shape"])
    if len(rows) != len(images):
        raise SystemExit("catalog.jsonl and images.u8 disagree on the number of products")
    if meta["categories"] != CATEGORIES:
        raise SystemExit(f"unexpected category order in export.json: {meta['categories']}")
    ids = np.array([r["id"] for r in rows])
    if not (ids == np.arange(len(rows))).all() or len(rows) != N_TRAIN + N_TEST:
        raise SystemExit("expected the full catalog: ids 0..69999 in order")
    return rows, images, meta


def canonical_images() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All 70,000 images through the manifest preprocessing (cached), labels, split mask."""
    from . import preprocess
    rows, images, meta = load_export()
    labels = np.array([r["label"] for r in rows], dtype=np.int64)
    is_train = np.array([r["split"] == "train" for r in rows])
    cache = WORK / f"canonical_t{preprocess.TRIM_THRESHOLD:.2f}_seed{meta['seed']}.npy"
    if cache.exists():
        canon = np.load(cache)
    else:
        log("preprocessing the 70,000 catalog images (manifest pipeline)")
        canon = preprocess.canonical_batch_u8(images)
        WORK.mkdir(parents=True, exist_ok=True)
        np.save(cache, canon)
    return canon, labels, is_train


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    tmp.replace(path)
