#!/usr/bin/env python3
"""FAISS IndexIVFFlat on Fashion-MNIST, single-threaded, for comparison with fashrec-ivf.

Same data as crates/ivf/examples/fmnist.rs (raw pixels 0..255 as float32, 60,000 base,
10,000 queries, L2), same lists, same probes. Prints a markdown table of recall@10 and
queries per second (wall clock, and on-CPU time of the thread). With --gt, recall is measured against the ground truth the Rust benchmark
wrote (little-endian int32, 10 per query), so both are scored against the same answers.

    /tmp/venv-faiss/bin/python bench/ivf/faiss_ivfflat.py --lists 245 --probes 1,4,8 [--gt FILE]
"""

import argparse
import gzip
import time

import faiss
import numpy as np

FMNIST_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count, rows, cols = np.frombuffer(data[:16], dtype=">u4")
    assert magic == 2051, f"{path}: not an idx3 image file"
    pixels = np.frombuffer(data[16:], dtype=np.uint8, count=count * rows * cols)
    return pixels.reshape(count, rows * cols).astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lists", type=int, default=245)
    parser.add_argument("--probes", default="1,2,4,6,8,12,16,32")
    parser.add_argument("--gt", help="ground truth file written by the Rust benchmark")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--data", help="directory from crates/ivf/examples/scale.rs --dump "
                        "(base.f32, queries.f32, gt.i32) instead of Fashion-MNIST")
    parser.add_argument("--dims", type=int, default=64, help="dimensions of --data")
    args = parser.parse_args()

    faiss.omp_set_num_threads(1)
    if args.data:
        xb = np.fromfile(f"{args.data}/base.f32", dtype="<f4").reshape(-1, args.dims)
        xq = np.fromfile(f"{args.data}/queries.f32", dtype="<f4").reshape(-1, args.dims)
        args.gt = args.gt or f"{args.data}/gt.i32"
    else:
        xb = read_idx_images(f"{FMNIST_DIR}/train-images-idx3-ubyte.gz")
        xq = read_idx_images(f"{FMNIST_DIR}/t10k-images-idx3-ubyte.gz")
    d, k = xb.shape[1], args.k
    print(f"faiss {faiss.__version__}, {xb.shape[0]} base, {xq.shape[0]} queries, {d} dims, 1 thread")
    xb, xq = np.ascontiguousarray(xb), np.ascontiguousarray(xq)

    if args.gt:
        gt = np.fromfile(args.gt, dtype="<i4").reshape(xq.shape[0], k)
    else:
        flat = faiss.IndexFlatL2(d)
        flat.add(xb)
        _, gt = flat.search(xq, k)

    start, cpu = time.perf_counter(), time.thread_time()
    quantizer = faiss.IndexFlatL2(d)
    index = faiss.IndexIVFFlat(quantizer, d, args.lists, faiss.METRIC_L2)
    index.train(xb)
    index.add(xb)
    build, cpu = time.perf_counter() - start, time.thread_time() - cpu
    sizes = np.array([index.invlists.list_size(i) for i in range(args.lists)])
    print(f"build: {build:.1f} s wall, {cpu:.1f} s CPU, {args.lists} lists, "
          f"imbalance {sizes.max() / sizes.mean():.2f}")

    print("\n| method | probes | recall@10 | QPS wall | QPS CPU | vectors scanned / query |")
    print("|---|---:|---:|---:|---:|---:|")
    n = xq.shape[0]
    for p in [int(x) for x in args.probes.split(",")]:
        index.nprobe = p
        faiss.cvar.indexIVF_stats.reset()
        wall, cpu = time.perf_counter(), time.thread_time()
        _, found = index.search(xq, k)  # one batch call: FAISS's fastest way
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        scanned = faiss.cvar.indexIVF_stats.ndis / n
        hits = sum(len(set(found[i]) & set(gt[i])) for i in range(n))
        print(f"| faiss IndexIVFFlat | {p} | {hits / gt.size:.4f} | {n / wall:.1f} | {n / cpu:.1f} | {scanned:.0f} |")


if __name__ == "__main__":
    main()
