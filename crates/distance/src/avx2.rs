//! AVX2 + FMA kernels: 8 lanes per register.
//!
//! The main loop keeps four independent accumulators per sum, because an FMA has a latency of
//! about four cycles and a single accumulator would serialise on it. The last partial block is
//! read with masked loads, so there is no scalar tail.

use std::arch::x86_64::*;

use crate::{CodeKernel, Kernels};

const LANES: usize = 8;
const BLOCK: usize = 4 * LANES;

/// The AVX2 kernel set, if this CPU has AVX2 and FMA.
pub(crate) fn kernels() -> Option<Kernels> {
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        Some(Kernels {
            name: "avx2+fma",
            l2_squared,
            dot,
            norm_squared,
            dot_and_norms,
        })
    } else {
        None
    }
}

/// The AVX2 code kernel, if this CPU has AVX2.
pub(crate) fn code_kernel() -> Option<CodeKernel> {
    if is_x86_feature_detected!("avx2") {
        Some(CodeKernel {
            name: "avx2",
            dot: code_dot,
        })
    } else {
        None
    }
}

// The safe wrappers below are private and handed out only by `kernels()`, after it has checked
// the CPU; that check is what makes calling the `#[target_feature]` functions sound.

fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    // SAFETY: only reachable through `kernels()`, which verified avx2 and fma.
    unsafe { l2_squared_avx2(a, b) }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    // SAFETY: only reachable through `kernels()`, which verified avx2 and fma.
    unsafe { dot_avx2(a, b) }
}

fn norm_squared(a: &[f32]) -> f32 {
    // SAFETY: only reachable through `kernels()`, which verified avx2 and fma.
    unsafe { dot_avx2(a, a) }
}

fn dot_and_norms(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
    debug_assert_eq!(a.len(), b.len());
    // SAFETY: only reachable through `kernels()`, which verified avx2 and fma.
    unsafe { dot_and_norms_avx2(a, b) }
}

fn code_dot(code: &[u8], weights: &[i16]) -> i64 {
    debug_assert_eq!(code.len(), weights.len());
    // SAFETY: only reachable through `code_kernel()`, which verified avx2.
    unsafe { code_dot_avx2(code, weights) }
}

/// Mask selecting the first `min(remaining, 8)` lanes, for `_mm256_maskload_ps`.
#[target_feature(enable = "avx2,fma")]
fn tail_mask(remaining: usize) -> __m256i {
    let live = remaining.min(LANES) as i32;
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(live),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

/// Sum of the 8 lanes.
#[target_feature(enable = "avx2,fma")]
fn horizontal_sum(v: __m256) -> f32 {
    let quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
    _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)))
}

/// Sum of four accumulators, pairwise.
#[target_feature(enable = "avx2,fma")]
fn reduce(acc: [__m256; 4]) -> f32 {
    horizontal_sum(_mm256_add_ps(
        _mm256_add_ps(acc[0], acc[1]),
        _mm256_add_ps(acc[2], acc[3]),
    ))
}

#[target_feature(enable = "avx2,fma")]
fn l2_squared_avx2(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + BLOCK <= n {
        for (k, sum) in acc.iter_mut().enumerate() {
            let at = i + k * LANES;
            // SAFETY: at + 8 <= i + BLOCK <= n, which is within both slices.
            let (x, y) = unsafe { (_mm256_loadu_ps(pa.add(at)), _mm256_loadu_ps(pb.add(at))) };
            let d = _mm256_sub_ps(x, y);
            *sum = _mm256_fmadd_ps(d, d, *sum);
        }
        i += BLOCK;
    }
    while i < n {
        let mask = tail_mask(n - i);
        // SAFETY: i < n; the mask enables only lanes below n, and masked-off lanes are not read.
        let (x, y) = unsafe {
            (
                _mm256_maskload_ps(pa.add(i), mask),
                _mm256_maskload_ps(pb.add(i), mask),
            )
        };
        let d = _mm256_sub_ps(x, y);
        acc[0] = _mm256_fmadd_ps(d, d, acc[0]);
        i += LANES;
    }
    reduce(acc)
}

#[target_feature(enable = "avx2,fma")]
fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + BLOCK <= n {
        for (k, sum) in acc.iter_mut().enumerate() {
            let at = i + k * LANES;
            // SAFETY: at + 8 <= i + BLOCK <= n, which is within both slices.
            let (x, y) = unsafe { (_mm256_loadu_ps(pa.add(at)), _mm256_loadu_ps(pb.add(at))) };
            *sum = _mm256_fmadd_ps(x, y, *sum);
        }
        i += BLOCK;
    }
    while i < n {
        let mask = tail_mask(n - i);
        // SAFETY: i < n; the mask enables only lanes below n, and masked-off lanes are not read.
        let (x, y) = unsafe {
            (
                _mm256_maskload_ps(pa.add(i), mask),
                _mm256_maskload_ps(pb.add(i), mask),
            )
        };
        acc[0] = _mm256_fmadd_ps(x, y, acc[0]);
        i += LANES;
    }
    reduce(acc)
}

#[target_feature(enable = "avx2,fma")]
fn dot_and_norms_avx2(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    // Same order of operations for all three sums, so dot_and_norms(a, a) gives dot == |a|^2
    // bit for bit and the cosine distance of a vector with itself is exactly 0.
    let mut dot = [_mm256_setzero_ps(); 4];
    let mut norm_a = [_mm256_setzero_ps(); 4];
    let mut norm_b = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + BLOCK <= n {
        for k in 0..4 {
            let at = i + k * LANES;
            // SAFETY: at + 8 <= i + BLOCK <= n, which is within both slices.
            let (x, y) = unsafe { (_mm256_loadu_ps(pa.add(at)), _mm256_loadu_ps(pb.add(at))) };
            dot[k] = _mm256_fmadd_ps(x, y, dot[k]);
            norm_a[k] = _mm256_fmadd_ps(x, x, norm_a[k]);
            norm_b[k] = _mm256_fmadd_ps(y, y, norm_b[k]);
        }
        i += BLOCK;
    }
    while i < n {
        let mask = tail_mask(n - i);
        // SAFETY: i < n; the mask enables only lanes below n, and masked-off lanes are not read.
        let (x, y) = unsafe {
            (
                _mm256_maskload_ps(pa.add(i), mask),
                _mm256_maskload_ps(pb.add(i), mask),
            )
        };
        dot[0] = _mm256_fmadd_ps(x, y, dot[0]);
        norm_a[0] = _mm256_fmadd_ps(x, x, norm_a[0]);
        norm_b[0] = _mm256_fmadd_ps(y, y, norm_b[0]);
        i += LANES;
    }
    (reduce(dot), reduce(norm_a), reduce(norm_b))
}

/// Codes per 16-bit lane group: one register of weights.
const CODE_LANES: usize = 16;

/// Dimensions summed in 32-bit lanes before they are added up in 64 bits. A lane gains at
/// most 2 * 255 * 32768 per step and takes one step in four (four accumulators) and at most
/// three more in the tail loop, so 4096 dimensions stay far below 2^31.
const CODE_SPAN: usize = 4096;

#[target_feature(enable = "avx2")]
fn code_dot_avx2(code: &[u8], weights: &[i16]) -> i64 {
    let n = code.len().min(weights.len());
    let mut total = 0i64;
    let mut start = 0;
    while start + CODE_LANES <= n {
        let end = (start + CODE_SPAN).min(n);
        let mut acc = [_mm256_setzero_si256(); 4];
        let mut i = start;
        while i + 4 * CODE_LANES <= end {
            for (k, sum) in acc.iter_mut().enumerate() {
                // SAFETY: i + 16k + 16 <= end <= n, within both slices.
                *sum = unsafe { code_dot_step(code, weights, i + k * CODE_LANES, *sum) };
            }
            i += 4 * CODE_LANES;
        }
        while i + CODE_LANES <= end {
            // SAFETY: i + 16 <= end <= n.
            acc[0] = unsafe { code_dot_step(code, weights, i, acc[0]) };
            i += CODE_LANES;
        }
        let mut lanes = [0i32; 32];
        for (k, sum) in acc.iter().enumerate() {
            // SAFETY: each write covers 8 of the 32 lanes, in bounds.
            unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().add(8 * k) as *mut __m256i, *sum) };
        }
        total += lanes.iter().map(|&x| i64::from(x)).sum::<i64>();
        start = i;
    }
    for j in start..n {
        total += i64::from(code[j]) * i64::from(weights[j]);
    }
    total
}

/// `sum + code * weight` for the 16 dimensions from `at`, in eight 32-bit lanes (each the sum
/// of two products, exact).
///
/// # Safety
/// `at + 16` elements must be readable in both slices.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn code_dot_step(code: &[u8], weights: &[i16], at: usize, sum: __m256i) -> __m256i {
    // SAFETY: the caller guarantees the reads; the loads have no alignment requirement.
    let (bytes, weight) = unsafe {
        (
            _mm_loadu_si128(code.as_ptr().add(at) as *const __m128i),
            _mm256_loadu_si256(weights.as_ptr().add(at) as *const __m256i),
        )
    };
    _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_cvtepu8_epi16(bytes), weight))
}
