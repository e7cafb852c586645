//! Elementwise arithmetic and ordering, with pgvector's overflow rules.

use crate::VectorError;
use std::cmp::Ordering;

fn same_dims(a: &[f32], b: &[f32]) -> Result<(), VectorError> {
    if a.len() == b.len() {
        Ok(())
    } else {
        Err(VectorError::DifferentDims(a.len(), b.len()))
    }
}

fn finite(values: Vec<f32>) -> Result<Vec<f32>, VectorError> {
    if values.iter().all(|x| x.is_finite()) {
        Ok(values)
    } else {
        Err(VectorError::Overflow)
    }
}

/// Elementwise sum.
pub fn add(a: &[f32], b: &[f32]) -> Result<Vec<f32>, VectorError> {
    same_dims(a, b)?;
    finite(a.iter().zip(b).map(|(x, y)| x + y).collect())
}

/// Elementwise difference.
pub fn sub(a: &[f32], b: &[f32]) -> Result<Vec<f32>, VectorError> {
    same_dims(a, b)?;
    finite(a.iter().zip(b).map(|(x, y)| x - y).collect())
}

/// Elementwise product; a product of non-zeros that rounds to zero is an underflow error.
pub fn mul(a: &[f32], b: &[f32]) -> Result<Vec<f32>, VectorError> {
    same_dims(a, b)?;
    let out = finite(a.iter().zip(b).map(|(x, y)| x * y).collect())?;
    let underflow = out
        .iter()
        .zip(a.iter().zip(b))
        .any(|(r, (x, y))| *r == 0.0 && *x != 0.0 && *y != 0.0);
    if underflow {
        Err(VectorError::Underflow)
    } else {
        Ok(out)
    }
}

/// The vector scaled to unit length (a zero vector stays zero).
pub fn l2_normalize(a: &[f32]) -> Vec<f32> {
    let norm = a
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        .sqrt();
    if norm == 0.0 {
        return a.to_vec();
    }
    a.iter().map(|&x| (f64::from(x) / norm) as f32).collect()
}

/// Total order for btree: elementwise over the common prefix, then the shorter vector first.
pub fn compare(a: &[f32], b: &[f32]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match x.partial_cmp(y) {
            Some(Ordering::Equal) | None => {}
            Some(order) => return order,
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        assert_eq!(add(&[1.0, 2.0], &[3.0, 4.0]), Ok(vec![4.0, 6.0]));
        assert_eq!(sub(&[1.0, 2.0], &[3.0, 4.0]), Ok(vec![-2.0, -2.0]));
        assert_eq!(mul(&[1.0, 2.0], &[3.0, 4.0]), Ok(vec![3.0, 8.0]));
        assert_eq!(
            add(&[1.0], &[1.0, 2.0]),
            Err(VectorError::DifferentDims(1, 2))
        );
        assert_eq!(add(&[3e38], &[3e38]), Err(VectorError::Overflow));
        assert_eq!(mul(&[1e-30], &[1e-30]), Err(VectorError::Underflow));
    }

    #[test]
    fn normalize() {
        assert_eq!(l2_normalize(&[3.0, 4.0]), vec![0.6, 0.8]);
        assert_eq!(l2_normalize(&[0.0, 0.0]), vec![0.0, 0.0]);
    }

    #[test]
    fn ordering() {
        assert_eq!(compare(&[1.0, 2.0], &[1.0, 3.0]), Ordering::Less);
        assert_eq!(compare(&[1.0, 2.0], &[1.0]), Ordering::Greater);
        assert_eq!(compare(&[1.0, 2.0], &[1.0, 2.0]), Ordering::Equal);
    }
}
