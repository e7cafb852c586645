//! Support functions for `avg(vector)`; `sum(vector)` needs only `vector_add`.
//! The state is `double precision[]`: the count, then the running sums, as in pgvector.

use super::{Vector, VectorArg};
use crate::error::{raise, OrRaise};
use fashrec_vector::{check_vector, VectorError};
use pgrx::prelude::*;

/// Adds one vector to the running count and sums.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_accum(mut state: Vec<f64>, v: VectorArg) -> Vec<f64> {
    let v = v.as_slice();
    if state.len() <= 1 {
        state = vec![0.0; v.len() + 1];
    } else if state.len() != v.len() + 1 {
        raise(VectorError::DifferentDims(state.len() - 1, v.len()));
    }
    state[0] += 1.0;
    for (sum, &x) in state[1..].iter_mut().zip(v) {
        *sum += f64::from(x);
    }
    state
}

/// Merges two partial states (parallel aggregation).
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_combine(a: Vec<f64>, b: Vec<f64>) -> Vec<f64> {
    match (a.len() <= 1, b.len() <= 1) {
        (true, _) => b,
        (_, true) => a,
        _ if a.len() != b.len() => raise(VectorError::DifferentDims(a.len() - 1, b.len() - 1)),
        _ => a.iter().zip(&b).map(|(x, y)| x + y).collect(),
    }
}

/// The mean vector, or NULL when no rows were aggregated.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_avg(state: Vec<f64>) -> Option<Vector> {
    let (&count, sums) = state.split_first()?;
    if count == 0.0 || sums.is_empty() {
        return None;
    }
    let mean: Vec<f32> = sums.iter().map(|&s| (s / count) as f32).collect();
    check_vector(&mean).or_raise();
    Some(Vector(mean))
}
