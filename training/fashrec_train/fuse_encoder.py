"""The float32 MiniLM graph with BERT's operators fused, the same maths: what text_encoder quantises.

onnxruntime fuses a few patterns itself when it loads a graph (BiasGelu) but not the attention
block nor the residual Add + LayerNormalization; its transformer optimizer does, offline:
EmbedLayerNormalization, Attention (the Q, K and V MatMuls in one, with the softmax),
SkipLayerNormalization and BiasGelu (exact erf GELU; the approximate FastGelu is left off).
The dynamic quantiser then turns Attention into QAttention, which a MatMul-by-MatMul graph cannot
become. The file is refused unless its outputs match the source's within MAX_ABS_DIFF on every
checked text.

    python -m fashrec_train.fuse_encoder SRC DST [--layers N]
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


def fuse(src: Path, dst: Path, layers: int) -> dict:
    """Writes the fused graph of `src` to `dst`; its check against `src` goes to REPORT."""
    import onnx
    from onnxruntime.transformers.fusion_options import AttentionMaskFormat, FusionOptions
    from onnxruntime.transformers.onnx_model_bert import BertOnnxModel

    model = onnx.load(str(src))
    options = FusionOptions("bert")
    # The 0/1 mask as given, not a length per row: exact for any mask, not only right padding.
    options.attention_mask_format = AttentionMaskFormat.AttentionMask
    bert = BertOnnxModel(model, NUM_HEADS, HIDDEN)
    bert.optimize(options)
    fused = bert.get_fused_operator_statistics()
    if fused.get("Attention") != layers or fused.get("SkipLayerNormalization", 0) < 2 * layers - 1:
        raise SystemExit(f"the fusion did not find the encoder's {layers} layers: {fused}")
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
    ap.add_argument("--layers", type=int, default=6, help="transformer layers in SRC")
    args = ap.parse_args()
    log("fused encoder: " + json.dumps(fuse(args.src, args.dst, args.layers)))


if __name__ == "__main__":
    main()
