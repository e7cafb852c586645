//! Casts between vector and the numeric array types.

use super::{Vector, VectorArg};
use crate::error::OrRaise;
use fashrec_vector::{check_typmod, check_vector};
use pgrx::prelude::*;

/// Builds a checked vector from array elements, refusing NULLs.
fn from_elements(elements: impl Iterator<Item = Option<f32>>, typmod: i32) -> Vector {
    let values: Vec<f32> = elements
        .map(|x| {
            x.unwrap_or_else(|| {
                crate::sql_error!(
                    ERRCODE_NULL_VALUE_NOT_ALLOWED,
                    "array must not contain nulls"
                )
            })
        })
        .collect();
    check_vector(&values).or_raise();
    check_typmod(typmod, values.len()).or_raise();
    Vector(values)
}

/// `real[]` to vector.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_vector", requires = ["vector_type"])]
pub fn real_array_to_vector(a: Array<f32>, typmod: i32, _explicit: bool) -> Vector {
    from_elements(a.iter(), typmod)
}

/// `double precision[]` to vector (elements rounded to float4).
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_vector", requires = ["vector_type"])]
pub fn double_array_to_vector(a: Array<f64>, typmod: i32, _explicit: bool) -> Vector {
    from_elements(a.iter().map(|x| x.map(|x| x as f32)), typmod)
}

/// `integer[]` to vector.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_vector", requires = ["vector_type"])]
pub fn integer_array_to_vector(a: Array<i32>, typmod: i32, _explicit: bool) -> Vector {
    from_elements(a.iter().map(|x| x.map(|x| x as f32)), typmod)
}

/// `numeric[]` to vector, so `ARRAY[0.5, 1.5]::vector` works.
#[pg_extern(immutable, strict, parallel_safe, name = "array_to_vector", requires = ["vector_type"])]
pub fn numeric_array_to_vector(a: Array<AnyNumeric>, typmod: i32, _explicit: bool) -> Vector {
    from_elements(
        a.iter()
            .map(|x| x.map(|x| f32::try_from(x).unwrap_or(f32::INFINITY))),
        typmod,
    )
}

/// vector to `real[]`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_to_float4(v: VectorArg, _typmod: i32, _explicit: bool) -> Vec<f32> {
    v.as_slice().to_vec()
}

/// vector to `double precision[]`.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_to_float8(v: VectorArg, _typmod: i32, _explicit: bool) -> Vec<f64> {
    v.as_slice().iter().map(|&x| f64::from(x)).collect()
}

/// vector to `integer[]`, rounding each element to the nearest integer.
#[pg_extern(immutable, strict, parallel_safe, requires = ["vector_type"])]
pub fn vector_to_int4(v: VectorArg, _typmod: i32, _explicit: bool) -> Vec<i32> {
    v.as_slice()
        .iter()
        .map(|&x| {
            let r = x.round();
            if (i32::MIN as f32..i32::MAX as f32).contains(&r) {
                r as i32
            } else {
                crate::sql_error!(
                    ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                    "vector element {x} is out of range for type integer"
                )
            }
        })
        .collect()
}
