"""One query at a time through text encoder files, one onnxruntime thread, alternated query by
query so that every file runs under the same load. Prints p50/p99 per file, the median of the
per-query ratios to the first file, the largest output difference to it, and the load average.

    python3 bench/encoder_speed.py OLD.onnx NEW.onnx [--rounds 3]

Needs onnxruntime, tokenizers and numpy (training/.venv has them). The queries are the held-out
attribute queries (training/attribute_queries.jsonl), tokenized with models/tokenizer.json.
"""
import argparse
import json
import os
import pathlib
import time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parents[1]


def session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", type=pathlib.Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--texts", type=int, default=200)
    args = ap.parse_args()
    tok = Tokenizer.from_file(str(ROOT / "models/tokenizer.json"))
    texts = [json.loads(line)["query"] for line in (ROOT / "training/attribute_queries.jsonl").open()]
    texts = list(dict.fromkeys(texts))[:args.texts]
    feeds = []
    for text in texts:
        ids = np.array([tok.encode(text).ids], np.int64)
        feeds.append({"input_ids": ids, "attention_mask": np.ones_like(ids)})
    sessions = [session(p) for p in args.files]
    print(f"{len(texts)} texts, median {np.median([f['input_ids'].shape[1] for f in feeds]):.0f} tokens; "
          f"AVX-512: {'avx512f' in pathlib.Path('/proc/cpuinfo').read_text()}; load before {os.getloadavg()}")
    diff = [0.0] * len(sessions)
    times = [[] for _ in sessions]
    for r in range(args.rounds):
        for feed in feeds:
            order = list(range(len(sessions)))
            if r % 2:
                order.reverse()
            outputs = {}
            for i in order:
                began = time.perf_counter()
                outputs[i] = sessions[i].run(None, feed)[0]
                times[i].append(time.perf_counter() - began)
            for i in order:
                diff[i] = max(diff[i], float(np.abs(outputs[i] - outputs[0]).max()))
    first = np.array(times[0])
    for path, t, d in zip(args.files, times, diff):
        ms = np.array(t) * 1e3
        print(f"{path}: p50 {np.median(ms):.2f} ms, p99 {np.percentile(ms, 99):.2f} ms, "
              f"per-query ratio to the first {np.median(np.array(t) / first):.3f}, max abs diff {d:.1e}")
    print(f"load after {os.getloadavg()}")


if __name__ == "__main__":
    main()
