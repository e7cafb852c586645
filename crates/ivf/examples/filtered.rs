//! Filtered queries on Fashion-MNIST: `WHERE <filter> ORDER BY v <-> q LIMIT 10`, as the
//! access method runs it. The streaming scan yields rows in distance order; the filter (what
//! PostgreSQL's WHERE clause does to each returned row) rejects some; the scan probes further
//! lists when its candidates run out. Reported per filter: how often LIMIT 10 came back full
//! (whenever 10 matching rows exist, which they always do here), recall@10 against the exact
//! filtered answer, lists probed, and queries per second.
//!
//! Filters: a synthetic attribute independent of the vector matching ~50%, ~10% and ~1% of
//! rows, and a correlated one, "label = 0" (T-shirts, 10%), asked by every query, most of which
//! are pictures of something else: the nearest lists hold no T-shirts at all.
//!
//!     cargo run --release -p fashrec-ivf --example filtered -- [--lists 245] [--probes 4,8]
//!         [--queries 1000]

mod common;

use std::sync::Arc;

use common::{
    attribute, fmnist_images, fmnist_labels, ground_truth, recall_at, row_of, Args, Timer,
};
use fashrec_ivf::{BuildOptions, MemoryRelation, Metric, Scan, ScanOptions, Searcher};

fn main() {
    let args = Args::parse();
    let lists: u32 = args.get("lists", 245);
    let probes = args.list("probes", "4,8");
    let query_count: usize = args.get("queries", 1000);
    let k = 10;

    let base = fmnist_images("train");
    let labels = fmnist_labels("train");
    let mut queries = fmnist_images("t10k");
    queries.data.truncate(query_count * queries.dims);

    let rel = MemoryRelation::new();
    let options = BuildOptions {
        lists,
        metric: Metric::L2,
        ..BuildOptions::default()
    };
    common::build_rows(&rel, &base, options);
    let searcher = Arc::new(Searcher::open(&rel).expect("open"));

    type Filter = Box<dyn Fn(usize) -> bool + Sync>;
    let filters: Vec<(&str, Filter)> = vec![
        ("attribute < 50", Box::new(|r| attribute(r) < 50)),
        ("attribute < 10", Box::new(|r| attribute(r) < 10)),
        ("attribute < 1", Box::new(|r| attribute(r) < 1)),
        ("label = 0 (T-shirt)", Box::new(move |r| labels[r] == 0)),
    ];
    println!("| filter | matching rows | probes | LIMIT 10 full | recall@10 | rows pulled / query | lists probed / query | QPS CPU |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, keep) in &filters {
        let matching = (0..base.len()).filter(|&r| keep(r)).count();
        let truth = ground_truth(
            &base,
            &queries,
            k,
            fashrec_ivf::default_threads(),
            keep.as_ref(),
        );
        for &p in &probes {
            let (mut full, mut recall, mut pulled, mut probed) = (0usize, 0.0, 0usize, 0usize);
            let timer = Timer::start();
            for (qi, expected) in truth.iter().enumerate() {
                let options = ScanOptions::new(p);
                let mut scan =
                    Scan::with_searcher(searcher.clone(), queries.row(qi), options).expect("scan");
                let mut got = Vec::with_capacity(k);
                while got.len() < k {
                    match scan.next(&rel).expect("scan") {
                        Some(n) => {
                            pulled += 1;
                            if keep(row_of(n.tid)) {
                                got.push(row_of(n.tid));
                            }
                        }
                        None => break,
                    }
                }
                full += (got.len() == k.min(matching)) as usize;
                recall += recall_at(&got, expected, k);
                probed += scan.lists_probed();
            }
            let (_, cpu) = timer.stop();
            let n = truth.len();
            println!(
                "| {} | {} ({:.1}%) | {} | {}/{} | {:.4} | {:.0} | {:.1} | {:.1} |",
                name,
                matching,
                100.0 * matching as f64 / base.len() as f64,
                p,
                full,
                n,
                recall / n as f64,
                pulled as f64 / n as f64,
                probed as f64 / n as f64,
                n as f64 / cpu
            );
        }
    }
}
