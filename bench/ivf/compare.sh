#!/usr/bin/env bash
# fashrec-ivf beside FAISS IndexIVFFlat on Fashion-MNIST: same data (raw pixels as float32,
# 60,000 base, 10,000 queries, L2), same lists, same probes, one thread each, same ground truth.
# Runs the pair ROUNDS times, alternating, because the machine is shared and noisy, then prints
# the median of each figure and the ratio.
#
#   bench/ivf/compare.sh [LISTS] [PROBES] [ROUNDS]      defaults: 245 1,2,4,5,6,8,16,32 3
#
# Needs: the Debian package dataset-fashion-mnist, and a venv with faiss-cpu and numpy:
#   python3 -m venv /tmp/venv-faiss && /tmp/venv-faiss/bin/pip install faiss-cpu numpy
set -euo pipefail
cd "$(dirname "$0")/../.."

LISTS=${1:-245}
PROBES=${2:-1,2,4,5,6,8,16,32}
ROUNDS=${3:-3}
PYTHON=${PYTHON:-/tmp/venv-faiss/bin/python}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/target-ivf}
OUT=$(mktemp -d)
GT=$OUT/fmnist-gt.i32

cargo build --release -q -p fashrec-ivf --example fmnist
BIN=$CARGO_TARGET_DIR/release/examples/fmnist

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
    nice -n 10 "$BIN" --lists "$LISTS" --probes "$PROBES" --gt "$GT" --exact-queries 200 \
        --build-threads 1 | tee "$OUT/rust-$round.txt" | grep -E '^(data|build|ground)' || true
    nice -n 10 "$PYTHON" bench/ivf/faiss_ivfflat.py --lists "$LISTS" --probes "$PROBES" --gt "$GT" \
        | tee "$OUT/faiss-$round.txt" | grep -E '^(faiss|build)' || true
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$PYTHON" - "$OUT" "$ROUNDS" <<'PY'
import statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rows = {}  # (method, probes) -> list of (recall, qps_wall, qps_cpu)
for who in ("rust", "faiss"):
    for r in range(1, rounds + 1):
        for line in open(f"{out}/{who}-{r}.txt"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 5 and cells[0].startswith("exact scan"):
                cells[0], cells[1] = "exact scan", "0"
            if len(cells) < 5 or not cells[1].isdigit():
                continue
            rows.setdefault((cells[0], int(cells[1])), []).append(tuple(map(float, cells[2:5])))
med = {key: tuple(statistics.median(v[i] for v in vals) for i in range(3)) for key, vals in rows.items()}
ours, theirs = "ivf search (top-k heap)", "faiss IndexIVFFlat"
stream = "ivf stream (amgettuple path)"
print(f"\nmedian of {rounds} rounds; QPS = queries per second of one thread (CPU: on-CPU time)\n")
print("| probes | fashrec recall@10 | FAISS recall@10 | fashrec QPS CPU | FAISS QPS CPU | ratio CPU "
      "| fashrec QPS wall | FAISS QPS wall | ratio wall | fashrec stream QPS CPU |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for probes in sorted({p for (_, p) in med if p > 0}):
    a, b, s = med.get((ours, probes)), med.get((theirs, probes)), med.get((stream, probes))
    if not a or not b:
        continue
    print(f"| {probes} | {a[0]:.4f} | {b[0]:.4f} | {a[2]:.0f} | {b[2]:.0f} | {a[2] / b[2]:.2f}x "
          f"| {a[1]:.0f} | {b[1]:.0f} | {a[1] / b[1]:.2f}x | {s[2] if s else float('nan'):.0f} |")
exact = med.get(("exact scan", 0))
if exact:
    print(f"\nexact scan (brute force, one query at a time): {exact[2]:.1f} QPS CPU, {exact[1]:.1f} QPS wall")
PY
rm -rf "$OUT"
