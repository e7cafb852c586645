//! Distance functions, computed like pgvector's (f32 sums, f64 results) with SIMD kernels.

use super::VectorArg;
use crate::error::raise;
use fashrec_distance as kernels;
use fashrec_vector::VectorError;
use pgrx::prelude::*;

/// Both vectors' elements, or an ERROR when their dimensions differ.
fn pair<'a>(a: &VectorArg<'a>, b: &VectorArg<'a>) -> (&'a [f32], &'a [f32]) {
    let (a, b) = (a.as_slice(), b.as_slice());
    if a.len() != b.len() {
        raise(VectorError::DifferentDims(a.len(), b.len()));
    }
    (a, b)
}

/// Euclidean distance (the `<->` operator).
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn l2_distance(a: VectorArg, b: VectorArg) -> f64 {
    let (a, b) = pair(&a, &b);
    f64::from(kernels::l2_squared(a, b)).sqrt()
}

/// Cosine distance, 1 - cosine similarity (the `<=>` operator); NaN when a vector is zero.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn cosine_distance(a: VectorArg, b: VectorArg) -> f64 {
    let (a, b) = pair(&a, &b);
    kernels::cosine_distance(a, b)
}

/// Inner product.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn inner_product(a: VectorArg, b: VectorArg) -> f64 {
    let (a, b) = pair(&a, &b);
    f64::from(kernels::dot(a, b))
}

/// Negative inner product (the `<#>` operator), so that ascending order puts the best match first.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_negative_inner_product(a: VectorArg, b: VectorArg) -> f64 {
    -inner_product(a, b)
}
