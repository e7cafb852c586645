//! The per-product random stream: SplitMix64 seeded from (catalog seed, product id).
//!
//! Written here rather than taken from `rand` because the catalog must stay the same across
//! dependency upgrades: `rand`'s sampling algorithms may change between versions, this won't.

/// A small deterministic generator; one per product, so attributes never depend on load order.
#[derive(Debug, Clone)]
pub struct ProductRng {
    state: u64,
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finaliser: a bijective mix of all 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl ProductRng {
    /// The stream of product `id` in the catalog of `seed`.
    pub fn new(seed: u64, id: u32) -> Self {
        // Mixing the id before xoring keeps neighbouring ids' streams unrelated.
        ProductRng {
            state: mix(seed) ^ mix(u64::from(id).wrapping_add(GOLDEN_GAMMA)),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix(self.state)
    }

    /// A number in 0..n (n > 0); the bias of the multiply-shift is below 2^-50 for our n.
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// One element of a non-empty slice, uniformly.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn with the given weights (at least one weight non-zero).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut ticket = self.below(total as usize) as u64;
        for (i, &w) in weights.iter().enumerate() {
            if ticket < u64::from(w) {
                return i;
            }
            ticket -= u64::from(w);
        }
        weights.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_id_give_the_same_stream() {
        let a: Vec<u64> = (0..4)
            .scan(ProductRng::new(7, 42), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..4)
            .scan(ProductRng::new(7, 42), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(ProductRng::new(7, 43).next_u64(), a[0]);
        assert_ne!(ProductRng::new(8, 42).next_u64(), a[0]);
    }

    #[test]
    fn stream_is_pinned() {
        // If this changes, every stored catalog changes: bump the default seed's docs too.
        assert_eq!(ProductRng::new(0, 0).next_u64(), 0xa706_dd2f_4d19_7e6f);
    }

    #[test]
    fn weighted_respects_zero_weights_and_proportions() {
        let mut r = ProductRng::new(1, 1);
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[r.weighted(&[0, 30, 70])] += 1;
        }
        assert_eq!(counts[0], 0);
        assert!((8_500..9_500).contains(&counts[1]), "{counts:?}");
    }
}
