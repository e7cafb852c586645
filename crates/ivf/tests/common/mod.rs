//! Helpers shared by the integration tests: building, brute force, small random data.

#![allow(dead_code)]

use fashrec_ivf::{build, BuildOptions, Codes, MemoryRelation, Metric, Neighbor, Tid};

/// Both kinds of index: with code chains and without.
pub const BOTH: [Codes; 2] = [Codes::Always, Codes::Never];

/// Row `i`'s tid: spread over blocks and offsets like a heap.
pub fn tid(i: usize) -> Tid {
    Tid::new((i / 7) as u32, (i % 7 + 1) as u16)
}

/// Options for small test builds: two threads, reproducible, codes or not.
pub fn options(lists: u32, metric: Metric, codes: Codes) -> BuildOptions {
    BuildOptions {
        lists,
        metric,
        threads: 2,
        max_iterations: 10,
        codes,
        ..BuildOptions::default()
    }
}

/// Builds `rows` (row i has tid(i)) into a new in-memory relation.
pub fn build_memory(rows: &[Vec<f32>], dims: usize, options: BuildOptions) -> MemoryRelation {
    let rel = MemoryRelation::new();
    build(
        &rel,
        dims,
        options,
        || rows.iter().enumerate().map(|(i, v)| (tid(i), v.as_slice())),
        &mut |_| {},
    )
    .expect("build");
    rel
}

/// Every row scored against `query` the way the index scores, in result order.
pub fn brute_force(
    rows: &[(Tid, Vec<f32>)],
    dims: usize,
    metric: Metric,
    query: &[f32],
) -> Vec<Neighbor> {
    let mut q = Vec::new();
    metric.prepare(query, dims, &mut q).expect("query");
    let mut out: Vec<Neighbor> = rows
        .iter()
        .map(|(tid, v)| {
            let mut x = Vec::new();
            let nonzero = metric.prepare(v, dims, &mut x).expect("row");
            let score = if nonzero {
                metric.score(&q, &x)
            } else {
                f32::INFINITY
            };
            Neighbor { tid: *tid, score }
        })
        .collect();
    out.sort();
    out
}

/// Deterministic pseudo-random numbers for data generation outside proptest.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_f32(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    /// `n` vectors around `clusters` random centres.
    pub fn clustered(&mut self, n: usize, dims: usize, clusters: usize) -> Vec<Vec<f32>> {
        let centres: Vec<Vec<f32>> = (0..clusters)
            .map(|_| (0..dims).map(|_| self.next_f32() * 10.0).collect())
            .collect();
        (0..n)
            .map(|i| {
                centres[i % clusters]
                    .iter()
                    .map(|c| c + self.next_f32())
                    .collect()
            })
            .collect()
    }
}

/// Recall of `got` against the first `k` of `expected`, by tid.
pub fn recall(got: &[Neighbor], expected: &[Neighbor], k: usize) -> f64 {
    let truth: std::collections::HashSet<Tid> = expected.iter().take(k).map(|n| n.tid).collect();
    got.iter()
        .take(k)
        .filter(|n| truth.contains(&n.tid))
        .count() as f64
        / truth.len().max(1) as f64
}
