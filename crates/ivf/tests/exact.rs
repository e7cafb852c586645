//! With every list probed, the index returns exactly what a brute-force scan returns, in the
//! same order (by score, ties by tid), for every metric, before and after inserts.

mod common;

use common::{brute_force, build_memory, options, tid, BOTH};
use fashrec_ivf::{insert, search, Codes, Metric, Neighbor, Scan, ScanOptions, Tid};
use proptest::prelude::*;

fn metric() -> impl Strategy<Value = Metric> {
    prop_oneof![
        Just(Metric::L2),
        Just(Metric::Cosine),
        Just(Metric::InnerProduct)
    ]
}

/// Small integer-valued vectors: many exact ties and duplicates, and zero vectors.
fn rows(dims: usize, max_rows: usize) -> impl Strategy<Value = Vec<Vec<f32>>> {
    prop::collection::vec(
        prop::collection::vec((-3i8..=3).prop_map(|x| x as f32), dims),
        0..max_rows,
    )
}

fn codes() -> impl Strategy<Value = Codes> {
    prop_oneof![Just(Codes::Always), Just(Codes::Never)]
}

/// Metric, dimensions, lists, codes, rows to build, rows to insert, query.
type Case = (
    Metric,
    usize,
    u32,
    Codes,
    Vec<Vec<f32>>,
    Vec<Vec<f32>>,
    Vec<f32>,
);

fn case() -> impl Strategy<Value = Case> {
    (metric(), 1usize..6, 1u32..12, codes()).prop_flat_map(|(metric, dims, lists, codes)| {
        (
            Just(metric),
            Just(dims),
            Just(lists),
            Just(codes),
            rows(dims, 60),
            rows(dims, 30),
            prop::collection::vec(-4.0f32..4.0, dims),
        )
    })
}

/// Everything a full scan streams.
fn stream_all(rel: &fashrec_ivf::MemoryRelation, query: &[f32], lists: u32) -> Vec<Neighbor> {
    let mut scan = Scan::new(rel, query, ScanOptions::new(lists)).unwrap();
    let mut out = Vec::new();
    while let Some(n) = scan.next(rel).unwrap() {
        out.push(n);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_list_probed_equals_brute_force(
        (metric, dims, lists, codes, built, inserted, query) in case(),
        k in 1usize..15,
    ) {
        let rel = build_memory(&built, dims, options(lists, metric, codes));
        let mut all: Vec<(Tid, Vec<f32>)> =
            built.iter().enumerate().map(|(i, v)| (tid(i), v.clone())).collect();
        for check_inserts in [false, true] {
            if check_inserts {
                for (j, v) in inserted.iter().enumerate() {
                    let t = tid(10_000 + j);
                    insert(&rel, t, v).unwrap();
                    all.push((t, v.clone()));
                }
            }
            let expected = brute_force(&all, dims, metric, &query);
            let streamed = stream_all(&rel, &query, lists);
            prop_assert_eq!(streamed.len(), expected.len());
            for (got, want) in streamed.iter().zip(&expected) {
                prop_assert_eq!(got.tid, want.tid);
                prop_assert_eq!(got.score.to_bits(), want.score.to_bits());
            }
            let top = search(&rel, &query, k, lists).unwrap();
            let want: Vec<Tid> = expected.iter().take(k).map(|n| n.tid).collect();
            let got: Vec<Tid> = top.iter().map(|n| n.tid).collect();
            prop_assert_eq!(got, want);
            let report = fashrec_ivf::check(&rel).unwrap();
            prop_assert!(report.is_clean(), "{:?}", report);
            prop_assert_eq!(report.rows as usize, all.len());
        }
    }

    #[test]
    fn a_filtered_stream_finds_k_rows_whenever_they_exist(
        (metric, dims, lists, codes, built, _inserted, query) in case(),
        modulus in 1usize..20,
        k in 1usize..10,
    ) {
        // Few probes: the stream must go and fetch further lists itself.
        let rel = build_memory(&built, dims, options(lists, metric, codes));
        let matches = |t: Tid| (t.block as usize * 7 + t.offset as usize).is_multiple_of(modulus);
        let exist = (0..built.len()).filter(|&i| matches(tid(i))).count();
        let mut scan = Scan::new(&rel, &query, ScanOptions::new(1)).unwrap();
        let mut found = Vec::new();
        while found.len() < k {
            match scan.next(&rel).unwrap() {
                Some(n) if matches(n.tid) => found.push(n.tid),
                Some(_) => {}
                None => break,
            }
        }
        prop_assert_eq!(found.len(), k.min(exist));
        found.sort();
        found.dedup();
        prop_assert_eq!(found.len(), k.min(exist));
    }
}

#[test]
fn empty_and_tiny_builds_are_exact() {
    for (metric, codes) in [Metric::L2, Metric::Cosine, Metric::InnerProduct]
        .into_iter()
        .flat_map(|m| BOTH.map(|c| (m, c)))
    {
        for n in [0usize, 1, 2, 5] {
            let rows: Vec<Vec<f32>> = (0..n)
                .map(|i| vec![i as f32, 1.0 - i as f32, 0.5])
                .collect();
            let rel = build_memory(&rows, 3, options(8, metric, codes));
            let all: Vec<(Tid, Vec<f32>)> = rows
                .iter()
                .enumerate()
                .map(|(i, v)| (tid(i), v.clone()))
                .collect();
            let q = [0.3, -0.2, 1.0];
            let got: Vec<Tid> = stream_all(&rel, &q, 8).iter().map(|n| n.tid).collect();
            let want: Vec<Tid> = brute_force(&all, 3, metric, &q)
                .iter()
                .map(|n| n.tid)
                .collect();
            assert_eq!(got, want);
        }
    }
}

#[test]
fn cosine_scores_are_pgvector_distances() {
    for codes in BOTH {
        let mut lcg = common::Lcg(11);
        let rows = lcg.clustered(300, 16, 5);
        let rel = build_memory(&rows, 16, options(6, Metric::Cosine, codes));
        let query: Vec<f32> = (0..16).map(|_| lcg.next_f32()).collect();
        let found = search(&rel, &query, 20, 6).unwrap();
        assert_eq!(found.len(), 20);
        for n in found {
            let row = &rows[(n.tid.block * 7 + n.tid.offset as u32 - 1) as usize];
            let exact = fashrec_distance::cosine_distance(&query, row);
            assert!((Metric::Cosine.distance(n.score) - exact).abs() < 1e-5);
        }
    }
}

#[test]
fn reordered_dimensions_keep_l2_exact() {
    for codes in BOTH {
        reordered_dimensions_keep_l2_exact_with(codes);
    }
}

fn reordered_dimensions_keep_l2_exact_with(codes: Codes) {
    // More dimensions than one partial sum, so the build reorders them and scores stop early;
    // small integers keep every sum exact, so the order must match brute force bit for bit.
    let dims = 300;
    let mut lcg = common::Lcg(21);
    let rows: Vec<Vec<f32>> = (0..400)
        .map(|i| {
            (0..dims)
                .map(|d| ((lcg.next_f32() * 4.0) as i32 * ((d + i) % 3) as i32) as f32)
                .collect()
        })
        .collect();
    let rel = build_memory(&rows, dims, options(7, Metric::L2, codes));
    let all: Vec<(Tid, Vec<f32>)> = rows
        .iter()
        .enumerate()
        .map(|(i, v)| (tid(i), v.clone()))
        .collect();
    let searcher = fashrec_ivf::Searcher::open(&rel).unwrap();
    for q in rows.iter().step_by(37) {
        let expected = brute_force(&all, dims, Metric::L2, q);
        let streamed = stream_all(&rel, q, 7);
        let got: Vec<(Tid, u32)> = streamed
            .iter()
            .map(|n| (n.tid, n.score.to_bits()))
            .collect();
        let want: Vec<(Tid, u32)> = expected
            .iter()
            .map(|n| (n.tid, n.score.to_bits()))
            .collect();
        assert_eq!(got, want);
        for k in [1, 10, 50] {
            let top = searcher.search(&rel, q, k, 7).unwrap();
            assert_eq!(top, expected[..k].to_vec());
        }
        // A few probes still return the query row itself first.
        assert_eq!(searcher.search(&rel, q, 1, 2).unwrap()[0].score, 0.0);
    }
}
