"""Export the trained image model to ONNX and embed the whole catalog with the ONNX graph.

models/image_embedder.onnx: input `image` float32 [batch, 1, 28, 28] (the manifest preprocessing),
outputs `embedding` float32 [batch, 64] (L2-normalised) and `logits` float32 [batch, 10], both
averaged over the image and its mirror image (see image_model.ExportWrapper).
The 70,000 catalog embeddings computed by onnxruntime are what the mapper trains against and the
evaluation searches.

    python -m fashrec_train.export_image
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .common import MODELS, WORK, canonical_images, log, seed_everything
from .image_model import ExportWrapper, ImageEmbedder
from .train_image import CKPT_DIR

ONNX_PATH = MODELS / "image_embedder.onnx"
CATALOG_EMBEDDINGS = WORK / "image" / "catalog_embeddings.npy"
CATALOG_LOGITS = WORK / "image" / "catalog_logits.npy"


def session(path: Path, threads: int = 2):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run_image_model(sess, x: np.ndarray, batch: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """x (N, 28, 28) float32 canonical images -> embeddings (N, 64), logits (N, 10)."""
    es, ls = [], []
    for s in range(0, len(x), batch):
        e, l = sess.run(["embedding", "logits"], {"image": x[s:s + batch, None].astype(np.float32)})
        es.append(e)
        ls.append(l)
    return np.concatenate(es), np.concatenate(ls)


def main() -> None:
    seed_everything()
    state = torch.load(CKPT_DIR / "final.pt", weights_only=False)
    model = ImageEmbedder()
    model.load_state_dict(state["model"])
    model.eval()
    wrapper = ExportWrapper(model).eval()
    canon, _, _ = canonical_images()
    probe = torch.from_numpy(canon[:64, None])
    MODELS.mkdir(parents=True, exist_ok=True)
    tmp = Path(str(ONNX_PATH) + ".tmp")
    torch.onnx.export(wrapper, (probe[:2],), str(tmp), input_names=["image"],
                      output_names=["embedding", "logits"],
                      dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=17, do_constant_folding=True, dynamo=False)
    tmp.replace(ONNX_PATH)
    sess = session(ONNX_PATH)
    with torch.no_grad():
        te, tl = wrapper(probe)
    oe, ol = run_image_model(sess, canon[:64])
    diff = max(np.abs(oe - te.numpy()).max(), np.abs(ol - tl.numpy()).max())
    log(f"exported {ONNX_PATH} ({ONNX_PATH.stat().st_size} bytes); max |onnx - torch| = {diff:.2e}")
    if diff > 1e-4:
        raise SystemExit("the ONNX image model disagrees with PyTorch")
    log("embedding the 70,000 catalog images with onnxruntime")
    emb, logits = run_image_model(sess, canon)
    CATALOG_EMBEDDINGS.parent.mkdir(parents=True, exist_ok=True)
    np.save(CATALOG_EMBEDDINGS, emb)
    np.save(CATALOG_LOGITS, logits)


if __name__ == "__main__":
    main()
