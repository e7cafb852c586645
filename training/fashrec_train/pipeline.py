"""Run every stage in order, recording wall times in training/results/timings.json.

Each stage is resumable or cached (image training resumes from its last epoch checkpoint; the
MiniLM export, text encodings and mappers are cached under training/work and checkpoints), so a
rerun after an interruption continues where it stopped.

    python -m fashrec_train.pipeline [--from STAGE] [--only STAGE]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time

from .common import RESULTS, THREADS, log, write_json

STAGES = ["train_image", "export_image", "compare_backbones", "text_encoder", "train_text", "train_words",
          "train_product_words", "evaluate", "reference", "manifest"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="start", choices=STAGES, default=STAGES[0])
    ap.add_argument("--only", choices=STAGES)
    args = ap.parse_args()
    stages = [args.only] if args.only else STAGES[STAGES.index(args.start):]
    path = RESULTS / "timings.json"
    timings = json.loads(path.read_text()) if path.exists() else {}
    timings.setdefault("stages", {})
    timings["machine"] = {"cpus": os.cpu_count(), "torch_threads": THREADS, "python": platform.python_version(),
                          "note": "2 cores shared with Rust builds and benchmarks of other work"}
    for name in stages:
        log(f"=== stage {name} ===")
        t = time.time()
        sys.argv = [f"fashrec_train.{name}"]  # stages run with their defaults
        importlib.import_module(f"fashrec_train.{name}").main()
        timings["stages"][name] = {"seconds": round(time.time() - t, 1), "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
        write_json(path, timings)
    log("all stages done")


if __name__ == "__main__":
    main()
