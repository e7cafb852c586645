//! AVX-512 kernels: 16 lanes per register.
//!
//! The main loop keeps four independent accumulators per sum, because an FMA has a latency of
//! about four cycles and a single accumulator would serialise on it. The last partial block is
//! read with masked loads, which never touch (or fault on) masked-off lanes, so there is no
//! scalar tail.

use std::arch::x86_64::*;

use crate::Kernels;

const LANES: usize = 16;
const BLOCK: usize = 4 * LANES;

/// The AVX-512 kernel set, if this CPU (and OS) support AVX-512F.
pub(crate) fn kernels() -> Option<Kernels> {
    if is_x86_feature_detected!("avx512f") {
        Some(Kernels {
            name: "avx512",
            l2_squared,
            dot,
            norm_squared,
            dot_and_norms,
        })
    } else {
        None
    }
}

// The safe wrappers below are private and handed out only by `kernels()`, after it has checked
// the CPU; that check is what makes calling the `#[target_feature]` functions sound.

fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    // SAFETY: only reachable through `kernels()`, which verified avx512f.
    unsafe { l2_squared_avx512(a, b) }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    // SAFETY: only reachable through `kernels()`, which verified avx512f.
    unsafe { dot_avx512(a, b) }
}

fn norm_squared(a: &[f32]) -> f32 {
    // SAFETY: only reachable through `kernels()`, which verified avx512f.
    unsafe { dot_avx512(a, a) }
}

fn dot_and_norms(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
    debug_assert_eq!(a.len(), b.len());
    // SAFETY: only reachable through `kernels()`, which verified avx512f.
    unsafe { dot_and_norms_avx512(a, b) }
}

/// Mask selecting the first `min(remaining, 16)` lanes.
fn tail_mask(remaining: usize) -> __mmask16 {
    if remaining >= LANES {
        u16::MAX
    } else {
        (1u16 << remaining) - 1
    }
}

/// Sum of four accumulators, pairwise.
#[target_feature(enable = "avx512f")]
fn reduce(acc: [__m512; 4]) -> f32 {
    _mm512_reduce_add_ps(_mm512_add_ps(
        _mm512_add_ps(acc[0], acc[1]),
        _mm512_add_ps(acc[2], acc[3]),
    ))
}

#[target_feature(enable = "avx512f")]
fn l2_squared_avx512(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm512_setzero_ps(); 4];
    let mut i = 0;
    while i + BLOCK <= n {
        for (k, sum) in acc.iter_mut().enumerate() {
            let at = i + k * LANES;
            // SAFETY: at + 16 <= i + BLOCK <= n, which is within both slices.
            let (x, y) = unsafe { (_mm512_loadu_ps(pa.add(at)), _mm512_loadu_ps(pb.add(at))) };
            let d = _mm512_sub_ps(x, y);
            *sum = _mm512_fmadd_ps(d, d, *sum);
        }
        i += BLOCK;
    }
    while i < n {
        let mask = tail_mask(n - i);
        // SAFETY: i < n; the mask enables only lanes below n, and masked-off lanes are not read.
        let (x, y) = unsafe {
            (
                _mm512_maskz_loadu_ps(mask, pa.add(i)),
                _mm512_maskz_loadu_ps(mask, pb.add(i)),
            )
        };
        let d = _mm512_sub_ps(x, y);
        acc[0] = _mm512_fmadd_ps(d, d, acc[0]);
        i += LANES;
    }
    reduce(acc)
}

#[target_feature(enable = "avx512f")]
fn dot_avx512(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm512_setzero_ps(); 4];
    let mut i = 0;
    while i + BLOCK <= n {
        for (k, sum) in acc.iter_mut().enumerate() {
            let at = i + k * LANES;
            // SAFETY: at + 16 <= i + BLOCK <= n, which is within both slices.
            let (x, y) = unsafe { (_mm512_loadu_ps(pa.add(at)), _mm512_loadu_ps(pb.add(at))) };
            *sum = _mm512_fmadd_ps(x, y, *sum);
        }
        i += BLOCK;
    }
    while i < n {
        let mask = tail_mask(n - i);
        // SAFETY: i < n; the mask enables only lanes below n, and masked-off lanes are not read.
        let (x, y) = unsafe {
            (
                _mm512_maskz_loadu_ps(mask, pa.add(i)),
                _mm512_maskz_loadu_ps(mask, pb.add(i)),
            )
        };
        acc[0] = _mm512_fmadd_ps(x, y, acc[0]);
        i += LANES;
    }
    reduce(acc)
}

#[target_feature(enable = "avx512f")]
fn dot_and_norms_avx512(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    // Same order of operations for all three sums, so dot_and_norms(a, a) gives dot == |a|^2
    // bit for bit and the cosine distance of a vector with itself is exactly 0.
    let mut dot = [_mm512_setzero_ps(); 4];
    let mut norm_a = [_mm512_setzero_ps(); 4];
    let mut norm_b = [_mm512_setzero_ps(); 4];
    let mut i = 0;
    while i + BLOCK <= n {
        for k in 0..4 {
            let at = i + k * LANES;
            // SAFETY: at + 16 <= i + BLOCK <= n, which is within both slices.
            let (x, y) = unsafe { (_mm512_loadu_ps(pa.add(at)), _mm512_loadu_ps(pb.add(at))) };
            dot[k] = _mm512_fmadd_ps(x, y, dot[k]);
            norm_a[k] = _mm512_fmadd_ps(x, x, norm_a[k]);
            norm_b[k] = _mm512_fmadd_ps(y, y, norm_b[k]);
        }
        i += BLOCK;
    }
    while i < n {
        let mask = tail_mask(n - i);
        // SAFETY: i < n; the mask enables only lanes below n, and masked-off lanes are not read.
        let (x, y) = unsafe {
            (
                _mm512_maskz_loadu_ps(mask, pa.add(i)),
                _mm512_maskz_loadu_ps(mask, pb.add(i)),
            )
        };
        dot[0] = _mm512_fmadd_ps(x, y, dot[0]);
        norm_a[0] = _mm512_fmadd_ps(x, x, norm_a[0]);
        norm_b[0] = _mm512_fmadd_ps(y, y, norm_b[0]);
        i += LANES;
    }
    (reduce(dot), reduce(norm_a), reduce(norm_b))
}
