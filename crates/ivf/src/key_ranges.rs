//! A page's key ranges: for each attribute, the least and the greatest key among the page's
//! rows (NULLs left out), kept between our page fields and the item headers of the list and
//! code pages of an index with attributes (on-disk version 6). A filtered scan tests them
//! before it reads a page's rows and skips the page if no row can pass. The build stores each
//! list's rows ordered by their attributes (see [`crate::row_order`]), so a page holds few
//! distinct values: asked for men's bags, a scan of a list that also holds women's bags and
//! men's shoes reads only the pages of men's bags. Rows inserted later only widen their page's
//! ranges; a vacuum narrows them again.
//!
//! Stored per attribute: the least key inverted (`!least`), then the greatest, native-endian
//! u64. An all-zero area is the empty range (least `u64::MAX`, greatest 0), which no test
//! passes, as a page without rows: a freshly initialised page needs nothing written.

use crate::attributes::{stored_keys, stored_word, Filter};

/// Bytes the ranges of `attributes` attributes take on a page.
pub(crate) fn bytes(attributes: usize) -> usize {
    16 * attributes
}

/// The least and the greatest key of attribute `attribute` (least > greatest: no key).
fn range(ranges: &[u8], attribute: usize) -> (u64, u64) {
    let word = |i: usize| stored_word(ranges, i).unwrap_or(0);
    (!word(2 * attribute), word(2 * attribute + 1))
}

fn set_range(ranges: &mut [u8], attribute: usize, (least, greatest): (u64, u64)) {
    let at = 16 * attribute;
    ranges[at..at + 8].copy_from_slice(&(!least).to_ne_bytes());
    ranges[at + 8..at + 16].copy_from_slice(&greatest.to_ne_bytes());
}

/// Widens the ranges to hold a row whose attributes are stored as `stored`.
pub(crate) fn widen(ranges: &mut [u8], stored: &[u8]) {
    let attributes = ranges.len() / 16;
    for (a, key) in stored_keys(stored, attributes).enumerate() {
        if let Some(key) = key {
            let (least, greatest) = range(ranges, a);
            set_range(ranges, a, (least.min(key), greatest.max(key)));
        }
    }
}

/// Whether the ranges hold every key of a row stored as `stored` (what `check` verifies).
pub(crate) fn hold(ranges: &[u8], stored: &[u8]) -> bool {
    let attributes = ranges.len() / 16;
    stored_keys(stored, attributes).enumerate().all(|(a, key)| {
        key.is_none_or(|key| {
            let (least, greatest) = range(ranges, a);
            (least..=greatest).contains(&key)
        })
    })
}

/// Whether a row of the page may pass `filter`: every test has some key in its range.
pub(crate) fn may_pass(ranges: &[u8], filter: &Filter) -> bool {
    let attributes = ranges.len() / 16;
    filter.tests().iter().all(|(attribute, test)| {
        *attribute >= attributes || {
            let (least, greatest) = range(ranges, *attribute);
            test.may_meet(least, greatest)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::{encoded as stored, int_key, Test};

    #[test]
    fn ranges_hold_what_was_added_and_pass_only_filters_it_may_meet() {
        let mut ranges = vec![0u8; bytes(2)];
        let men = |cat: i64| Filter::new().and(1, Test::AnyOf(vec![int_key(cat)]));
        assert!(!may_pass(&ranges, &men(3)), "an empty page passes nothing");
        assert!(!may_pass(&ranges, &Filter::new().and(0, Test::AtLeast(0))));
        assert!(may_pass(&ranges, &Filter::new()));
        widen(&mut ranges, &stored(&[Some(int_key(0)), Some(int_key(3))]));
        widen(&mut ranges, &stored(&[None, Some(int_key(5))]));
        assert!(may_pass(&ranges, &men(3)) && may_pass(&ranges, &men(5)));
        assert!(!may_pass(&ranges, &men(6)) && !may_pass(&ranges, &men(2)));
        assert!(may_pass(
            &ranges,
            &Filter::new().and(1, Test::AtMost(int_key(3)))
        ));
        assert!(!may_pass(
            &ranges,
            &Filter::new().and(1, Test::AtLeast(int_key(6)))
        ));
        let zero = Filter::new().and(0, Test::AnyOf(vec![int_key(0)]));
        assert!(may_pass(&ranges, &zero));
        assert!(!may_pass(&ranges, &zero.and(1, Test::AtLeast(int_key(9)))));
        assert!(hold(
            &ranges,
            &stored(&[Some(int_key(0)), Some(int_key(4))])
        ));
        assert!(hold(&ranges, &stored(&[None, None])));
        assert!(!hold(
            &ranges,
            &stored(&[Some(int_key(1)), Some(int_key(4))])
        ));
    }
}
