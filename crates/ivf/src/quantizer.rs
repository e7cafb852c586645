//! Scalar quantisation: a one-byte code per dimension, scanned before the full vectors.
//!
//! Each dimension has an offset and a step, fitted on the k-means sample at build: the code
//! `c` of a value `x` is `round((x - offset) / step)` clamped to 0..=255, and stands for
//! `offset + c * step`. A code page holds about four times the rows of a list page, so a scan
//! reads the codes of a list, derives from each a *lower bound* of the row's true score, and
//! reads a row's full vector only when that bound reaches the top of its candidates (see
//! [`crate::scan`] and [`crate::searcher`]). Results stay exactly ordered by the true score.
//!
//! # The bound
//!
//! Every code item carries a radius `R`, an upper bound of `r = |x - x^|`, the distance
//! between the stored vector `x` and its decoded vector `x^` (computed in f64 and rounded up;
//! values outside the fitted range clamp and simply get a larger `r`). `u = 2^-24` is f32's
//! unit roundoff and `g = (dims + 16) * 2u` covers the rounding of a sum of `dims` f32 terms
//! (Higham's `gamma_(dims+2)`, twice over). With `q` the prepared query:
//!
//! - L2, `R >= r`. The kernel sums `d_i = c_i step_i + (offset_i - q_i)`, the shift rounded
//!   once and the sum once or twice, so each `d_i` is within `u (|c_i step_i| + |offset_i -
//!   q_i|)` of `(1 + u) (x^_i - q_i)`, and the sum `A` of their squares within `g`; as
//!   `|c step| <= |x^ - q| + |offset - q|`, `|x^ - q| >= sqrt(A) (1 - g) - 4u |offset - q|`.
//!   The triangle inequality gives `|x - q| >= |x^ - q| - r`, and the exact f32 score is at
//!   least `|x - q|^2 (1 - g)`. The key is `max(0, sqrt(A) (1 - g) - 4u |offset - q| - R)^2
//!   (1 - g)`.
//! - Inner product and cosine (score `-q.x`), `R >= r (1 + g) + 2g |x|`. The kernel's `T ~ sum
//!   c_i (q_i step_i)` is within `g |q| |c step| <= g |q| (|x| + r + |offset|)` of its true
//!   value, and `q.x^ = q.offset + T`; Cauchy-Schwarz bounds `|q.(x - x^)| <= |q| r`, and the
//!   exact f32 score is within `g |q| |x|` of `-q.x`. The key is `-(q.offset + T) - |q| (R +
//!   g |offset|)`.
//!
//! Keys are computed in f64 and rounded down to f32; anything not finite becomes -infinity,
//! which is a bound of every score.

use fashrec_distance::CodeKernels;

use crate::error::{Error, Result};
use crate::meta::Meta;
use crate::metric::Metric;
use crate::page::{Page, PageKind, PAGE_SIZE};
use crate::storage::Relation;

/// Code values: 0..=255.
const LEVELS: f64 = 255.0;

/// f32 values on one quantiser page (the area after our page fields).
const FLOATS_PER_PAGE: usize = (PAGE_SIZE - 32) / 4;

/// `g`: the relative slack that covers f32 rounding of sums of `dims` terms.
fn slack(dims: usize) -> f64 {
    (dims as f64 + 16.0) * f32::EPSILON as f64
}

/// `4u`: the slack of a few roundings of one value.
const ROUNDING: f64 = 2.0 * f32::EPSILON as f64;

/// Per-dimension offsets and steps, in stored dimension order, for an index of one metric.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Quantizer {
    metric: Metric,
    offset: Vec<f32>,
    step: Vec<f32>,
    /// |offset|, for the inner-product bound.
    offset_norm: f64,
}

impl Quantizer {
    fn from_parts(metric: Metric, offset: Vec<f32>, step: Vec<f32>) -> Quantizer {
        let offset_norm = norm(offset.iter().map(|&o| o as f64));
        Quantizer {
            metric,
            offset,
            step,
            offset_norm,
        }
    }

    /// Fits each dimension's range on `samples` (prepared vectors, one after another): the
    /// smallest value maps to code 0 and the largest to 255. Without samples every code is 0
    /// and every radius the vector's norm: correct, only useless.
    pub(crate) fn fit(metric: Metric, samples: &[f32], dims: usize) -> Quantizer {
        let mut low = vec![f32::INFINITY; dims];
        let mut high = vec![f32::NEG_INFINITY; dims];
        for row in samples.chunks_exact(dims) {
            for ((l, h), &x) in low.iter_mut().zip(high.iter_mut()).zip(row) {
                *l = l.min(x);
                *h = h.max(x);
            }
        }
        let (mut offset, mut step) = (Vec::with_capacity(dims), Vec::with_capacity(dims));
        for (&l, &h) in low.iter().zip(&high) {
            if l <= h {
                offset.push(l);
                // In f64, where the range of two f32 values cannot overflow.
                step.push(((h as f64 - l as f64) / LEVELS) as f32);
            } else {
                offset.push(0.0);
                step.push(0.0);
            }
        }
        Quantizer::from_parts(metric, offset, step)
    }

    /// Writes the code of a prepared vector into `code` and returns its radius (see the
    /// module documentation), +infinity if it is not finite.
    pub(crate) fn encode(&self, vector: &[f32], code: &mut Vec<u8>) -> f32 {
        code.clear();
        let (mut error, mut norm) = (0f64, 0f64);
        for ((&x, &offset), &step) in vector.iter().zip(&self.offset).zip(&self.step) {
            let (x, offset, step) = (x as f64, offset as f64, step as f64);
            let c = if step > 0.0 {
                ((x - offset) / step).round().clamp(0.0, LEVELS)
            } else {
                0.0
            };
            code.push(c as u8);
            let decoded = offset + c * step;
            error += (x - decoded) * (x - decoded);
            norm += x * x;
        }
        let radius = match self.metric {
            Metric::L2 => error.sqrt(),
            Metric::Cosine | Metric::InnerProduct => {
                let g = slack(vector.len());
                error.sqrt() * (1.0 + g) + 2.0 * g * norm.sqrt()
            }
        };
        round_up(radius)
    }

    /// Pages the quantiser of `dims` dimensions takes.
    pub(crate) fn pages(dims: usize) -> u32 {
        (2 * dims).div_ceil(FLOATS_PER_PAGE) as u32
    }

    /// Formats `page` as quantiser page number `index`: offsets then steps, continued from
    /// page to page.
    pub(crate) fn write_page(&self, index: u32, page: &mut Page) {
        page.init(PageKind::Quantizer);
        let all: Vec<f32> = self.offset.iter().chain(&self.step).copied().collect();
        let start = index as usize * FLOATS_PER_PAGE;
        let part = &all[start.min(all.len())..(start + FLOATS_PER_PAGE).min(all.len())];
        let words = page.words_mut();
        for (word, &value) in words.iter_mut().zip(part) {
            *word = value.to_bits();
        }
        page.set_lower(32 + part.len() * 4);
    }

    /// Reads the quantiser pages of an index with codes.
    pub(crate) fn read<R: Relation>(rel: &R, meta: &Meta) -> Result<Quantizer> {
        let Some(region) = meta.codes else {
            return Err(Error::corrupt(0, "the index has no codes"));
        };
        let (first, dims) = (region.quantizer, meta.dims as usize);
        let mut all = Vec::with_capacity(2 * dims);
        for index in 0..Quantizer::pages(dims) {
            let block = first + index;
            let page = rel.read(block)?;
            page.expect_kind(PageKind::Quantizer, block)?;
            let take = (2 * dims - all.len()).min(FLOATS_PER_PAGE);
            all.extend(page.words()[..take].iter().map(|&w| f32::from_bits(w)));
        }
        let step = all.split_off(dims);
        if all.iter().chain(&step).any(|x| !x.is_finite()) || step.iter().any(|&s| s < 0.0) {
            return Err(Error::corrupt(first, "quantiser parameters are not finite"));
        }
        Ok(Quantizer::from_parts(meta.metric, all, step))
    }

    /// The decoded vector of a code (for checks).
    pub(crate) fn decode<'a>(&'a self, code: &'a [u8]) -> impl Iterator<Item = f64> + 'a {
        code.iter()
            .zip(self.offset.iter().zip(&self.step))
            .map(|(&c, (&offset, &step))| offset as f64 + c as f64 * step as f64)
    }

    /// Prepares a query (in stored form) for computing keys from codes.
    pub(crate) fn query(&self, query: &[f32]) -> CodeQuery {
        self.query_with(fashrec_distance::active_code_kernels(), query)
    }

    /// The same with the given kernels.
    fn query_with(&self, kernels: &CodeKernels, query: &[f32]) -> CodeQuery {
        let g = slack(query.len());
        match self.metric {
            Metric::L2 => {
                let distance = norm(self.offset.iter().zip(query).map(|(&o, &q)| o as f64 - q as f64));
                CodeQuery::L2 {
                    kernel: kernels.l2_squared,
                    step: self.step.clone(),
                    shift: self.offset.iter().zip(query).map(|(&o, &q)| o - q).collect(),
                    g,
                    rounding: ROUNDING * distance,
                }
            }
            Metric::Cosine | Metric::InnerProduct => CodeQuery::Dot {
                kernel: kernels.dot,
                weights: query.iter().zip(&self.step).map(|(&q, &s)| q * s).collect(),
                base: query.iter().zip(&self.offset).map(|(&q, &o)| q as f64 * o as f64).sum(),
                query_norm: norm(query.iter().map(|&q| q as f64)) * (1.0 + g),
                rounding: g * self.offset_norm,
            },
        }
    }
}

/// A query prepared for one quantiser: what turns a code into a lower bound of the score
/// (the terms are those of the module documentation).
#[derive(Clone, Debug)]
pub(crate) enum CodeQuery {
    L2 {
        kernel: fn(&[u8], &[f32], &[f32]) -> f32,
        step: Vec<f32>,
        /// `offset - q`.
        shift: Vec<f32>,
        g: f64,
        /// `4u |offset - q|`.
        rounding: f64,
    },
    Dot {
        kernel: fn(&[u8], &[f32]) -> f32,
        /// `q * step`.
        weights: Vec<f32>,
        /// `q . offset`.
        base: f64,
        /// `|q|`, rounded up.
        query_norm: f64,
        /// `g |offset|`.
        rounding: f64,
    },
}

impl CodeQuery {
    /// A lower bound of the exact score of the row this code and radius stand for.
    #[inline]
    pub(crate) fn key(&self, code: &[u8], radius: f32) -> f32 {
        let bound = match self {
            CodeQuery::L2 {
                kernel,
                step,
                shift,
                g,
                rounding,
            } => {
                let a = kernel(code, step, shift) as f64;
                let reach = a.sqrt() * (1.0 - g) - rounding - radius as f64;
                if !a.is_finite() {
                    f64::NEG_INFINITY
                } else if reach > 0.0 {
                    reach * reach * (1.0 - g)
                } else {
                    0.0
                }
            }
            CodeQuery::Dot {
                kernel,
                weights,
                base,
                query_norm,
                rounding,
            } => {
                let t = kernel(code, weights) as f64;
                if t.is_finite() {
                    -(base + t) - query_norm * (radius as f64 + rounding)
                } else {
                    f64::NEG_INFINITY
                }
            }
        };
        round_down(bound)
    }
}

/// The Euclidean norm of some values, in f64.
fn norm(values: impl Iterator<Item = f64>) -> f64 {
    values.map(|x| x * x).sum::<f64>().sqrt()
}

/// The largest f32 at most `x` (-infinity for NaN).
fn round_down(x: f64) -> f32 {
    if x.is_nan() {
        return f32::NEG_INFINITY;
    }
    let y = x as f32;
    if y as f64 > x {
        y.next_down()
    } else {
        y
    }
}

/// The smallest f32 at least `x` (+infinity for NaN or anything past f32).
fn round_up(x: f64) -> f32 {
    if x.is_nan() {
        return f32::INFINITY;
    }
    let y = x as f32;
    if (y as f64) < x {
        y.next_up()
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exact_score(metric: Metric, q: &[f32], x: &[f32]) -> f32 {
        metric.score(q, x)
    }

    /// Codes of `rows` under a quantiser fitted on `fit_rows`; every key is at most the score.
    fn assert_bounds(metric: Metric, dims: usize, fit_rows: &[Vec<f32>], rows: &[Vec<f32>], q: &[f32]) {
        let mut prepared_fit = Vec::new();
        let mut scratch = Vec::new();
        for row in fit_rows {
            if metric.prepare(row, dims, &mut scratch).unwrap() {
                prepared_fit.extend_from_slice(&scratch);
            }
        }
        let quantizer = Quantizer::fit(metric, &prepared_fit, dims);
        let mut query = Vec::new();
        metric.prepare(q, dims, &mut query).unwrap();
        let mut code = Vec::new();
        for (kernels, row) in fashrec_distance::available_code_kernels()
            .iter()
            .flat_map(|k| rows.iter().map(move |row| (k, row)))
        {
            let prepared = quantizer.query_with(kernels, &query);
            let mut x = Vec::new();
            if !metric.prepare(row, dims, &mut x).unwrap() {
                continue;
            }
            let radius = quantizer.encode(&x, &mut code);
            let decoded: Vec<f64> = quantizer.decode(&code).collect();
            let error: f64 = decoded
                .iter()
                .zip(&x)
                .map(|(d, &x)| (d - x as f64).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!(error <= radius as f64, "radius {radius} below the error {error}");
            let key = prepared.key(&code, radius);
            let score = exact_score(metric, &query, &x);
            assert!(
                key.total_cmp(&score).is_le(),
                "{metric:?} {}: key {key} above the score {score}",
                kernels.name
            );
        }
    }

    #[test]
    fn codes_of_fitted_integers_are_exact() {
        // Values 0..=255 in every dimension: step 1, every code exact, radius only rounding.
        let dims = 16;
        let rows: Vec<Vec<f32>> = (0..256).map(|i| vec![i as f32; dims]).collect();
        let samples: Vec<f32> = rows.concat();
        let quantizer = Quantizer::fit(Metric::L2, &samples, dims);
        let mut code = Vec::new();
        let radius = quantizer.encode(&rows[77], &mut code);
        assert_eq!(code, vec![77u8; dims]);
        assert_eq!(radius, 0.0);
        // Outside the fitted range: clamped, and the radius says how far off it is.
        let radius = quantizer.encode(&vec![300.0; dims], &mut code);
        assert_eq!(code, vec![255u8; dims]);
        assert!(radius >= 45.0 * 4.0, "{radius}");
    }

    #[test]
    fn pages_round_trip() {
        let dims = 1500; // more than one page of floats
        let samples: Vec<f32> = (0..3 * dims).map(|i| (i % 97) as f32 - 40.0).collect();
        let quantizer = Quantizer::fit(Metric::InnerProduct, &samples, dims);
        assert_eq!(Quantizer::pages(dims), 2);
        let mut pages = Vec::new();
        for index in 0..Quantizer::pages(dims) {
            let mut page = Page::zeroed();
            quantizer.write_page(index, &mut page);
            pages.push(page);
        }
        let rel = crate::MemoryRelation::new();
        for page in &pages {
            let mut ws = crate::Relation::begin(&rel);
            let (slot, _) = crate::WriteSet::extend(&mut ws).unwrap();
            crate::WriteSet::page_mut(&mut ws, slot).copy_from(page);
        }
        let mut meta = Meta::new(dims, 1, Metric::InnerProduct, true).unwrap();
        if let Some(region) = &mut meta.codes {
            region.quantizer = 0;
        }
        assert_eq!(Quantizer::read(&rel, &meta).unwrap(), quantizer);
    }

    #[test]
    fn empty_samples_still_bound() {
        let rows = vec![vec![1.0f32, -2.0, 3.0], vec![0.0, 0.0, 0.0]];
        for metric in [Metric::L2, Metric::Cosine, Metric::InnerProduct] {
            assert_bounds(metric, 3, &[], &rows, &[0.5, 0.5, -1.0]);
        }
    }

    #[test]
    fn huge_values_give_bounds_not_overflow() {
        let big = f32::MAX / 2.0;
        let rows = vec![vec![big, -big, 1.0], vec![-big, big, -1.0], vec![0.0, 1.0, 2.0]];
        for metric in [Metric::L2, Metric::Cosine, Metric::InnerProduct] {
            assert_bounds(metric, 3, &rows, &rows, &[big, big, 0.0]);
            assert_bounds(metric, 3, &rows, &rows, &[1.0, -1.0, 0.5]);
        }
    }

    fn metric() -> impl Strategy<Value = Metric> {
        prop_oneof![
            Just(Metric::L2),
            Just(Metric::Cosine),
            Just(Metric::InnerProduct)
        ]
    }

    proptest! {
        #[test]
        fn keys_never_exceed_scores(
            metric in metric(),
            (dims, fit_rows, rows, q, scale) in (1usize..70).prop_flat_map(|dims| (
                Just(dims),
                prop::collection::vec(prop::collection::vec(-1.0f32..1.0, dims), 0..20),
                // Rows may fall outside the fitted range.
                prop::collection::vec(prop::collection::vec(-1.5f32..1.5, dims), 1..20),
                prop::collection::vec(-2.0f32..2.0, dims),
                prop_oneof![Just(1.0f32), Just(1e-3), Just(1e4), Just(1e12)],
            )),
        ) {
            let scaled = |rows: Vec<Vec<f32>>| -> Vec<Vec<f32>> {
                rows.into_iter().map(|r| r.into_iter().map(|x| x * scale).collect()).collect()
            };
            let q: Vec<f32> = q.iter().map(|x| x * scale).collect();
            let (fit_rows, rows) = (scaled(fit_rows), scaled(rows));
            assert_bounds(metric, dims, &fit_rows, &rows, &q);
            // A row as its own query: the tightest case for L2 (score 0 or close).
            for row in rows.iter().take(3) {
                assert_bounds(metric, dims, &fit_rows, &rows, row);
            }
        }
    }
}
