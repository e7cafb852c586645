//! The crate's streaming `Scan` (the access method's amgettuple path) on vectors written by
//! bench/sql/sidebyside.py, so that the SQL figures of that script have the crate's own beside
//! them: the same rows, the same lists, the same queries, 10 rows pulled per query, one thread.
//!
//!     cargo run --release -p fashrec-ivf --example sidebyside_scan -- --dims 784 \
//!         --base base.f32 --queries queries.f32 --gt truth.i32 [--lists 245] \
//!         [--probes 1,2,4,8,16] [--seconds 3] [--rounds 3]
//!
//! Files: raw little-endian f32 rows of `dims` (row i of the base is the table's id i); the
//! ground truth is little-endian i32 rows of 10 base ids per query. Prints one line per probes:
//! `scan probes=P recall=R qps=Q,Q,.. cpu_qps=C,C,..`, a QPS per round by wall clock and by
//! this thread's on-CPU time. Rounds alternate the probes settings, as the SQL side does.

mod common;

use std::sync::Arc;
use std::time::Instant;

use common::{first_rows, recall_at, seconds, tid, Args, Timer, Vectors};
use fashrec_ivf::{build, BuildOptions, MemoryRelation, Metric, Scan, ScanOptions, Searcher};

const K: usize = 10;

fn main() {
    let args = Args::parse();
    let dims: usize = args.get("dims", 0);
    let lists: u32 = args.get("lists", 245);
    let probes = args.list("probes", "1,2,4,8,16");
    let round_seconds: f64 = args.get("seconds", 3.0);
    let rounds: usize = args.get("rounds", 3);
    let file = |name: &str| {
        args.text(name)
            .unwrap_or_else(|| panic!("--{name} FILE is required"))
            .to_string()
    };
    let base = read_vectors(&file("base"), dims);
    let queries = read_vectors(&file("queries"), dims);
    let truth = common::read_ground_truth(&file("gt"), queries.len(), K)
        .unwrap_or_else(|| panic!("--gt must hold {} rows of {K} ids", queries.len()));

    let rel = MemoryRelation::new();
    let options = BuildOptions {
        lists,
        metric: Metric::L2,
        ..BuildOptions::default()
    };
    let start = Instant::now();
    build(
        &rel,
        dims,
        options,
        || (0..base.len()).map(|i| (tid(i), base.row(i))),
        &mut |_| {},
    )
    .expect("build");
    println!(
        "build rows={} dims={dims} lists={lists} seconds={:.2} kernel={}",
        base.len(),
        seconds(start),
        fashrec_distance::active_kernel()
    );
    // Opened once, as the extension caches it per index.
    let searcher = Arc::new(Searcher::open(&rel).expect("open"));
    let nearest = |qi: usize, p: u32| -> Vec<usize> {
        let mut scan = Scan::with_searcher(searcher.clone(), queries.row(qi), ScanOptions::new(p))
            .expect("scan");
        first_rows(&mut scan, &rel, K)
    };

    // One pass over every query for recall (it also warms the caches), then timed rounds.
    let recall: Vec<f64> = probes
        .iter()
        .map(|&p| {
            let total: f64 = (0..queries.len())
                .map(|qi| recall_at(&nearest(qi, p), &truth[qi], K))
                .sum();
            total / queries.len() as f64
        })
        .collect();
    let mut wall_qps = vec![Vec::new(); probes.len()];
    let mut cpu_qps = vec![Vec::new(); probes.len()];
    for _ in 0..rounds {
        for (i, &p) in probes.iter().enumerate() {
            // The clock is read per query, the on-CPU time (a /proc read) only per round.
            let (timer, start) = (Timer::start(), Instant::now());
            let mut done = 0usize;
            while done == 0 || seconds(start) < round_seconds {
                std::hint::black_box(nearest(done % queries.len(), p));
                done += 1;
            }
            let (wall, cpu) = timer.stop();
            wall_qps[i].push(done as f64 / wall);
            cpu_qps[i].push(done as f64 / cpu);
        }
    }
    let join = |v: &[f64]| {
        v.iter()
            .map(|q| format!("{q:.1}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    for (i, &p) in probes.iter().enumerate() {
        println!(
            "scan probes={p} recall={:.4} qps={} cpu_qps={}",
            recall[i],
            join(&wall_qps[i]),
            join(&cpu_qps[i])
        );
    }
}

/// Raw little-endian f32 rows of `dims`.
fn read_vectors(path: &str, dims: usize) -> Vectors {
    assert!(dims > 0, "--dims is required");
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(
        bytes.len().is_multiple_of(dims * 4),
        "{path}: not rows of {dims} f32"
    );
    let data = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Vectors { dims, data }
}
