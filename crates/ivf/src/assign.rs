//! The nearest centroid of many rows at once, for the build's second pass.
//!
//! Scoring rows one by one streams every centroid through the cache once per row (at 784-d
//! and 245 lists, 750 KiB per row); a cache-blocked matrix product of a batch of rows with all
//! centroids does the same arithmetic from cache. Its scores carry a different rounding than
//! the index's kernel, so every centroid within the product's error bound of the best is
//! scored again with the kernel: the answer is always the one `centroids::nearest_in` gives (the check
//! in inspect.rs relies on it), usually after one or two exact scores per row.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

#[cfg(test)]
use crate::centroids::nearest_in;
use crate::metric::Metric;

/// Rows per matrix product: enough to repay packing the centroids for it, few enough that
/// the scores (rows x lists) stay in the L2 cache.
const ROWS_PER_BLOCK: usize = 256;

/// Centroids prepared for batch assignment.
pub(crate) struct Assigner<'c> {
    centroids: &'c [f32],
    dims: usize,
    lists: usize,
    metric: Metric,
    /// Squared norm of each centroid.
    norms: Vec<f32>,
    max_norm: f32,
}

impl<'c> Assigner<'c> {
    pub(crate) fn new(centroids: &'c [f32], dims: usize, metric: Metric) -> Self {
        let norms: Vec<f32> = centroids
            .chunks_exact(dims)
            .map(fashrec_distance::norm_squared)
            .collect();
        let max_norm = norms.iter().copied().fold(0.0, f32::max);
        Assigner {
            centroids,
            dims,
            lists: norms.len(),
            metric,
            norms,
            max_norm,
        }
    }

    /// Writes the nearest list of each row of `rows` (prepared vectors, one after another)
    /// into `out`: the one `centroids::nearest_in` gives.
    pub(crate) fn nearest(&self, rows: &[f32], out: &mut [u32]) {
        let scorer = self.metric.scorer();
        self.candidates(rows, 1, |i, row, candidates| {
            let mut winner = (f32::INFINITY, 0u32);
            for j in candidates {
                let score = scorer(row, self.centroid(j), winner.0);
                if score.total_cmp(&winner.0).is_lt() {
                    winner = (score, j as u32);
                }
            }
            out[i] = winner.1;
        });
    }

    /// Centroid `j`.
    pub(crate) fn centroid(&self, j: usize) -> &[f32] {
        &self.centroids[j * self.dims..(j + 1) * self.dims]
    }

    /// Calls `visit(i, row, candidates)` for each row of `rows`, where `candidates` yields, in
    /// increasing order, every centroid that can be among the row's `rank` nearest by the
    /// kernel's score (and a few more): those whose approximate score is within twice the
    /// error bound of the `rank`-th best approximate score.
    pub(crate) fn candidates(
        &self,
        rows: &[f32],
        rank: usize,
        mut visit: impl FnMut(usize, &[f32], &mut dyn Iterator<Item = usize>),
    ) {
        let (dims, lists) = (self.dims, self.lists);
        if lists == 0 || dims == 0 {
            return;
        }
        let l2 = self.metric == Metric::L2;
        let mut dots = vec![0.0f32; ROWS_PER_BLOCK * lists];
        for (b, block) in rows.chunks(ROWS_PER_BLOCK * dims).enumerate() {
            let m = block.len() / dims;
            let products = ArrayView2::from_shape((m, dims), &block[..m * dims]).and_then(|a| {
                let c = ArrayView2::from_shape((lists, dims), self.centroids)?;
                let out = ArrayViewMut2::from_shape((m, lists), &mut dots[..m * lists])?;
                Ok((a, c, out))
            });
            let all_lists = products.is_err();
            if let Ok((a, c, mut out)) = products {
                general_mat_mul(1.0, &a, &c.t(), 0.0, &mut out);
            }
            for i in 0..m {
                let row = &block[i * dims..(i + 1) * dims];
                let dots = &dots[i * lists..(i + 1) * lists];
                let approx = |j: usize| {
                    if l2 {
                        self.norms[j] - 2.0 * dots[j]
                    } else {
                        -dots[j]
                    }
                };
                let threshold =
                    kth_smallest((0..lists).map(approx), rank) + 2.0 * self.error_bound(row);
                let index = b * ROWS_PER_BLOCK + i;
                if all_lists || !threshold.is_finite() {
                    // Not reached with finite vectors (their shapes follow from the lengths):
                    // score every centroid.
                    visit(index, row, &mut (0..lists));
                } else {
                    visit(
                        index,
                        row,
                        &mut (0..lists).filter(|&j| approx(j) <= threshold),
                    );
                }
            }
        }
    }

    /// A bound on how far an approximate score (the matrix product's, shifted by the row's
    /// constant norm under L2) and the kernel's score can each be from the true value: a
    /// float sum of n products errs by at most n * epsilon times the sum of their magnitudes
    /// (here bounded by the norms); doubled for the two ways of summing, doubled again to spare.
    fn error_bound(&self, row: &[f32]) -> f32 {
        let row_norm = fashrec_distance::norm_squared(row);
        let terms = (self.dims + 4) as f32 * f32::EPSILON * 4.0;
        match self.metric {
            // |x - c|^2 <= 2(|x|^2 + |c|^2) and 2|x.c| <= |x|^2 + |c|^2
            Metric::L2 => terms * 2.0 * (row_norm + self.max_norm),
            Metric::Cosine | Metric::InnerProduct => terms * (row_norm * self.max_norm).sqrt(),
        }
    }
}

/// The `rank`-th smallest of `values` (1-based; infinity if there are fewer).
fn kth_smallest(values: impl Iterator<Item = f32>, rank: usize) -> f32 {
    let mut smallest = [f32::INFINITY; 2];
    let rank = rank.clamp(1, smallest.len());
    for v in values {
        if let Some(at) = smallest[..rank].iter().position(|&s| v < s) {
            smallest.copy_within(at..rank - 1, at + 1);
            smallest[at] = v;
        }
    }
    smallest[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random(n: usize, rng: &mut Rng, scale: f32) -> Vec<f32> {
        (0..n).map(|_| (rng.unit() as f32 - 0.5) * scale).collect()
    }

    #[test]
    fn agrees_with_the_kernel_row_by_row() {
        let mut rng = Rng::new(7);
        for (dims, lists, metric, scale) in [
            (784, 37, Metric::L2, 255.0),
            (64, 245, Metric::L2, 1.0),
            (3, 5, Metric::L2, 1e6),
            (200, 50, Metric::InnerProduct, 2.0),
            (130, 19, Metric::Cosine, 1.0),
        ] {
            let centroids = random(dims * lists, &mut rng, scale);
            let mut rows = random(dims * 300, &mut rng, scale);
            // Rows equal to a centroid, and exact ties between two equal centroids.
            rows[..dims].copy_from_slice(&centroids[..dims]);
            let mut centroids = centroids;
            let (first, rest) = centroids.split_at_mut(dims);
            rest[(lists - 2) * dims..].copy_from_slice(first);
            let assigner = Assigner::new(&centroids, dims, metric);
            let mut out = vec![u32::MAX; 300];
            assigner.nearest(&rows, &mut out);
            for (i, &list) in out.iter().enumerate() {
                let row = &rows[i * dims..(i + 1) * dims];
                assert_eq!(
                    list,
                    nearest_in(&centroids, dims, metric.scorer(), row),
                    "{dims}-d {metric:?} row {i}"
                );
            }
            assert_eq!(out[0], 0, "a tie goes to the lower list");
        }
    }

    #[test]
    fn zero_rows_go_to_the_first_list() {
        let centroids = vec![1.0, 0.0, 0.0, 1.0];
        let assigner = Assigner::new(&centroids, 2, Metric::Cosine);
        let mut out = vec![9; 2];
        assigner.nearest(&[0.0; 4], &mut out);
        assert_eq!(out, vec![0, 0]);
    }
}
