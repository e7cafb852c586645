//! Cosine distance from the three sums, following pgvector's `cosine_distance` exactly.

/// Cosine distance from dot(a,b), |a|^2 and |b|^2: 1 - similarity, similarity clamped to [-1, 1].
///
/// Returns NaN when either norm is 0 (a zero vector gives 0/0), as pgvector does. An index can
/// keep norms precomputed and call this directly.
pub fn cosine_from_sums(dot: f32, norm_a: f32, norm_b: f32) -> f64 {
    // sqrt of the product rather than the product of sqrts, as pgvector does: identical vectors
    // then give a similarity of exactly 1, since an f32 squared is exact in f64.
    let similarity = f64::from(dot) / (f64::from(norm_a) * f64::from(norm_b)).sqrt();
    // Rounding can push |similarity| a hair past 1; clamp keeps NaN as NaN.
    1.0 - similarity.clamp(-1.0, 1.0)
}
