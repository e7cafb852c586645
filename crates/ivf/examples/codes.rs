//! Codes against no codes, side by side on the same data and queries: Fashion-MNIST (60,000
//! base, 10,000 queries, 784-d raw pixels, L2), or its random projection to `--project D`
//! dimensions, normalised (cosine). Builds one index with code chains and one without, then
//! for each probes setting measures both, alternating which goes first from round to round:
//! recall@10 and single-threaded queries per second of the streaming `Scan` pulled for 10 rows
//! (the access method's path) and of the top-k `Searcher::search`.
//!
//!     cargo run --release -p fashrec-ivf --example codes -- [--lists 245]
//!         [--probes 1,2,4,8,16] [--rounds 3] [--queries 10000] [--project 64] [--gt FILE]
//!         [--only codes|none] (one index, for profiling)

mod common;

use std::sync::Arc;
use std::time::Instant;

use common::{
    first_rows, fmnist_images, project, recall_at, search_recall, seconds, Args, Gauss, Timer,
    Vectors,
};
use fashrec_ivf::{
    inspect, BuildOptions, Codes, MemoryRelation, Metric, Scan, ScanOptions, Searcher,
};

/// One of the two indexes.
struct Variant {
    name: &'static str,
    rel: MemoryRelation,
    searcher: Arc<Searcher>,
}

/// Mean recall@k of the streaming scan pulled for k rows and mean rows rescored per query,
/// with (wall, on-CPU) seconds.
fn stream_recall(
    variant: &Variant,
    queries: &Vectors,
    truth: &[Vec<usize>],
    k: usize,
    probes: u32,
) -> (f64, f64, f64, f64) {
    let timer = Timer::start();
    let (mut total, mut rescored) = (0.0, 0);
    for (qi, slot) in truth.iter().enumerate() {
        let options = ScanOptions::new(probes);
        let mut scan =
            Scan::with_searcher(variant.searcher.clone(), queries.row(qi), options).expect("scan");
        let got = first_rows(&mut scan, &variant.rel, k);
        total += recall_at(&got, slot, k);
        rescored += scan.rows_rescored();
    }
    let (wall, cpu) = timer.stop();
    let n = truth.len() as f64;
    (total / n, rescored as f64 / n, wall, cpu)
}

fn main() {
    let args = Args::parse();
    let lists: u32 = args.get("lists", 245);
    let probes = args.list("probes", "1,2,4,8,16");
    let rounds: usize = args.get("rounds", 3);
    let project_to: usize = args.get("project", 0);
    let k = 10;

    let mut base = fmnist_images("train");
    let mut queries = fmnist_images("t10k");
    let query_count: usize = args.get("queries", queries.len());
    queries.data.truncate(query_count * queries.dims);
    let metric = if project_to > 0 {
        let mut rng = Gauss(0x5EED_0064);
        let matrix: Vec<f32> = (0..project_to * base.dims)
            .map(|_| rng.normal() as f32)
            .collect();
        base = project(&base, &matrix, project_to);
        queries = project(&queries, &matrix, project_to);
        Metric::Cosine
    } else {
        Metric::L2
    };
    println!(
        "data: {} base, {} queries, {} dims, {:?}, code kernel {}, f32 kernel {}",
        base.len(),
        queries.len(),
        base.dims,
        metric,
        fashrec_distance::active_code_kernel().name,
        fashrec_distance::active_kernel()
    );
    // Unit vectors: L2 order is cosine order, so one ground truth serves both.
    let cached = args
        .text("gt")
        .and_then(|path| common::read_ground_truth(path, queries.len(), k));
    let truth = cached.unwrap_or_else(|| {
        let truth = common::timed_ground_truth(&base, &queries, k);
        if let Some(path) = args.text("gt") {
            common::write_ground_truth(path, &truth, k);
        }
        truth
    });

    let mut variants = Vec::new();
    let only = args.text("only");
    for (name, codes) in [("codes", Codes::Always), ("no codes", Codes::Never)] {
        if only.is_some_and(|only| only != name.replace("no codes", "none")) {
            continue;
        }
        let rel = MemoryRelation::new();
        let options = BuildOptions {
            lists,
            metric,
            codes,
            ..BuildOptions::default()
        };
        let start = Instant::now();
        common::build_rows(&rel, &base, options);
        let build_seconds = seconds(start);
        let info = inspect(&rel).expect("inspect");
        println!(
            "{name}: build {:.1} s wall, {} blocks ({:.1} MiB): {} list pages, {} code pages",
            build_seconds,
            info.blocks,
            rel.size_bytes() as f64 / (1 << 20) as f64,
            info.list_pages.iter().map(|&p| p as u64).sum::<u64>(),
            info.code_pages.iter().map(|&p| p as u64).sum::<u64>(),
        );
        let searcher = Arc::new(Searcher::open(&rel).expect("open"));
        variants.push(Variant {
            name,
            rel,
            searcher,
        });
    }

    println!("\nQPS: queries per second of one thread, by wall clock and by on-CPU time.\n");
    println!("| round | probes | index | stream recall@10 | rows rescored | stream QPS wall | stream QPS CPU | search recall@10 | search QPS CPU |");
    println!("|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    let n = queries.len() as f64;
    for round in 0..rounds {
        for &p in &probes {
            // Alternate which index goes first, so neither always runs on a warmer machine.
            let order: Vec<&Variant> = if (round + p as usize).is_multiple_of(2) {
                variants.iter().collect()
            } else {
                variants.iter().rev().collect()
            };
            for variant in order {
                let (recall, rescored, wall, cpu) = stream_recall(variant, &queries, &truth, k, p);
                let (search, _, search_cpu) =
                    search_recall(&variant.searcher, &variant.rel, &queries, &truth, k, p);
                println!(
                    "| {} | {} | {} | {:.4} | {:.1} | {:.0} | {:.0} | {:.4} | {:.0} |",
                    round + 1,
                    p,
                    variant.name,
                    recall,
                    rescored,
                    n / wall,
                    n / cpu,
                    search,
                    n / search_cpu
                );
            }
        }
    }
}
