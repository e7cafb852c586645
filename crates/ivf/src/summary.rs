//! List summaries: for each list and each attribute its rows store, how many rows have a key in
//! each of 32 buckets (a hash of the key), and the least and the greatest key; then, for each
//! pair of the first four attributes, how many rows have each combination of the two keys (64
//! buckets of a hash of both). A filtered scan reads a list's summary, one small item on a
//! summary page, before the list, and skips the list when no row of it can pass the filter: a
//! Sneaker query filtered to dresses then reads the dress lists near it, not the sneaker lists
//! in between; and `category = 3 AND g = 0` skips a list that has category 3 and g 0, but never
//! in one row (at 2.5% a third of the lists read held no passing row without the pairs).
//!
//! A summary may claim more than the list holds, never less: a row is counted in its own atomic
//! change before the change that stores it, and uncounted after vacuum has removed it, so a
//! crash in between leaves a row counted that is not there (a list read for nothing), never a
//! row a scan would skip. The key range only widens: vacuum cannot narrow it without racing
//! concurrent inserts; the counts say when no key is left at all. NULLs pass no test and are
//! not counted. Indexes built before summaries existed (on-disk version 3) have none and are
//! scanned as before; those built before pair counts (version 4) have summaries without them.

use crate::attributes::{stored_keys, Filter, Test};
use crate::block::BlockNumber;
use crate::error::{Error, Result};
use crate::item::SummaryItem;
use crate::page::{Layout, PageKind};
use crate::storage::{Relation, WriteSet};

/// Buckets per attribute: a category or gender column has a few values, which then rarely
/// share a bucket with the value a query asks for.
const BUCKETS: usize = 32;
/// Words per attribute: the bucket counts, then the least and the greatest key (two each).
const WORDS_PER_ATTRIBUTE: usize = BUCKETS + 4;

/// Buckets per pair of attributes: a gender and a category make a few dozen combinations.
const PAIR_BUCKETS: usize = 64;
/// Pairs are counted among the first this many attributes (6 pairs, 384 words), so that a
/// summary stays a few to a page.
const PAIR_ATTRIBUTES: usize = 4;
/// A filter asking for more combinations of a pair than this is not checked on the pair.
const MAX_PAIR_PROBES: usize = 64;

/// The bucket of a key: its top bits after a multiplicative hash (keys of integers are
/// consecutive, keys of text are hashes already).
fn bucket(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BUCKETS.trailing_zeros())) as usize
}

/// The bucket of a combination of two keys.
fn pair_bucket(a: u64, b: u64) -> usize {
    let mixed = (a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    (mixed >> (64 - PAIR_BUCKETS.trailing_zeros())) as usize
}

/// Pairs among `paired` attributes.
fn pair_count(paired: usize) -> usize {
    paired * paired.saturating_sub(1) / 2
}

/// The pairs among the first `paired` attributes, in the order their counts are stored.
fn pairs(paired: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..paired).flat_map(move |i| (i + 1..paired).map(move |j| (i, j)))
}

fn key_at(words: &[u32]) -> u64 {
    words[0] as u64 | (words[1] as u64) << 32
}

fn set_key(words: &mut [u32], key: u64) {
    words[0] = key as u32;
    words[1] = (key >> 32) as u32;
}

/// Where the summary pages are: one item per list, in list order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SummaryRegion {
    pub first: BlockNumber,
    pub pages: u32,
    pub layout: Layout<SummaryItem, u32>,
    attributes: usize,
    /// Attributes whose pairs are counted (0 in an index built before pair counts).
    paired: usize,
}

impl SummaryRegion {
    /// The region of `lists` summaries of `attributes` attributes each, from block `first`;
    /// `pairs` counts pairs of attributes (every index built since version 5).
    pub(crate) fn new(
        attributes: usize,
        lists: u32,
        first: BlockNumber,
        pairs: bool,
    ) -> Option<Self> {
        let paired = if pairs && attributes > 1 {
            attributes.min(PAIR_ATTRIBUTES)
        } else {
            0
        };
        let words = attributes * WORDS_PER_ATTRIBUTE + pair_count(paired) * PAIR_BUCKETS;
        let layout = Layout::new(words)?;
        Some(SummaryRegion {
            first,
            pages: lists.div_ceil(layout.capacity() as u32),
            layout,
            attributes,
            paired,
        })
    }

    /// Whether pairs of attributes are counted.
    pub(crate) fn counts_pairs(&self) -> bool {
        self.paired > 0
    }

    /// The summary page and item index that hold `list`.
    pub(crate) fn slot(&self, list: u32) -> (BlockNumber, usize) {
        let per_page = self.layout.capacity() as u32;
        (self.first + list / per_page, (list % per_page) as usize)
    }

    /// Items on summary page `index` of an index with `lists` lists.
    pub(crate) fn items_on(&self, index: u32, lists: u32) -> usize {
        let per_page = self.layout.capacity() as u32;
        lists.saturating_sub(index * per_page).min(per_page) as usize
    }

    /// The values of a summary that has counted nothing.
    pub(crate) fn empty(&self) -> Vec<u32> {
        let mut values = vec![0; self.layout.dims()];
        let singles = self.singles();
        for part in values[..singles].chunks_exact_mut(WORDS_PER_ATTRIBUTE) {
            set_key(&mut part[BUCKETS..], u64::MAX);
        }
        values
    }

    /// Words of the single attributes' part, before the pairs' part.
    fn singles(&self) -> usize {
        self.attributes * WORDS_PER_ATTRIBUTE
    }

    /// The attributes' part and the pairs' part of a summary's values.
    fn parts<'v>(&self, values: &'v [u32]) -> (&'v [u32], &'v [u32]) {
        values.split_at(self.singles().min(values.len()))
    }

    /// Counts one row, whose attributes are stored as `stored`, into a summary's values
    /// (`Change::Add`), or takes a removed one out (`Change::Remove`: the key range stays).
    pub(crate) fn count(&self, values: &mut [u32], stored: &[u8], change: Change) {
        let mut keys = [None; crate::MAX_ATTRIBUTES];
        for (slot, key) in keys.iter_mut().zip(stored_keys(stored, self.attributes)) {
            *slot = key;
        }
        let step = |slot: &mut u32| {
            *slot = match change {
                Change::Add => slot.saturating_add(1),
                Change::Remove => slot.saturating_sub(1),
            }
        };
        let (singles, paired) = values.split_at_mut(self.singles().min(values.len()));
        for (part, key) in singles.chunks_exact_mut(WORDS_PER_ATTRIBUTE).zip(keys) {
            let Some(key) = key else { continue };
            step(&mut part[bucket(key)]);
            if change == Change::Add {
                if key < key_at(&part[BUCKETS..]) {
                    set_key(&mut part[BUCKETS..], key);
                }
                if key > key_at(&part[BUCKETS + 2..]) {
                    set_key(&mut part[BUCKETS + 2..], key);
                }
            }
        }
        for (counts, (i, j)) in paired
            .chunks_exact_mut(PAIR_BUCKETS)
            .zip(pairs(self.paired))
        {
            if let (Some(a), Some(b)) = (keys[i], keys[j]) {
                step(&mut counts[pair_bucket(a, b)]);
            }
        }
    }

    /// Whether a list with this summary may hold a row that passes `filter`.
    pub(crate) fn may_pass(&self, filter: &Filter, values: &[u32]) -> bool {
        let (singles, paired) = self.parts(values);
        let singles_pass = filter.tests().iter().all(|(attribute, test)| {
            let Some(part) = singles.chunks_exact(WORDS_PER_ATTRIBUTE).nth(*attribute) else {
                return true;
            };
            let counts = &part[..BUCKETS];
            let (least, greatest) = (key_at(&part[BUCKETS..]), key_at(&part[BUCKETS + 2..]));
            counts.iter().any(|&c| c > 0)
                && match test {
                    Test::AnyOf(keys) => keys
                        .iter()
                        .any(|&k| (least..=greatest).contains(&k) && counts[bucket(k)] > 0),
                    Test::AtLeast(low) => greatest >= *low,
                    Test::AtMost(high) => least <= *high,
                }
        });
        let any_of = |attribute: usize| {
            filter.tests().iter().find_map(|(a, test)| match test {
                Test::AnyOf(keys) if *a == attribute => Some(keys),
                _ => None,
            })
        };
        singles_pass
            && paired
                .chunks_exact(PAIR_BUCKETS)
                .zip(pairs(self.paired))
                .all(|(counts, (i, j))| match (any_of(i), any_of(j)) {
                    (Some(a), Some(b)) if a.len() * b.len() <= MAX_PAIR_PROBES => a
                        .iter()
                        .any(|&x| b.iter().any(|&y| counts[pair_bucket(x, y)] > 0)),
                    _ => true,
                })
    }

    /// Whether `stored` claims at least what `actual` counted: every bucket at least as many
    /// rows, and a key range that holds the actual one.
    pub(crate) fn covers(&self, stored: &[u32], actual: &[u32]) -> bool {
        let ((stored, stored_pairs), (actual, actual_pairs)) =
            (self.parts(stored), self.parts(actual));
        stored.len() == actual.len()
            && stored_pairs.len() == actual_pairs.len()
            && stored_pairs.iter().zip(actual_pairs).all(|(s, a)| s >= a)
            && stored
                .chunks_exact(WORDS_PER_ATTRIBUTE)
                .zip(actual.chunks_exact(WORDS_PER_ATTRIBUTE))
                .all(|(s, a)| {
                    let counted = s[..BUCKETS].iter().zip(&a[..BUCKETS]).all(|(s, a)| s >= a);
                    let empty = a[..BUCKETS].iter().all(|&c| c == 0);
                    counted
                        && (empty
                            || key_at(&s[BUCKETS..]) <= key_at(&a[BUCKETS..])
                                && key_at(&s[BUCKETS + 2..]) >= key_at(&a[BUCKETS + 2..]))
                })
    }
}

/// What `look` makes of list `list`'s summary as stored.
pub(crate) fn with_summary<R: Relation, T>(
    rel: &R,
    region: &SummaryRegion,
    list: u32,
    look: impl FnOnce(SummaryItem, &[u32]) -> T,
) -> Result<T> {
    let (block, index) = region.slot(list);
    let page = rel.read(block)?;
    page.expect_kind(PageKind::Summary, block)?;
    let items = page.items(&region.layout, block)?;
    let found = items
        .iter()
        .nth(index)
        .map(|(item, values)| look(item, values));
    found.ok_or_else(|| Error::corrupt(block, "list summary missing"))
}

/// Whether a change counts rows in or takes removed ones out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Add,
    Remove,
}

/// Counts rows in or out of list `list`'s summary, in one atomic change of its own that locks
/// only the summary page (call it holding no other page). `rows` holds each row's stored
/// attributes, `stride` bytes each.
pub(crate) fn apply<R: Relation>(
    rel: &R,
    region: &SummaryRegion,
    list: u32,
    rows: &[u8],
    stride: usize,
    change: Change,
) -> Result<()> {
    if rows.is_empty() || stride == 0 {
        return Ok(());
    }
    let (block, index) = region.slot(list);
    let mut ws = rel.begin();
    let slot = ws.lock(block)?;
    ws.page(slot).expect_kind(PageKind::Summary, block)?;
    let Some((item, values)) = ws.page_mut(slot).item_mut(&region.layout, index) else {
        return Err(Error::corrupt(block, "list summary missing"));
    };
    let n = (rows.len() / stride) as u32;
    for row in rows.chunks_exact(stride) {
        region.count(values, row, change);
    }
    item.rows = match change {
        Change::Add => item.rows.saturating_add(n),
        Change::Remove => item.rows.saturating_sub(n),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::{bytes_key, encoded as row, int_key};

    #[test]
    fn a_summary_passes_what_its_rows_may_pass_and_nothing_it_never_counted() {
        let region = SummaryRegion::new(2, 10, 5, true).unwrap();
        let mut values = region.empty();
        let any_men = Filter::new().and(0, Test::AnyOf(vec![bytes_key(b"men")]));
        assert!(
            !region.may_pass(&any_men, &values),
            "an empty list passes nothing"
        );
        assert!(region.may_pass(&Filter::new(), &values));
        region.count(
            &mut values,
            &row(&[Some(bytes_key(b"men")), Some(int_key(100))]),
            Change::Add,
        );
        region.count(
            &mut values,
            &row(&[Some(bytes_key(b"women")), None]),
            Change::Add,
        );
        assert!(region.may_pass(&any_men, &values));
        let kids = Filter::new().and(0, Test::AnyOf(vec![bytes_key(b"kids")]));
        assert!(!region.may_pass(&kids, &values));
        let cheap = Filter::new().and(1, Test::AtMost(int_key(50)));
        let dear = Filter::new().and(1, Test::AtLeast(int_key(90)));
        assert!(!region.may_pass(&cheap, &values));
        assert!(region.may_pass(&dear, &values));
        assert!(!region.may_pass(&any_men.clone().and(1, Test::AtMost(int_key(50))), &values));
        // Removing the only man: no man is left, though the price range stays.
        region.count(
            &mut values,
            &row(&[Some(bytes_key(b"men")), Some(int_key(100))]),
            Change::Remove,
        );
        assert!(!region.may_pass(&any_men, &values));
        assert!(!region.may_pass(&dear, &values), "no price is left at all");
    }

    #[test]
    fn pairs_rule_out_a_list_that_never_holds_both_keys_in_one_row() {
        let (men, women) = (bytes_key(b"men"), bytes_key(b"women"));
        let (man_1, woman_2) = (
            row(&[Some(men), Some(int_key(1)), None]),
            row(&[Some(women), Some(int_key(2)), None]),
        );
        let summary_of = |region: &SummaryRegion| {
            let mut values = region.empty();
            region.count(&mut values, &man_1, Change::Add);
            region.count(&mut values, &woman_2, Change::Add);
            values
        };
        let of = |g: u64, c: i64| {
            Filter::new()
                .and(0, Test::AnyOf(vec![g]))
                .and(1, Test::AnyOf(vec![int_key(c)]))
        };
        let region = SummaryRegion::new(3, 10, 5, true).unwrap();
        let mut values = summary_of(&region);
        assert!(region.may_pass(&of(men, 1), &values));
        assert!(region.may_pass(&of(women, 2), &values));
        assert!(
            !region.may_pass(&of(men, 2), &values),
            "men and category 2 are never one row"
        );
        let either = Filter::new()
            .and(0, Test::AnyOf(vec![men, women]))
            .and(1, Test::AnyOf(vec![int_key(2)]));
        assert!(region.may_pass(&either, &values));
        region.count(&mut values, &woman_2, Change::Remove);
        assert!(
            !region.may_pass(&of(women, 2), &values),
            "the only such row is gone"
        );
        // An index built before pair counts has only the single attributes.
        let old = SummaryRegion::new(3, 10, 5, false).unwrap();
        assert!(old.layout.dims() < region.layout.dims());
        assert!(old.may_pass(&of(men, 2), &summary_of(&old)));
    }

    #[test]
    fn covers_accepts_claims_above_the_truth_only() {
        let region = SummaryRegion::new(1, 3, 1, true).unwrap();
        let (mut stored, mut actual) = (region.empty(), region.empty());
        let a = row(&[Some(int_key(7))]);
        let b = row(&[Some(int_key(9))]);
        region.count(&mut stored, &a, Change::Add);
        region.count(&mut stored, &b, Change::Add);
        region.count(&mut actual, &a, Change::Add);
        assert!(region.covers(&stored, &actual));
        region.count(&mut actual, &b, Change::Add);
        region.count(&mut actual, &b, Change::Add);
        assert!(
            !region.covers(&stored, &actual),
            "one row of key 9 is not counted"
        );
        assert!(region.covers(&actual, &region.empty()));
        assert!(!region.covers(&region.empty(), &actual));
    }

    #[test]
    fn slots_follow_the_page_capacity() {
        let region = SummaryRegion::new(3, 1000, 20, true).unwrap();
        let per_page = region.layout.capacity() as u32;
        assert!(per_page >= 6, "{per_page}");
        assert_eq!(region.pages, 1000u32.div_ceil(per_page));
        assert_eq!(region.slot(per_page + 1), (21, 1));
        assert_eq!(
            region.items_on(region.pages - 1, 1000),
            (1000 - (region.pages - 1) * per_page) as usize
        );
        assert!(SummaryRegion::new(crate::MAX_ATTRIBUTES, 10, 1, true).is_some());
    }
}
