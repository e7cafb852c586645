//! The code kernels (one byte per dimension against per-dimension floats) of every
//! implementation this CPU runs, and the dispatched API, against an f64 reference.

use fashrec_distance::{available_code_kernels, code_dot, code_l2_squared, CodeKernels};
use proptest::collection::vec;
use proptest::prelude::*;

/// Every implementation this CPU runs, plus the dispatched public API as one more entry.
fn kernels_under_test() -> Vec<CodeKernels> {
    let mut all = available_code_kernels();
    all.push(CodeKernels {
        name: "dispatched",
        l2_squared: code_l2_squared,
        dot: code_dot,
    });
    all
}

/// Each term's inner value may be rounded twice (product, then sum) and the square once more,
/// then the sum of n terms rounds: (n + 8) * 2^-23 of the sum of the terms' magnitudes bounds
/// all of it.
fn tolerance(n: usize, magnitude: f64) -> f64 {
    (n as f64 + 8.0) * f64::from(f32::EPSILON) * magnitude + f64::from(f32::MIN_POSITIVE)
}

fn check(code: &[u8], scale: &[f32], shift: &[f32]) {
    let n = code.len();
    let terms = || {
        code.iter()
            .zip(scale)
            .zip(shift)
            .map(|((&c, &s), &t)| (f64::from(c) * f64::from(s), f64::from(t)))
    };
    let l2: f64 = terms().map(|(cs, t)| (cs + t).powi(2)).sum();
    let l2_magnitude: f64 = terms().map(|(cs, t)| (cs.abs() + t.abs()).powi(2)).sum();
    let dot: f64 = terms().map(|(cs, _)| cs).sum();
    let dot_magnitude: f64 = terms().map(|(cs, _)| cs.abs()).sum();
    for k in kernels_under_test() {
        let got = f64::from((k.l2_squared)(code, scale, shift));
        assert!(
            (got - l2).abs() <= tolerance(n, l2_magnitude),
            "{} l2_squared n={n}: got {got}, want {l2}",
            k.name
        );
        let got = f64::from((k.dot)(code, scale));
        assert!(
            (got - dot).abs() <= tolerance(n, dot_magnitude),
            "{} dot n={n}: got {got}, want {dot}",
            k.name
        );
    }
}

/// Small integers make every partial sum exact, so every kernel must be exact: this catches a
/// lane read twice or skipped, which a tolerance could hide.
fn check_exact(code: &[u8], scale: &[f32], shift: &[f32]) {
    let l2: i64 = code
        .iter()
        .zip(scale)
        .zip(shift)
        .map(|((&c, &s), &t)| (c as i64 * s as i64 + t as i64).pow(2))
        .sum();
    let dot: i64 = code.iter().zip(scale).map(|(&c, &s)| c as i64 * s as i64).sum();
    for k in kernels_under_test() {
        let n = code.len();
        assert_eq!((k.l2_squared)(code, scale, shift), l2 as f32, "{} l2 n={n}", k.name);
        assert_eq!((k.dot)(code, scale), dot as f32, "{} dot n={n}", k.name);
    }
}

/// Lengths around the lane count and the unroll block (8, 32) are where tails go wrong; the
/// offsets give unaligned starts.
#[test]
fn every_short_length_and_block_boundary() {
    let mut seed = 0x1234_5678u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for n in (0..=40).chain([63, 64, 65, 783, 784, 785]) {
        for skip in 0..4 {
            // Codes below 32 keep every sum below 2^24, where f32 integers are exact.
            let code: Vec<u8> = (0..n + skip).map(|_| next() as u8 % 32).collect();
            let scale: Vec<f32> = (0..n + skip).map(|_| (next() % 7) as f32 - 3.0).collect();
            let shift: Vec<f32> = (0..n + skip).map(|_| (next() % 9) as f32 - 4.0).collect();
            let (code, scale, shift) = (&code[skip..], &scale[..n], &shift[skip..]);
            check_exact(code, scale, shift);
            let fraction = |v: &[f32]| v.iter().map(|x| x * 0.173).collect::<Vec<_>>();
            check(code, &fraction(scale), &fraction(shift));
            let full: Vec<u8> = code.iter().map(|&c| c.wrapping_mul(8)).collect();
            check(&full, &fraction(scale), &fraction(shift));
        }
    }
}

#[test]
fn extreme_codes_are_read_as_unsigned() {
    let code = [0u8, 255, 128, 127, 1, 254, 255, 0, 200];
    let ones = [1.0f32; 9];
    let zeros = [0.0f32; 9];
    for k in kernels_under_test() {
        assert_eq!((k.dot)(&code, &ones), 1220.0, "{}", k.name);
        let squares: f32 = code.iter().map(|&c| f32::from(c) * f32::from(c)).sum();
        assert_eq!((k.l2_squared)(&code, &ones, &zeros), squares, "{}", k.name);
    }
}

/// Release builds compare mismatched lengths over the shortest instead of reading past one.
#[cfg(not(debug_assertions))]
#[test]
fn mismatched_lengths_use_the_shortest_in_release() {
    let code = [3u8; 50];
    let long = [1.0f32; 50];
    for k in kernels_under_test() {
        assert_eq!((k.dot)(&code[..9], &long), 27.0, "{}", k.name);
        assert_eq!((k.l2_squared)(&code, &long[..17], &long), 17.0 * 16.0, "{}", k.name);
    }
}

#[test]
fn the_best_detected_kernel_is_active() {
    let names: Vec<_> = available_code_kernels().iter().map(|k| k.name).collect();
    assert_eq!(names.first(), Some(&"scalar"));
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        assert_eq!(names.last(), Some(&"avx2+fma"));
    }
    assert_eq!(
        Some(&fashrec_distance::active_code_kernels().name),
        names.last()
    );
}

proptest! {
    #[test]
    fn kernels_match_reference(
        (code, scale, shift) in (0usize..2000).prop_flat_map(|n| (
            vec(any::<u8>(), n),
            vec(-10.0f32..10.0, n),
            vec(-2000.0f32..2000.0, n),
        ))
    ) {
        check(&code, &scale, &shift);
    }
}
