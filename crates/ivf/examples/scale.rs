//! Scale: 1,000,000 random 64-d vectors from 1,000 gaussian clusters (L2). Build time, index
//! size, then recall@10 and single-threaded queries per second for a sweep of probes, on 1,000
//! held-out queries from the same distribution.
//!
//! Data: cluster centres ~ N(0, 1) per dimension, points = centre + N(0, 1) per dimension,
//! generated from a fixed seed (SplitMix64 + Box-Muller), so every run sees the same vectors.
//!
//!     cargo run --release -p fashrec-ivf --example scale -- [--rows 1000000] [--lists 1000]
//!         [--probes 1,2,4,8,16,32] [--queries 1000] [--dump DIR]
//!
//! With --dump, base.f32, queries.f32 (little-endian f32 rows) and gt.i32 are written to DIR
//! for bench/ivf/faiss_ivfflat.py --data DIR.

mod common;

use std::sync::Arc;
use std::time::Instant;

use common::{search_recall, seconds, tid, timed_ground_truth, Args, Gauss, Vectors};
use fashrec_ivf::{build, inspect, BuildOptions, BuildProgress, MemoryRelation, Metric, Searcher};

/// Spread of the cluster centres, in units of the clusters' own spread: at 1.0 clusters overlap,
/// so neighbours often lie in other lists, as with real embeddings.
const CENTRE_SCALE: f64 = 1.0;

/// `n` points around `centres`, cluster chosen uniformly per point.
fn points(n: usize, dims: usize, centres: &[f32], rng: &mut Gauss) -> Vectors {
    let clusters = centres.len() / dims;
    let mut data = Vec::with_capacity(n * dims);
    for _ in 0..n {
        let c = (rng.next_u64() % clusters as u64) as usize;
        for d in 0..dims {
            data.push(centres[c * dims + d] + rng.normal() as f32);
        }
    }
    Vectors { dims, data }
}

fn write_f32(path: &str, data: &[f32]) {
    let bytes: Vec<u8> = data.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
}

fn main() {
    let args = Args::parse();
    let rows: usize = args.get("rows", 1_000_000);
    let lists: u32 = args.get("lists", 1000);
    let probes = args.list("probes", "1,2,4,8,16,32");
    let query_count: usize = args.get("queries", 1000);
    let dims = 64;
    let clusters = 1000;
    let k = 10;

    let mut rng = Gauss(42);
    let centres: Vec<f32> = (0..clusters * dims)
        .map(|_| (CENTRE_SCALE * rng.normal()) as f32)
        .collect();
    let base = points(rows, dims, &centres, &mut rng);
    let queries = points(query_count, dims, &centres, &mut rng);
    println!(
        "data: {} base, {} queries, {} dims, {} clusters",
        base.len(),
        queries.len(),
        dims,
        clusters
    );

    let truth = timed_ground_truth(&base, &queries, k);
    if let Some(dir) = args.text("dump") {
        std::fs::create_dir_all(dir).expect("dump dir");
        write_f32(&format!("{dir}/base.f32"), &base.data);
        write_f32(&format!("{dir}/queries.f32"), &queries.data);
        common::write_ground_truth(&format!("{dir}/gt.i32"), &truth, k);
    }

    let rel = MemoryRelation::new();
    let options = BuildOptions {
        lists,
        metric: Metric::L2,
        ..BuildOptions::default()
    };
    let threads = options.threads;
    let start = Instant::now();
    let build_cpu = common::process_cpu_seconds();
    // When k-means ends and loading starts: the first Loading event comes at the end, so the
    // last k-means event marks it.
    let mut kmeans_end = start.elapsed();
    let report = build(
        &rel,
        dims,
        options,
        || (0..base.len()).map(|i| (tid(i), base.row(i))),
        &mut |event| {
            if let BuildProgress::KMeans { .. } = event {
                kmeans_end = start.elapsed();
            }
        },
    )
    .expect("build");
    let build_seconds = seconds(start);
    let build_cpu = common::process_cpu_seconds() - build_cpu;
    let info = inspect(&rel).expect("inspect");
    println!(
        "build: {:.1} s wall ({:.1} s sampling + k-means, {:.1} s loading), {:.1} s CPU with {} \
         threads ({} samples, {} k-means iterations), {} blocks = {:.1} MiB (raw vectors {:.1} MiB), \
         imbalance {:.2}, cv {:.2}",
        build_seconds,
        kmeans_end.as_secs_f64(),
        build_seconds - kmeans_end.as_secs_f64(),
        build_cpu,
        threads,
        report.samples,
        report.iterations,
        report.blocks,
        rel.size_bytes() as f64 / (1 << 20) as f64,
        (rows * dims * 4) as f64 / (1 << 20) as f64,
        info.imbalance,
        info.coefficient_of_variation
    );

    let searcher = Arc::new(Searcher::open(&rel).expect("open"));
    println!("\n| probes | recall@10 | QPS wall | QPS CPU |");
    println!("|---:|---:|---:|---:|");
    for &p in &probes {
        let (recall, wall, cpu) = search_recall(&searcher, &rel, &queries, &truth, k, p);
        let n = truth.len() as f64;
        println!(
            "| {} | {:.4} | {:.1} | {:.1} |",
            p,
            recall,
            n / wall,
            n / cpu
        );
    }
}
