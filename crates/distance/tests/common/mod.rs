//! The implementations under test and deterministic test data, shared by the test files.

use fashrec_distance::{available_kernels, Kernels};

/// Every implementation this CPU runs, plus the dispatched public API as one more entry.
pub fn kernels_under_test() -> Vec<Kernels> {
    let mut all = available_kernels();
    all.push(Kernels {
        name: "dispatched",
        l2_squared: fashrec_distance::l2_squared,
        dot: fashrec_distance::dot,
        norm_squared: fashrec_distance::norm_squared,
        dot_and_norms: fashrec_distance::dot_and_norms,
    });
    all
}

/// Deterministic pseudo-random numbers (xorshift64*), so plain tests need no RNG crate.
pub struct Numbers(u64);

impl Numbers {
    pub fn new(seed: u64) -> Self {
        Numbers(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A value in [-1, 1).
    pub fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
        bits as f32 / (1u64 << 23) as f32 - 1.0
    }

    pub fn vector(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.next_f32()).collect()
    }
}
