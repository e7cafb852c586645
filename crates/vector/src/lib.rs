//! The `vector` value without PostgreSQL: pgvector's text and binary formats, the checks every
//! vector must pass, and elementwise arithmetic. The extension maps each `VectorError` to an ERROR.

mod arith;
mod binary;
mod error;
mod text;

pub use arith::{add, compare, l2_normalize, mul, sub};
pub use binary::{decode_binary, encode_binary};
pub use error::VectorError;
pub use text::{format_text, parse_text};

/// The most dimensions a vector may have, as in pgvector.
pub const MAX_DIM: usize = 16000;

/// Checks that a vector has a storable number of dimensions.
pub fn check_dims(dims: usize) -> Result<(), VectorError> {
    if dims == 0 {
        Err(VectorError::Empty)
    } else if dims > MAX_DIM {
        Err(VectorError::TooManyDims(dims))
    } else {
        Ok(())
    }
}

/// Checks that an element is a finite number.
pub fn check_element(x: f32) -> Result<(), VectorError> {
    if x.is_nan() {
        Err(VectorError::NaN)
    } else if x.is_infinite() {
        Err(VectorError::Infinite)
    } else {
        Ok(())
    }
}

/// Checks a vector's dimensions against a column's typmod (`vector(n)`; -1 means any).
pub fn check_typmod(typmod: i32, dims: usize) -> Result<(), VectorError> {
    if typmod >= 0 && typmod as usize != dims {
        Err(VectorError::DimsMismatch {
            expected: typmod as usize,
            got: dims,
        })
    } else {
        Ok(())
    }
}

/// Checks dimension count and every element of a vector built from outside data.
pub fn check_vector(values: &[f32]) -> Result<(), VectorError> {
    check_dims(values.len())?;
    values.iter().try_for_each(|&x| check_element(x))
}

/// Checks a `vector(n)` typmod as written in a type name.
pub fn check_typmod_value(n: i32) -> Result<i32, VectorError> {
    if n < 1 {
        Err(VectorError::TypmodTooSmall)
    } else if n as usize > MAX_DIM {
        Err(VectorError::TypmodTooLarge)
    } else {
        Ok(n)
    }
}
