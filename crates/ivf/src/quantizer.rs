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
//! A query becomes per-dimension weights `w`, rounded to 16 bits at a scale `s` around their
//! centre `m` (`|w_i - m - s w'_i| <= s / 2`), so the code kernel's integer sum `T' = sum c_i
//! w'_i` is exact and `T = s T' + m sum c_i` is within `s/2 * sum c_i` of `sum c_i w_i`.
//! Every code item carries `sum c_i`, the decoded vector's `|x^ - offset|^2` (rounded down) and
//! a radius `R` covering `r = |x - x^|`, the distance from the stored vector `x` to its decoded
//! vector `x^` (computed in f64 and rounded up; values outside the fitted range clamp and
//! simply get a larger `r`). With `q` the prepared query and `g = (dims + 16) * 2^-23`, which
//! covers the f32 rounding of the exact score (a sum of `dims` terms: Higham's
//! `gamma_(dims+2)`, twice over):
//!
//! - L2, `R >= r`, `w = (q - offset) * step`: `|q - x^|^2 = |q - offset|^2 - 2 sum c_i w_i +
//!   |x^ - offset|^2`, which gives a lower bound `A` of it; the triangle inequality gives `|x -
//!   q| >= |x^ - q| - r`, and the exact f32 score is at least `|x - q|^2 (1 - g)`. The key is
//!   `max(0, sqrt(A) - R)^2 (1 - g)`.
//! - Inner product and cosine (score `-q.x`), `R >= r + g |x|`, `w = q * step`: `q.x^ =
//!   q.offset + sum c_i w_i`, Cauchy-Schwarz bounds `|q.(x - x^)| <= |q| r`, and the exact f32
//!   score is within `g |q| |x|` of `-q.x`. The key is `-(q.offset + T) - s/2 sum c_i - |q|
//!   R`.
//!
//! Keys are computed in f64 with a relative margin of 1e-10 for its rounding, then rounded
//! down to f32; anything not finite becomes -infinity, which is a bound of every score.

use bytemuck::{Pod, Zeroable};
use fashrec_distance::CodeKernel;

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

/// The relative margin for the f64 arithmetic of a key.
const F64_MARGIN: f64 = 1e-10;

/// The largest weight magnitude: 16 bits, symmetric.
const WEIGHT_MAX: f64 = i16::MAX as f64;

/// Per-dimension offsets and steps, in stored dimension order, for an index of one metric.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Quantizer {
    metric: Metric,
    offset: Vec<f32>,
    step: Vec<f32>,
    /// |offset|, for the inner-product bound's rounding margin.
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

    /// Writes the code of a prepared vector into `code` and returns what its bound needs (see
    /// the module documentation); a radius that is not finite becomes +infinity.
    pub(crate) fn encode(&self, vector: &[f32], code: &mut Vec<u8>) -> CodeTerms {
        code.clear();
        let (mut error, mut norm, mut square, mut sum) = (0f64, 0f64, 0f64, 0u32);
        for ((&x, &offset), &step) in vector.iter().zip(&self.offset).zip(&self.step) {
            let (x, offset, step) = (x as f64, offset as f64, step as f64);
            let c = if step > 0.0 {
                ((x - offset) / step).round().clamp(0.0, LEVELS)
            } else {
                0.0
            };
            code.push(c as u8);
            sum += c as u32;
            square += (c * step) * (c * step);
            let decoded = offset + c * step;
            error += (x - decoded) * (x - decoded);
            norm += x * x;
        }
        let radius = match self.metric {
            Metric::L2 => error.sqrt(),
            Metric::Cosine | Metric::InnerProduct => {
                error.sqrt() + slack(vector.len()) * norm.sqrt()
            }
        };
        CodeTerms {
            radius: round_up(radius),
            sum,
            square: round_down(square).max(0.0),
        }
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

    /// The decoded vector of a code.
    #[cfg(test)]
    fn decode<'a>(&'a self, code: &'a [u8]) -> impl Iterator<Item = f64> + 'a {
        code.iter()
            .zip(self.offset.iter().zip(&self.step))
            .map(|(&c, (&offset, &step))| offset as f64 + c as f64 * step as f64)
    }

    /// Prepares a query (in stored form) for computing keys from codes.
    pub(crate) fn query(&self, query: &[f32]) -> CodeQuery {
        self.query_with(fashrec_distance::active_code_kernel(), query)
    }

    /// The same with the given kernel.
    fn query_with(&self, kernel: &CodeKernel, query: &[f32]) -> CodeQuery {
        let terms = self.step.iter().zip(&self.offset).zip(query);
        let (weights, bound): (Vec<f64>, Bound) = match self.metric {
            Metric::L2 => (
                terms
                    .map(|((&s, &o), &q)| (q as f64 - o as f64) * s as f64)
                    .collect(),
                Bound::L2 {
                    distance: norm(
                        self.offset
                            .iter()
                            .zip(query)
                            .map(|(&o, &q)| q as f64 - o as f64),
                    )
                    .powi(2),
                    g: slack(query.len()),
                },
            ),
            Metric::Cosine | Metric::InnerProduct => {
                (terms.map(|((&s, _), &q)| q as f64 * s as f64).collect(), {
                    let norm = norm(query.iter().map(|&q| q as f64));
                    Bound::Dot {
                        base: query
                            .iter()
                            .zip(&self.offset)
                            .map(|(&q, &o)| q as f64 * o as f64)
                            .sum(),
                        // Bounds the sum of |q_i offset_i|, which the base's rounding is
                        // relative to.
                        base_size: norm * self.offset_norm,
                        norm,
                    }
                })
            }
        };
        // Weights are rounded relative to their centre, which halves the range for weights
        // of one sign (the centre's share comes back through each code's sum).
        let low = weights.iter().fold(f64::INFINITY, |m, &w| m.min(w));
        let high = weights.iter().fold(f64::NEG_INFINITY, |m, &w| m.max(w));
        let centre = if low <= high { (low + high) / 2.0 } else { 0.0 };
        let scale = (high - centre) / WEIGHT_MAX;
        let weights = weights
            .iter()
            .map(|&w| {
                if scale > 0.0 {
                    ((w - centre) / scale)
                        .round()
                        .clamp(-WEIGHT_MAX, WEIGHT_MAX) as i16
                } else {
                    0
                }
            })
            .collect();
        CodeQuery {
            kernel: kernel.dot,
            weights,
            scale,
            centre,
            bound,
        }
    }
}

/// What a code item carries for its bound (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct CodeTerms {
    /// Covers the distance from the vector to the decoded vector.
    pub radius: f32,
    /// The sum of the code's values.
    pub sum: u32,
    /// `|x^ - offset|^2`, rounded down.
    pub square: f32,
}

/// A query prepared for one quantiser: what turns a code into a lower bound of the score.
#[derive(Clone, Debug)]
pub(crate) struct CodeQuery {
    kernel: fn(&[u8], &[i16]) -> i64,
    /// The query's weights less `centre`, rounded to 16 bits at `scale`.
    weights: Vec<i16>,
    scale: f64,
    centre: f64,
    bound: Bound,
}

/// The terms of the bound that depend on the query only.
#[derive(Clone, Copy, Debug)]
enum Bound {
    /// `|q - offset|^2`, and the slack of the exact score.
    L2 { distance: f64, g: f64 },
    /// `q . offset`, `|q| |offset|` and `|q|`.
    Dot {
        base: f64,
        base_size: f64,
        norm: f64,
    },
}

impl CodeQuery {
    /// A lower bound of the exact score of the row that `code` with `terms` stands for.
    #[inline]
    pub(crate) fn key(&self, code: &[u8], terms: CodeTerms) -> f32 {
        let (scaled, centred) = (
            self.scale * (self.kernel)(code, &self.weights) as f64,
            self.centre * terms.sum as f64,
        );
        let t = scaled + centred;
        // The size of the terms, for the f64 rounding margin.
        let size = scaled.abs() + centred.abs();
        // How far `t` may be from the sum with unrounded weights.
        let rounding = 0.5 * self.scale * terms.sum as f64;
        let radius = terms.radius as f64;
        let bound = match self.bound {
            Bound::L2 { distance, g } => {
                let square = terms.square as f64;
                let margin = F64_MARGIN * (distance + 2.0 * (size + rounding) + square);
                let low = distance - 2.0 * (t + rounding) + square - margin;
                let reach = low.max(0.0).sqrt() - radius;
                if reach > 0.0 {
                    reach * reach * (1.0 - g)
                } else if reach.is_nan() {
                    f64::NEG_INFINITY
                } else {
                    0.0
                }
            }
            Bound::Dot {
                base,
                base_size,
                norm,
            } => {
                let slack = rounding + norm * radius;
                -(base + t) - slack - F64_MARGIN * (base_size + size + slack)
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
    fn assert_bounds(
        metric: Metric,
        dims: usize,
        fit_rows: &[Vec<f32>],
        rows: &[Vec<f32>],
        q: &[f32],
    ) {
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
        for (kernel, row) in fashrec_distance::available_code_kernels()
            .iter()
            .flat_map(|k| rows.iter().map(move |row| (k, row)))
        {
            let prepared = quantizer.query_with(kernel, &query);
            let mut x = Vec::new();
            if !metric.prepare(row, dims, &mut x).unwrap() {
                continue;
            }
            let terms = quantizer.encode(&x, &mut code);
            let decoded: Vec<f64> = quantizer.decode(&code).collect();
            let error: f64 = decoded
                .iter()
                .zip(&x)
                .map(|(d, &x)| (d - x as f64).powi(2))
                .sum::<f64>()
                .sqrt();
            let radius = terms.radius;
            assert!(
                error <= radius as f64,
                "radius {radius} below the error {error}"
            );
            let key = prepared.key(&code, terms);
            let score = exact_score(metric, &query, &x);
            assert!(
                key.total_cmp(&score).is_le(),
                "{metric:?} {}: key {key} above the score {score}",
                kernel.name
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
        let terms = quantizer.encode(&rows[77], &mut code);
        assert_eq!(code, vec![77u8; dims]);
        assert_eq!(
            terms,
            CodeTerms {
                radius: 0.0,
                sum: 77 * 16,
                square: 77.0 * 77.0 * 16.0
            }
        );
        // Outside the fitted range: clamped, and the radius says how far off it is.
        let terms = quantizer.encode(&vec![300.0; dims], &mut code);
        assert_eq!(code, vec![255u8; dims]);
        assert!(terms.radius >= 45.0 * 4.0, "{terms:?}");
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
        let rows = vec![
            vec![big, -big, 1.0],
            vec![-big, big, -1.0],
            vec![0.0, 1.0, 2.0],
        ];
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
            (dims, fit_rows, rows, q, scale, shift) in (1usize..70).prop_flat_map(|dims| (
                Just(dims),
                prop::collection::vec(prop::collection::vec(-1.0f32..1.0, dims), 0..20),
                // Rows may fall outside the fitted range.
                prop::collection::vec(prop::collection::vec(-1.5f32..1.5, dims), 1..20),
                prop::collection::vec(-2.0f32..2.0, dims),
                prop_oneof![Just(1.0f32), Just(1e-3), Just(1e4), Just(1e12)],
                // Far from the origin, offsets and the query dwarf the differences.
                prop_oneof![Just(0.0f32), Just(1e3), Just(-3e5)],
            )),
        ) {
            let scaled = |rows: Vec<Vec<f32>>| -> Vec<Vec<f32>> {
                rows.into_iter()
                    .map(|r| r.into_iter().map(|x| x * scale + shift * scale.min(1.0)).collect())
                    .collect()
            };
            let q: Vec<f32> = q.iter().map(|x| x * scale + shift * scale.min(1.0)).collect();
            let (fit_rows, rows) = (scaled(fit_rows), scaled(rows));
            assert_bounds(metric, dims, &fit_rows, &rows, &q);
            // A row as its own query: the tightest case for L2 (score 0 or close).
            for row in rows.iter().take(3) {
                assert_bounds(metric, dims, &fit_rows, &rows, row);
            }
        }
    }
}
