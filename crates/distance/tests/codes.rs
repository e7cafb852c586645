//! The code kernel (one byte per dimension against 16-bit weights) of every implementation
//! this CPU runs, and the dispatched API: exact, so equal to an i64 reference.

use fashrec_distance::{available_code_kernels, code_dot, CodeKernel};
use proptest::collection::vec;
use proptest::prelude::*;

/// Every implementation this CPU runs, plus the dispatched public API as one more entry.
fn kernels_under_test() -> Vec<CodeKernel> {
    let mut all = available_code_kernels();
    all.push(CodeKernel {
        name: "dispatched",
        dot: code_dot,
    });
    all
}

fn reference(code: &[u8], weights: &[i16]) -> i64 {
    code.iter()
        .zip(weights)
        .map(|(&c, &w)| c as i64 * w as i64)
        .sum()
}

fn check(code: &[u8], weights: &[i16]) {
    let want = reference(code, weights);
    for k in kernels_under_test() {
        assert_eq!((k.dot)(code, weights), want, "{} n={}", k.name, code.len());
    }
}

/// Lengths around the lane count, the unroll block and the 32-bit span (16, 64, 4096) are
/// where tails and overflow go wrong; the offsets give unaligned starts.
#[test]
fn every_short_length_and_block_boundary() {
    let mut seed = 0x1234_5678u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let lengths = (0..=80).chain([127, 128, 129, 783, 784, 785, 4095, 4096, 4097, 8200]);
    for n in lengths {
        for skip in 0..3 {
            let code: Vec<u8> = (0..n + skip).map(|_| next() as u8).collect();
            let weights: Vec<i16> = (0..n + skip).map(|_| next() as i16).collect();
            check(&code[skip..], &weights[..n]);
        }
    }
}

/// The largest products everywhere: what could overflow 32-bit lanes does not.
#[test]
fn extreme_values_are_exact() {
    for n in [16, 64, 4096, 4096 + 64 * 3 + 15, 10_000] {
        let code = vec![255u8; n];
        for weight in [i16::MAX, i16::MIN, -1, 1] {
            check(&code, &vec![weight; n]);
        }
    }
    let code = [0u8, 255, 128, 127, 1, 254, 255, 0, 200];
    for k in kernels_under_test() {
        assert_eq!((k.dot)(&code, &[1; 9]), 1220, "{}", k.name);
        assert_eq!((k.dot)(&code, &[-2; 9]), -2440, "{}", k.name);
    }
}

/// Release builds compare mismatched lengths over the shorter instead of reading past one.
#[cfg(not(debug_assertions))]
#[test]
fn mismatched_lengths_use_the_shorter_in_release() {
    let code = [3u8; 50];
    let weights = [2i16; 50];
    for k in kernels_under_test() {
        assert_eq!((k.dot)(&code[..17], &weights), 102, "{}", k.name);
        assert_eq!((k.dot)(&code, &weights[..33]), 198, "{}", k.name);
    }
}

#[test]
fn the_best_detected_kernel_is_active() {
    let names: Vec<_> = available_code_kernels().iter().map(|k| k.name).collect();
    assert_eq!(names.first(), Some(&"scalar"));
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        assert_eq!(names.last(), Some(&"avx2"));
    }
    assert_eq!(
        Some(&fashrec_distance::active_code_kernel().name),
        names.last()
    );
}

proptest! {
    #[test]
    fn kernels_match_reference(
        (code, weights) in (0usize..3000).prop_flat_map(|n| (
            vec(any::<u8>(), n),
            vec(any::<i16>(), n),
        ))
    ) {
        check(&code, &weights);
    }
}
