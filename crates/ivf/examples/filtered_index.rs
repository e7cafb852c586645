//! Filters checked inside the index (`Scan::with_filter`, what a filter-column index does): the
//! rows' attributes are tested before any distance, so a rejected row costs no heap fetch.
//! Fashion-MNIST train as the rows, with attributes (category, id % 4, id % 10); queries from
//! the test split of every category, all filtered to one category (most to another than
//! their own: the hard case, as bench/sql/filtered.py). Per filter: recall@10 against the
//! exact filtered answer, lists probed (and of them skipped unread, their summaries ruling
//! out every row), rows whose vectors were read, and QPS on one thread beside the unfiltered
//! scan of the same index.
//!
//!     cargo run --release -p fashrec-ivf --example filtered_index -- [--dims 784|64]
//!         [--lists 245] [--probes 4,8] [--queries 500] [--category 3]

mod common;

use std::sync::Arc;

use common::{first_rows, project, Timer};
use common::{fmnist_images, fmnist_labels, ground_truth, recall_at, tid, Args, Gauss};
use fashrec_ivf::attributes::int_key;
use fashrec_ivf::{BuildOptions, Builder, Filter, MemoryRelation, Metric, Scan, ScanOptions};
use fashrec_ivf::{Searcher, Test};

/// A random projection to `dims` dimensions, each row scaled to unit length (the 64-d table of
/// bench/sql/filtered.py): N(0, 1) entries drawn input dimension by input dimension.
fn projection(from: usize, dims: usize) -> Vec<f32> {
    let mut g = Gauss(7);
    let drawn: Vec<f32> = (0..from * dims).map(|_| g.normal() as f32).collect();
    // `project` wants one row of `from` weights per output dimension.
    (0..dims)
        .flat_map(|j| (0..from).map(move |k| (k, j)))
        .map(|(k, j)| drawn[k * dims + j])
        .collect()
}

fn main() {
    let args = Args::parse();
    let lists: u32 = args.get("lists", 245);
    let dims: usize = args.get("dims", 784);
    let probes = args.list("probes", "4,8");
    let query_count: usize = args.get("queries", 500);
    let category: u8 = args.get("category", 3);
    let k = 10;

    let mut base = fmnist_images("train");
    let labels: Arc<[u8]> = fmnist_labels("train").into();
    let mut queries = fmnist_images("t10k");
    queries.data.truncate(query_count * queries.dims);
    if dims != base.dims {
        let matrix = projection(base.dims, dims);
        base = project(&base, &matrix, dims);
        queries = project(&queries, &matrix, dims);
    }

    let rel = MemoryRelation::new();
    let options = BuildOptions {
        lists,
        metric: Metric::L2,
        attributes: 3,
        ..BuildOptions::default()
    };
    let mut builder = Builder::new(base.dims, options).expect("builder");
    let step = (base.len() / builder.sample_capacity().max(1)).max(1);
    for i in (0..base.len()).step_by(step) {
        builder.sample(base.row(i)).expect("sample");
    }
    let mut loader = builder.train(&rel, &mut |_| {}).expect("train");
    for i in 0..base.len() {
        let attributes = [
            Some(int_key(i64::from(labels[i]))),
            Some(int_key((i % 4) as i64)),
            Some(int_key((i % 10) as i64)),
        ];
        loader
            .add_with_attributes(tid(i), base.row(i), &attributes)
            .expect("add");
    }
    loader.finish(&mut |_| {}).expect("finish");
    let searcher = Arc::new(Searcher::open(&rel).expect("open"));

    let is = |v: i64| Test::AnyOf(vec![int_key(v)]);
    let c = i64::from(category);
    type Keep = Box<dyn Fn(usize) -> bool + Sync>;
    let cases: Vec<(&str, Filter, Keep)> = vec![
        ("none", Filter::new(), Box::new(|_| true)),
        (
            "category (10%)",
            Filter::new().and(0, is(c)),
            Box::new({
                let labels = labels.clone();
                move |r| labels[r] == category
            }),
        ),
        (
            "category and id % 4 (2.5%)",
            Filter::new().and(0, is(c)).and(1, is(0)),
            Box::new({
                let labels = labels.clone();
                move |r| labels[r] == category && r % 4 == 0
            }),
        ),
        (
            "and id % 10 (0.25%)",
            Filter::new().and(0, is(c)).and(1, is(0)).and(2, is(0)),
            Box::new({
                let labels = labels.clone();
                move |r| labels[r] == category && r % 4 == 0 && r % 10 == 0
            }),
        ),
    ];
    println!("{}-d, lists {lists}, {} queries", base.dims, queries.len());
    println!("| filter | probes | recall@10 | lists probed / query | of them skipped | rows rescored / query | QPS CPU | / unfiltered |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut unfiltered_qps = vec![0.0; probes.len()];
    for (name, filter, keep) in &cases {
        let threads = fashrec_ivf::default_threads();
        let truth = ground_truth(&base, &queries, k, threads, keep.as_ref());
        for (pi, &p) in probes.iter().enumerate() {
            let (mut recall, mut probed, mut skipped, mut rescored) = (0.0, 0usize, 0usize, 0usize);
            let timer = Timer::start();
            for (qi, expected) in truth.iter().enumerate() {
                let mut scan =
                    Scan::with_searcher(searcher.clone(), queries.row(qi), ScanOptions::new(p))
                        .and_then(|s| s.with_filter(filter.clone()))
                        .expect("scan");
                let got = first_rows(&mut scan, &rel, k);
                recall += recall_at(&got, expected, k);
                probed += scan.lists_probed();
                skipped += scan.lists_skipped();
                rescored += scan.rows_rescored();
            }
            let (_, cpu) = timer.stop();
            let n = truth.len() as f64;
            let qps = n / cpu;
            if filter.is_empty() {
                unfiltered_qps[pi] = qps;
            }
            println!(
                "| {name} | {p} | {:.4} | {:.1} | {:.1} | {:.0} | {qps:.0} | {:.2}x |",
                recall / n,
                probed as f64 / n,
                skipped as f64 / n,
                rescored as f64 / n,
                qps / unfiltered_qps[pi]
            );
        }
    }
}
