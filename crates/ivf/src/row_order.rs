//! The order in which a build stores each list's rows: by their attributes' keys, so that a
//! page holds few distinct values and narrow key ranges (see [`crate::key_ranges`]), and a
//! filtered scan reads only the pages that hold passing rows.
//!
//! Only the first attribute of the order keeps a value's rows in one run per list; every later
//! one is split into a run per combination of the attributes before it, and each run costs a
//! page or two read for the few rows at its ends. So the attribute with the most distinct keys
//! comes first: its filters are the most selective, and they are the ones whose pages must be
//! contiguous, while a filter on a column of a few values (a gender) passes a large share of
//! the pages anyway. Measured on 784-d Fashion-MNIST, a category (10 values, filter 10%) after
//! id % 4: 4928 queries per second, first: 6783 (examples/filtered_index.rs as committed, and
//! with its first two attributes swapped; bench/sql/filtered.md). An attribute with
//! more than [`MANY_KEYS`] distinct keys (a price) comes last: ordered first, it would leave the
//! others no runs at all.

use std::collections::HashSet;

use crate::attributes::stored_keys;

/// Distinct keys past which an attribute is ordered after the others.
const MANY_KEYS: usize = 256;

/// The distinct keys of each attribute among the rows loaded so far, and the order they give.
#[derive(Debug)]
pub(crate) struct RowOrder {
    /// Per attribute its keys so far; `None` once there were more than `MANY_KEYS`.
    keys: Vec<Option<HashSet<u64>>>,
}

impl RowOrder {
    pub(crate) fn new(attributes: usize) -> Self {
        RowOrder {
            keys: vec![Some(HashSet::new()); attributes],
        }
    }

    /// Counts the keys of one row, its attributes as stored (NULLs are not keys).
    pub(crate) fn count(&mut self, stored: &[u8]) {
        let attributes = self.keys.len();
        for (seen, key) in self.keys.iter_mut().zip(stored_keys(stored, attributes)) {
            if let (Some(keys), Some(key)) = (seen.as_mut(), key) {
                keys.insert(key);
                if keys.len() > MANY_KEYS {
                    *seen = None;
                }
            }
        }
    }

    /// The attributes in the order rows are sorted by: the most distinct keys first, the
    /// attributes with many keys last; ties keep the index's column order.
    pub(crate) fn attributes(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.keys.len()).collect();
        order.sort_by_key(|&a| match &self.keys[a] {
            Some(keys) => (0, usize::MAX - keys.len()),
            None => (1, 0),
        });
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::{encoded, int_key};

    #[test]
    fn the_attribute_with_most_keys_comes_first_and_one_with_many_last() {
        let mut order = RowOrder::new(3);
        assert_eq!(order.attributes(), [0, 1, 2], "no rows: the column order");
        for i in 0..1000i64 {
            // Attribute 0: 4 keys; 1: 10 keys (and NULLs, which do not count); 2: 1000 keys.
            let category = (i % 3 != 0).then(|| int_key(i % 10));
            order.count(&encoded(&[
                Some(int_key(i % 4)),
                category,
                Some(int_key(i)),
            ]));
        }
        assert_eq!(order.attributes(), [1, 0, 2]);
        let mut tie = RowOrder::new(2);
        tie.count(&encoded(&[Some(int_key(1)), Some(int_key(2))]));
        assert_eq!(
            tie.attributes(),
            [0, 1],
            "equal counts keep the column order"
        );
    }
}
