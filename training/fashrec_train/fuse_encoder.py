"""The shipped text encoder: the chosen MiniLM graph with BERT's operators fused, the same maths.

onnxruntime fuses a few patterns itself when it loads a graph (BiasGelu, the fp16 weight casts)
but not the attention block nor the residual Add + LayerNormalization; its transformer optimizer
does, offline: Attention (the Q, K and V MatMuls in one, with the softmax), SkipLayerNormalization
and BiasGelu (exact erf GELU; the approximate FastGelu is left off). One thread on an AVX2 core
spends less time per query (bench/embed.md). The fusion needs float32 weights, so the fp16
weights are widened first and narrowed back after: every weight keeps its value exactly, and the
file is refused unless its outputs match the source's within MAX_ABS_DIFF on every checked text.

    python -m fashrec_train.fuse_encoder SRC DST
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from .common import TRAINING, WORK, log, write_json

NUM_HEADS, HIDDEN = 12, 384  # all-MiniLM-L6-v2
MAX_ABS_DIFF = 1e-5
REPORT = WORK / "text" / "fusion_report.json"  # read by the manifest stage for the model card


def widen_fp16(model) -> None:
    """Cast(float16 initializer) -> float32 initializer, as onnxruntime folds it at load."""
    from onnx import numpy_helper
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    keep, widened = [], set()
    for node in g.node:
        src = inits.get(node.input[0]) if node.op_type == "Cast" else None
        if src is not None and numpy_helper.to_array(src).dtype == np.float16:
            w = numpy_helper.to_array(src).astype(np.float32)
            g.initializer.append(numpy_helper.from_array(w, node.output[0]))
            widened.add(src.name)
        else:
            keep.append(node)
    del g.node[:]
    g.node.extend(keep)
    rest = [i for i in g.initializer if i.name not in widened]
    del g.initializer[:]
    g.initializer.extend(rest)


def narrow_fp16(model) -> None:
    """The 2-D weights of MatMul and Attention back to float16 + Cast; refuses a lossy one."""
    from onnx import TensorProto, helper, numpy_helper
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    casts, narrowed = [], set()
    for node in g.node:
        name = node.input[1] if node.op_type in ("MatMul", "Attention") else None
        if name not in inits or name in narrowed:
            continue
        w = numpy_helper.to_array(inits[name])
        if w.ndim != 2 or w.size < 4096 or w.dtype != np.float32:
            continue
        half = w.astype(np.float16)
        if not np.array_equal(half.astype(np.float32), w):
            raise SystemExit(f"{name}: a weight is not a float16 value, the fusion changed it")
        g.initializer.append(numpy_helper.from_array(half, name + "_fp16"))
        casts.append(helper.make_node("Cast", [name + "_fp16"], [name], name=name + "_cast", to=TensorProto.FLOAT))
        narrowed.add(name)
    rest = [i for i in g.initializer if i.name not in narrowed]
    del g.initializer[:]
    g.initializer.extend(rest)
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)


def fuse(src: Path, dst: Path) -> dict:
    """Writes the fused graph of `src` to `dst`; its check against `src` goes to REPORT."""
    import onnx
    from onnxruntime.transformers.fusion_options import AttentionMaskFormat, FusionOptions
    from onnxruntime.transformers.onnx_model_bert import BertOnnxModel

    model = onnx.load(str(src))
    widen_fp16(model)
    options = FusionOptions("bert")
    # The word embeddings are int8 rows dequantised after their Gather: not the pattern
    # EmbedLayerNormalization expects.
    options.enable_embed_layer_norm = False
    # The 0/1 mask as given, not a length per row: exact for any mask, not only right padding.
    options.attention_mask_format = AttentionMaskFormat.AttentionMask
    bert = BertOnnxModel(model, NUM_HEADS, HIDDEN)
    bert.optimize(options)
    fused = bert.get_fused_operator_statistics()
    if fused.get("Attention") != 6 or fused.get("SkipLayerNormalization", 0) < 11:
        raise SystemExit(f"the fusion did not find MiniLM's six layers: {fused}")
    narrow_fp16(bert.model)
    tmp = Path(str(dst) + ".tmp")
    bert.save_model_to_file(str(tmp))  # sorted, with the com.microsoft opset the fused ops need
    onnx.checker.check_model(str(tmp))
    report = {"fused": {k: v for k, v in fused.items() if v}, **compare(src, tmp)}
    if report["max_abs_diff"] > MAX_ABS_DIFF:
        tmp.unlink()
        raise SystemExit(f"the fused encoder differs from {src.name}: {report}")
    tmp.replace(dst)
    write_json(REPORT, report)
    return report


def check_texts() -> list[str]:
    """The shopper queries (both sets) and edge cases: empty, one letter, truncated at 256 tokens."""
    texts = [json.loads(line)["query"] for name in ("queries.jsonl", "attribute_queries.jsonl")
             for line in (TRAINING / name).open()]
    return texts + ["", "a", "x" * 3000, " ".join(["boots"] * 400)]


def compare(a: Path, b: Path) -> dict:
    """Largest difference of the two graphs' outputs, one text at a time and in padded batches."""
    import onnxruntime as ort
    from .tokens import tokenize, tokenizer

    tok = tokenizer()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sa, sb = (ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"]) for p in (a, b))
    texts = check_texts()
    worst, cos = 0.0, 1.0
    batches = [[t] for t in texts] + [texts[s:s + 64] for s in range(0, len(texts), 64)]
    for batch in batches:
        ids, mask = tokenize(tok, batch)
        feed = {"input_ids": ids, "attention_mask": mask}
        ea, eb = sa.run(None, feed)[0], sb.run(None, feed)[0]
        worst = max(worst, float(np.abs(ea - eb).max()))
        cos = min(cos, float((ea * eb).sum(1).min()))
    return {"texts_checked": len(texts), "max_abs_diff": worst, "min_cosine": cos}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    args = ap.parse_args()
    log("fused encoder: " + json.dumps(fuse(args.src, args.dst)))


if __name__ == "__main__":
    main()
