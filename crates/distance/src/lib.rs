//! Vector distance kernels: squared L2, inner product and cosine, on `f32` slices.
//!
//! The first call picks the fastest implementation this CPU supports (AVX-512, AVX2+FMA, or
//! plain scalar loops) and every later call goes straight to it.
//!
//! Callers pass slices of equal length. That is checked with `debug_assert!` only: in a release
//! build, slices of different lengths never panic or read out of bounds, they are compared over
//! the shorter length.
//!
//! The [`CodeKernel`] scores one-byte codes (a scalar-quantised vector, one `u8` per dimension)
//! against a query prepared as 16-bit weights, exactly; it is dispatched the same way (AVX2 or
//! scalar).

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod cosine;
pub mod scalar;

use std::sync::OnceLock;

pub use cosine::cosine_from_sums;

/// Signature of `dot_and_norms`: (dot(a,b), |a|^2, |b|^2).
pub type DotAndNormsFn = fn(&[f32], &[f32]) -> (f32, f32, f32);

/// One complete implementation of the kernels, as plain function pointers.
#[derive(Clone, Copy, Debug)]
pub struct Kernels {
    /// "avx512", "avx2+fma" or "scalar".
    pub name: &'static str,
    pub l2_squared: fn(&[f32], &[f32]) -> f32,
    pub dot: fn(&[f32], &[f32]) -> f32,
    pub norm_squared: fn(&[f32]) -> f32,
    pub dot_and_norms: DotAndNormsFn,
}

/// Every implementation this CPU can run, slowest first; the last one is what the API uses.
pub fn available_kernels() -> Vec<Kernels> {
    let mut found = vec![scalar::KERNELS];
    #[cfg(target_arch = "x86_64")]
    {
        found.extend(avx2::kernels());
        found.extend(avx512::kernels());
    }
    found
}

/// The implementation picked for this process, detected once.
fn active() -> &'static Kernels {
    static ACTIVE: OnceLock<Kernels> = OnceLock::new();
    ACTIVE.get_or_init(|| {
        available_kernels()
            .last()
            .copied()
            .unwrap_or(scalar::KERNELS)
    })
}

/// The kernel over one-byte codes: the exact integer dot product of a code (one `u8` per
/// dimension) with 16-bit weights, as a plain function pointer.
///
/// A scalar quantiser stores a vector as `offset_i + code_i * step_i`; a query turned into
/// per-dimension weights, rounded to 16 bits, scores a code with one integer multiply-add per
/// dimension (16 at a time with AVX2), and the sum is exact, so its error is only the weights'
/// rounding, which the caller knows.
#[derive(Clone, Copy, Debug)]
pub struct CodeKernel {
    /// "avx2" or "scalar".
    pub name: &'static str,
    /// Sum of `code_i * weight_i`, exact, over the shorter length.
    pub dot: fn(&[u8], &[i16]) -> i64,
}

/// Every code kernel this CPU can run, slowest first; the last one is what the API uses.
pub fn available_code_kernels() -> Vec<CodeKernel> {
    let mut found = vec![scalar::CODE_KERNEL];
    #[cfg(target_arch = "x86_64")]
    found.extend(avx2::code_kernel());
    found
}

/// The code kernel picked for this process, detected once.
pub fn active_code_kernel() -> &'static CodeKernel {
    static ACTIVE: OnceLock<CodeKernel> = OnceLock::new();
    ACTIVE.get_or_init(|| {
        available_code_kernels()
            .last()
            .copied()
            .unwrap_or(scalar::CODE_KERNEL)
    })
}

/// Sum of `code_i * weight_i`, exact, over the shorter length.
#[inline]
pub fn code_dot(code: &[u8], weights: &[i16]) -> i64 {
    (active_code_kernel().dot)(code, weights)
}

/// Which implementation runtime detection picked: "avx512", "avx2+fma" or "scalar".
pub fn active_kernel() -> &'static str {
    active().name
}

/// Squared Euclidean distance, accumulated in f32.
#[inline]
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    (active().l2_squared)(a, b)
}

/// Inner product, accumulated in f32.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    (active().dot)(a, b)
}

/// Squared L2 norm of one vector.
#[inline]
pub fn norm_squared(a: &[f32]) -> f32 {
    (active().norm_squared)(a)
}

/// (dot(a,b), norm_squared(a), norm_squared(b)) in one pass, for cosine distance.
#[inline]
pub fn dot_and_norms(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
    (active().dot_and_norms)(a, b)
}

/// Cosine distance as pgvector defines it: 1 - dot/sqrt(|a|^2 |b|^2) in f64, NaN for a zero vector.
#[inline]
pub fn cosine_distance(a: &[f32], b: &[f32]) -> f64 {
    let (dot, norm_a, norm_b) = dot_and_norms(a, b);
    cosine_from_sums(dot, norm_a, norm_b)
}
