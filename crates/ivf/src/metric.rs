//! Distance metrics, and how vectors are prepared so that one kernel orders them.
//!
//! Every distance is turned into a *score*: smaller is nearer, and results are ordered by
//! score (IEEE total order), then by heap pointer.
//! - L2: the squared Euclidean distance (the square root does not change the order).
//! - Inner product: the negative inner product, which is pgvector's `<#>` value.
//! - Cosine: vectors are scaled to unit length when they are built, inserted or queried, and
//!   the score is the negative inner product of the unit vectors, i.e. cosine distance - 1.
//!   Scaling once at write time makes the scan loop the same single dot product as inner
//!   product, with no norms per candidate. A zero vector has no direction: it is stored as
//!   zeros with a flag and always scores +infinity, so it sorts last, as its NaN cosine
//!   distance does in PostgreSQL.

use std::sync::OnceLock;

use crate::error::{Error, Result};

/// How the index measures distance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Euclidean distance (`<->`).
    L2,
    /// Cosine distance (`<=>`).
    Cosine,
    /// Negative inner product (`<#>`).
    InnerProduct,
}

/// A scoring kernel: smaller is nearer. Given a bound, it may stop early once the score is
/// sure to exceed it and return any value above the bound; below it the score is exact.
pub(crate) type Scorer = fn(&[f32], &[f32], f32) -> f32;

/// Dimensions per partial sum of the L2 score.
pub(crate) const L2_CHUNK: usize = 128;

impl Metric {
    /// The number stored on the meta page.
    pub(crate) fn id(self) -> u32 {
        match self {
            Metric::L2 => 1,
            Metric::Cosine => 2,
            Metric::InnerProduct => 3,
        }
    }

    /// The metric a stored number names.
    pub(crate) fn from_id(id: u32) -> Option<Metric> {
        match id {
            1 => Some(Metric::L2),
            2 => Some(Metric::Cosine),
            3 => Some(Metric::InnerProduct),
            _ => None,
        }
    }

    /// The kernel that scores a prepared query against a stored vector.
    pub(crate) fn scorer(self) -> Scorer {
        match self {
            Metric::L2 => l2_bounded,
            Metric::Cosine | Metric::InnerProduct => negative_dot,
        }
    }

    /// Score of two prepared vectors (see the module documentation).
    pub fn score(self, a: &[f32], b: &[f32]) -> f32 {
        (self.scorer())(a, b, f32::INFINITY)
    }

    /// Checks `vector` and writes the form the index stores and compares into `out`; returns
    /// false for a zero vector under cosine (which is then stored as zeros, flagged).
    pub fn prepare(self, vector: &[f32], dims: usize, out: &mut Vec<f32>) -> Result<bool> {
        check(vector, dims)?;
        out.clear();
        out.extend_from_slice(vector);
        Ok(self.finish(out))
    }

    /// Scales a checked vector in place: to unit length for cosine. Returns false for a zero
    /// vector under cosine.
    pub(crate) fn finish(self, vector: &mut [f32]) -> bool {
        if self != Metric::Cosine {
            return true;
        }
        // f64 so that huge elements do not overflow the norm to infinity.
        let norm = vector
            .iter()
            .map(|&x| x as f64 * x as f64)
            .sum::<f64>()
            .sqrt();
        if norm == 0.0 {
            return false;
        }
        for x in vector.iter_mut() {
            *x = (*x as f64 / norm) as f32;
        }
        true
    }

    /// The SQL distance a score stands for: `<->`, `<=>` or `<#>` as pgvector computes them.
    pub fn distance(self, score: f32) -> f64 {
        match self {
            Metric::L2 => (score as f64).sqrt(),
            Metric::Cosine if score.is_infinite() => f64::NAN,
            Metric::Cosine => 1.0 + score as f64,
            Metric::InnerProduct => score as f64,
        }
    }
}

/// Checks a vector's length and that every element is finite.
pub(crate) fn check(vector: &[f32], dims: usize) -> Result<()> {
    if vector.len() != dims {
        return Err(Error::DimensionMismatch {
            expected: dims as u32,
            actual: vector.len(),
        });
    }
    match vector.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(Error::NotFinite { index }),
        None => Ok(()),
    }
}

/// Squared L2 as a sum of SIMD partial sums over 128 dimensions, stopping once past `bound`.
///
/// Each partial sum is non-negative and float addition is monotone, so a running total above
/// the bound proves the full score is too: the top-k loop skips the rest of a far vector, about
/// half of the bytes on Fashion-MNIST. The chunking is part of the score's definition (it
/// rounds a little differently from one long sum), so every caller uses this function.
pub(crate) fn l2_bounded(a: &[f32], b: &[f32], bound: f32) -> f32 {
    let kernel = l2_kernel();
    if a.len() <= L2_CHUNK {
        // One partial sum: the same value as the loop below (0 + x == x), without the loop.
        return kernel(a, b);
    }
    let mut sum = 0.0;
    for (x, y) in a.chunks(L2_CHUNK).zip(b.chunks(L2_CHUNK)) {
        sum += kernel(x, y);
        if sum > bound {
            break;
        }
    }
    sum
}

/// The squared-L2 kernel fashrec-distance picked for this CPU, looked up once: the scan calls
/// it for every stored vector, and going through the dispatching wrapper each time costs a
/// measurable share at 64 dimensions.
fn l2_kernel() -> Kernel {
    static KERNEL: OnceLock<Kernel> = OnceLock::new();
    *KERNEL.get_or_init(|| {
        fashrec_distance::available_kernels()
            .last()
            .map_or(fashrec_distance::l2_squared as Kernel, |k| k.l2_squared)
    })
}

/// A distance kernel of fashrec-distance.
type Kernel = fn(&[f32], &[f32]) -> f32;

/// 0 - a.b: positive zero rather than -0.0 when orthogonal, and NaN (from inf - inf, only with
/// huge elements) mapped to +infinity so that it sorts last.
fn negative_dot(a: &[f32], b: &[f32], _bound: f32) -> f32 {
    let score = 0.0 - fashrec_distance::dot(a, b);
    if score.is_nan() {
        f32::INFINITY
    } else {
        score
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for metric in [Metric::L2, Metric::Cosine, Metric::InnerProduct] {
            assert_eq!(Metric::from_id(metric.id()), Some(metric));
        }
        assert_eq!(Metric::from_id(0), None);
    }

    #[test]
    fn prepare_checks_and_normalises() {
        let mut out = Vec::new();
        assert!(Metric::L2.prepare(&[3.0, 4.0], 3, &mut out).is_err());
        assert_eq!(
            Metric::L2.prepare(&[1.0, f32::NAN], 2, &mut out),
            Err(Error::NotFinite { index: 1 })
        );
        assert!(Metric::Cosine.prepare(&[3.0, 4.0], 2, &mut out).unwrap());
        assert_eq!(out, vec![0.6, 0.8]);
        assert!(!Metric::Cosine.prepare(&[0.0, 0.0], 2, &mut out).unwrap());
        assert!(Metric::InnerProduct
            .prepare(&[3.0, 4.0], 2, &mut out)
            .unwrap());
        assert_eq!(out, vec![3.0, 4.0]);
        let mut huge = Vec::new();
        Metric::Cosine
            .prepare(&[f32::MAX, f32::MAX], 2, &mut huge)
            .unwrap();
        assert!((huge[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    }

    #[test]
    fn scores_order_like_sql_distances() {
        let (a, b) = ([1.0f32, 0.0], [0.0f32, 2.0]);
        assert_eq!(Metric::L2.score(&a, &b), 5.0);
        assert_eq!(Metric::L2.distance(5.0), 5f64.sqrt());
        assert_eq!(Metric::InnerProduct.score(&a, &[3.0, 1.0]), -3.0);
        // Orthogonal: +0, never -0, so ties compare equal under the total order.
        assert!(Metric::InnerProduct.score(&a, &b).is_sign_positive());
        assert_eq!(Metric::Cosine.distance(-1.0), 0.0);
        assert!(Metric::Cosine.distance(f32::INFINITY).is_nan());
        let big = [f32::MAX, -f32::MAX];
        assert_eq!(
            Metric::InnerProduct.score(&big, &[f32::MAX, f32::MAX]),
            f32::INFINITY
        );
    }
}
