//! Fashion-MNIST (60,000 base, 10,000 queries, 784-d raw pixels, L2): build, then recall@10
//! and single-threaded queries per second for a sweep of probes, beside the exact scan.
//!
//!     cargo run --release -p fashrec-ivf --example fmnist -- \
//!         [--lists 245] [--probes 1,2,4,8,16,32] [--build-threads N] [--gt FILE]
//!         [--queries 10000] [--exact-queries 300] [--stream 1] [--iterations 25]
//!         [--samples-per-list 256]

mod common;

use std::time::Instant;

use common::{
    exact_scan, first_rows, fmnist_images, recall_at, row_of, search_recall, seconds,
    timed_ground_truth, Args, Timer,
};
use std::sync::Arc;

use fashrec_ivf::{inspect, BuildOptions, MemoryRelation, Metric, Scan, ScanOptions, Searcher};

fn main() {
    let args = Args::parse();
    let lists: u32 = args.get("lists", 245);
    let probes = args.list("probes", "1,2,4,5,6,8,16,32");
    let build_threads: usize = args.get("build-threads", fashrec_ivf::default_threads());
    let exact_queries: usize = args.get("exact-queries", 300);
    let k = 10;

    let base = fmnist_images("train");
    let mut queries = fmnist_images("t10k");
    let query_count: usize = args.get("queries", queries.len());
    queries.data.truncate(query_count * queries.dims);
    println!(
        "data: {} base, {} queries, {} dims, kernel {}",
        base.len(),
        queries.len(),
        base.dims,
        fashrec_distance::active_kernel()
    );

    // Ground truth: read from --gt FILE when it holds these queries, else computed (and
    // written there).
    let cached = args
        .text("gt")
        .and_then(|path| common::read_ground_truth(path, queries.len(), k));
    let truth = match cached {
        Some(truth) => truth,
        None => {
            let truth = timed_ground_truth(&base, &queries, k);
            if let Some(path) = args.text("gt") {
                common::write_ground_truth(path, &truth, k);
            }
            truth
        }
    };

    let rel = MemoryRelation::new();
    let defaults = BuildOptions::default();
    let options = BuildOptions {
        lists,
        metric: Metric::L2,
        threads: build_threads,
        max_iterations: args.get("iterations", defaults.max_iterations),
        samples_per_list: args.get("samples-per-list", defaults.samples_per_list),
        ..defaults
    };
    let start = Instant::now();
    let build_cpu = common::process_cpu_seconds();
    let report = common::build_rows(&rel, &base, options);
    let build_seconds = seconds(start);
    let build_cpu = common::process_cpu_seconds() - build_cpu;
    let info = inspect(&rel).expect("inspect");
    println!(
        "build: {:.1} s wall, {:.1} s CPU with {} threads, {} lists, {} samples, {} k-means iterations, {:.1} MiB, imbalance {:.2}, cv {:.2}",
        build_seconds,
        build_cpu,
        build_threads,
        report.lists,
        report.samples,
        report.iterations,
        rel.size_bytes() as f64 / (1 << 20) as f64,
        info.imbalance,
        info.coefficient_of_variation
    );

    // Opened once, as the extension caches it per index.
    let searcher = Arc::new(Searcher::open(&rel).expect("open"));

    // The exact scan: one query at a time over all rows, single thread.
    let timer = Timer::start();
    let mut exact_recall = 0.0;
    for (qi, slot) in truth.iter().enumerate().take(exact_queries) {
        let got: Vec<usize> = exact_scan(&base, Metric::L2, queries.row(qi), k, |_| true)
            .iter()
            .map(|n| row_of(n.tid))
            .collect();
        exact_recall += recall_at(&got, slot, k);
    }
    let (wall, cpu) = timer.stop();
    let exact_qps = exact_queries as f64 / cpu;
    println!(
        "\nQPS: queries per second of one thread, by wall clock and by the thread's on-CPU time"
    );
    println!("(the machine is shared: CPU time leaves out the slices other processes took).\n");
    println!("| method | probes | recall@10 | QPS wall | QPS CPU | CPU speed-up vs exact |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| exact scan ({} queries) | - | {:.4} | {:.1} | {:.1} | 1.0x |",
        exact_queries,
        exact_recall / exact_queries as f64,
        exact_queries as f64 / wall,
        exact_qps
    );
    for &p in &probes {
        let (recall, wall, cpu) = search_recall(&searcher, &rel, &queries, &truth, k, p);
        let n = queries.len() as f64;
        println!(
            "| ivf search (top-k heap) | {} | {:.4} | {:.1} | {:.1} | {:.1}x |",
            p,
            recall,
            n / wall,
            n / cpu,
            n / cpu / exact_qps
        );
    }
    // The streaming scan the access method uses, pulled for 10 rows.
    let stream_probes = if args.get("stream", 1) == 1 {
        probes.clone()
    } else {
        Vec::new()
    };
    for &p in &stream_probes {
        let timer = Timer::start();
        let mut total = 0.0;
        for (qi, slot) in truth.iter().enumerate() {
            let mut scan =
                Scan::with_searcher(searcher.clone(), queries.row(qi), ScanOptions::new(p))
                    .expect("scan");
            let got = first_rows(&mut scan, &rel, k);
            total += recall_at(&got, slot, k);
        }
        let (wall, cpu) = timer.stop();
        let n = queries.len() as f64;
        println!(
            "| ivf stream (amgettuple path) | {} | {:.4} | {:.1} | {:.1} | {:.1}x |",
            p,
            total / n,
            n / wall,
            n / cpu,
            n / cpu / exact_qps
        );
    }
}
