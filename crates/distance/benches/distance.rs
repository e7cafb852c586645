//! ns per distance call, dispatched kernel against the scalar loops, at common embedding sizes.
//!
//! 64: a small test embedding; 384: MiniLM text vectors; 784: a raw 28x28 Fashion-MNIST image.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use fashrec_distance::{
    active_kernel, code_dot, cosine_distance, cosine_from_sums, dot, l2_squared, scalar,
};

const DIMS: [usize; 3] = [64, 384, 784];

/// Two deterministic vectors of `dim` values in [-1, 1), different from each other.
fn vectors(dim: usize) -> (Vec<f32>, Vec<f32>) {
    let value = |i: usize, seed: usize| ((i * 7919 + seed * 104_729) % 2000) as f32 / 1000.0 - 1.0;
    (
        (0..dim).map(|i| value(i, 1)).collect(),
        (0..dim).map(|i| value(i, 2)).collect(),
    )
}

/// The same distance with pgvector's formula on top of the scalar sums.
fn scalar_cosine(a: &[f32], b: &[f32]) -> f64 {
    let (dot, norm_a, norm_b) = scalar::dot_and_norms(a, b);
    cosine_from_sums(dot, norm_a, norm_b)
}

/// Benchmarks one distance, dispatched and scalar side by side, at every size.
fn compare<R>(
    c: &mut Criterion,
    name: &str,
    dispatched: fn(&[f32], &[f32]) -> R,
    plain: fn(&[f32], &[f32]) -> R,
) {
    let mut group = c.benchmark_group(name);
    for dim in DIMS {
        let (a, b) = vectors(dim);
        for (label, kernel) in [("dispatched", dispatched), ("scalar", plain)] {
            group.bench_with_input(BenchmarkId::new(label, dim), &dim, |bench, _| {
                bench.iter(|| kernel(black_box(&a), black_box(&b)))
            });
        }
    }
    group.finish();
}

/// The code kernel, dispatched and scalar side by side, at every size: a code of `dim` bytes
/// against 16-bit weights (what a scan of one-byte codes calls per row).
fn compare_codes(c: &mut Criterion) {
    let mut group = c.benchmark_group("code_dot");
    for dim in DIMS {
        let code: Vec<u8> = (0..dim).map(|i| (i * 37 % 256) as u8).collect();
        let weights: Vec<i16> = (0..dim).map(|i| (i * 7919 % 65536) as i16).collect();
        for (label, kernel) in [
            ("dispatched", code_dot as fn(&[u8], &[i16]) -> i64),
            ("scalar", scalar::code_dot),
        ] {
            group.bench_with_input(BenchmarkId::new(label, dim), &dim, |bench, _| {
                bench.iter(|| kernel(black_box(&code), black_box(&weights)))
            });
        }
    }
    group.finish();
}

fn distances(c: &mut Criterion) {
    eprintln!("dispatched kernel: {}", active_kernel());
    compare(c, "l2_squared", l2_squared, scalar::l2_squared);
    compare(c, "dot", dot, scalar::dot);
    compare(c, "cosine_distance", cosine_distance, scalar_cosine);
    compare_codes(c);
}

criterion_group!(benches, distances);
criterion_main!(benches);
