//! Elementwise arithmetic, norms and the btree comparison functions.

use super::{Vector, VectorArg};
use crate::error::OrRaise;
use fashrec_vector as v;
use pgrx::prelude::*;
use std::cmp::Ordering;

/// Elementwise sum (the `+` operator).
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_add(a: VectorArg, b: VectorArg) -> Vector {
    Vector(v::add(a.as_slice(), b.as_slice()).or_raise())
}

/// Elementwise difference (the `-` operator).
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_sub(a: VectorArg, b: VectorArg) -> Vector {
    Vector(v::sub(a.as_slice(), b.as_slice()).or_raise())
}

/// Elementwise product (the `*` operator).
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_mul(a: VectorArg, b: VectorArg) -> Vector {
    Vector(v::mul(a.as_slice(), b.as_slice()).or_raise())
}

/// Number of dimensions.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_dims(a: VectorArg) -> i32 {
    a.as_slice().len() as i32
}

/// Euclidean norm.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_norm(a: VectorArg) -> f64 {
    a.as_slice()
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        .sqrt()
}

/// The vector scaled to unit length; a zero vector is returned unchanged.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn l2_normalize(a: VectorArg) -> Vector {
    Vector(v::l2_normalize(a.as_slice()))
}

fn order(a: &VectorArg, b: &VectorArg) -> Ordering {
    v::compare(a.as_slice(), b.as_slice())
}

/// Btree support: -1, 0 or 1.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_cmp(a: VectorArg, b: VectorArg) -> i32 {
    order(&a, &b) as i32
}

/// The `<` operator.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_lt(a: VectorArg, b: VectorArg) -> bool {
    order(&a, &b).is_lt()
}

/// The `<=` operator.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_le(a: VectorArg, b: VectorArg) -> bool {
    order(&a, &b).is_le()
}

/// The `=` operator.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_eq(a: VectorArg, b: VectorArg) -> bool {
    order(&a, &b).is_eq()
}

/// The `<>` operator.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_ne(a: VectorArg, b: VectorArg) -> bool {
    order(&a, &b).is_ne()
}

/// The `>=` operator.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_ge(a: VectorArg, b: VectorArg) -> bool {
    order(&a, &b).is_ge()
}

/// The `>` operator.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_gt(a: VectorArg, b: VectorArg) -> bool {
    order(&a, &b).is_gt()
}
