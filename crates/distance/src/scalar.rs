//! Plain loops: the fallback on CPUs without AVX2, and the baseline benches and tests compare to.
//!
//! Kept as simple single-accumulator loops on purpose; without fast-math the compiler does not
//! reorder float sums, so these stay truly scalar.

use crate::{CodeKernel, Kernels};

/// The scalar implementation as a kernel set.
pub(crate) const KERNELS: Kernels = Kernels {
    name: "scalar",
    l2_squared,
    dot,
    norm_squared,
    dot_and_norms,
};

/// The scalar code kernel.
pub(crate) const CODE_KERNEL: CodeKernel = CodeKernel {
    name: "scalar",
    dot: code_dot,
};

/// Sum of `code_i * weight_i`, exact, over the shorter length.
pub fn code_dot(code: &[u8], weights: &[i16]) -> i64 {
    debug_assert_eq!(code.len(), weights.len());
    code.iter()
        .zip(weights)
        .map(|(&c, &w)| i64::from(c) * i64::from(w))
        .sum()
}

/// Squared Euclidean distance over the shorter of the two lengths.
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut sum = 0.0f32;
    for (x, y) in a.iter().zip(b) {
        let d = x - y;
        sum += d * d;
    }
    sum
}

/// Inner product over the shorter of the two lengths.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut sum = 0.0f32;
    for (x, y) in a.iter().zip(b) {
        sum += x * y;
    }
    sum
}

/// Squared L2 norm.
pub fn norm_squared(a: &[f32]) -> f32 {
    let mut sum = 0.0f32;
    for x in a {
        sum += x * x;
    }
    sum
}

/// (dot, |a|^2, |b|^2) in one pass over the shorter of the two lengths.
pub fn dot_and_norms(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
    debug_assert_eq!(a.len(), b.len());
    let (mut dot, mut norm_a, mut norm_b) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
    }
    (dot, norm_a, norm_b)
}
