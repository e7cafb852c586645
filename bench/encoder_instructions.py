"""Instructions per query of text encoder files on onnxruntime's AVX2 kernels, counted by callgrind.

    python3 bench/encoder_instructions.py OLD.onnx NEW.onnx [--queries 40]

valgrind reports a CPU without AVX-512 to the program it runs, so onnxruntime picks its AVX2
kernels even on an AVX-512 machine: this counts what an AVX2-only machine executes, though not its
time (memory traffic is not in the count). Each file runs twice under callgrind, one text and
1 + --queries texts of training/attribute_queries.jsonl, one at a time on one thread; the
difference divided by --queries is the count per query. Needs valgrind, onnxruntime, tokenizers
and numpy (training/.venv has the Python ones). About a minute per file and run.
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_queries(path: str, n: int) -> None:
    import numpy as np
    from encoder_speed import session  # beside this file: the same one-thread session
    from tokenizers import Tokenizer
    sess = session(path)
    tok = Tokenizer.from_file(str(ROOT / "models/tokenizer.json"))
    texts = [json.loads(line)["query"] for line in (ROOT / "training/attribute_queries.jsonl").open()][:n]
    for text in texts:
        ids = np.array([tok.encode(text).ids], np.int64)
        sess.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})


def instructions(path: pathlib.Path, n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__,
                        "--run", str(path), str(n)], check=True, capture_output=True)
        return int(re.search(r"^summary: (\d+)", out.read_text(), re.M).group(1))


def main() -> None:
    if sys.argv[1:2] == ["--run"]:
        return run_queries(sys.argv[2], int(sys.argv[3]))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", type=pathlib.Path)
    ap.add_argument("--queries", type=int, default=40)
    args = ap.parse_args()
    first = None
    for path in args.files:
        per_query = (instructions(path, 1 + args.queries) - instructions(path, 1)) / args.queries
        first = first or per_query
        print(f"{path}: {per_query / 1e6:.2f} million instructions per query on the AVX2 kernels, "
              f"{per_query / first:.2f}x the first file", flush=True)


if __name__ == "__main__":
    main()
