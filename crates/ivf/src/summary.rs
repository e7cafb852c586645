//! List summaries: for each list and each attribute its rows store, how many rows have a key in
//! each of 32 buckets (a hash of the key), and the least and the greatest key. A filtered scan
//! reads a list's summary, one small item on a summary page, before the list, and skips the
//! list when no row of it can pass the filter: a Sneaker query filtered to dresses then reads
//! the dress lists near it, not the sneaker lists in between.
//!
//! A summary may claim more than the list holds, never less: a row is counted in its own atomic
//! change before the change that stores it, and uncounted after vacuum has removed it, so a
//! crash in between leaves a row counted that is not there (a list read for nothing), never a
//! row a scan would skip. The key range only widens: vacuum cannot narrow it without racing
//! concurrent inserts; the counts say when no key is left at all. NULLs pass no test and are
//! not counted. Indexes built before summaries existed (on-disk version 3) have none and are
//! scanned as before.

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

/// The bucket of a key: its top bits after a multiplicative hash (keys of integers are
/// consecutive, keys of text are hashes already).
fn bucket(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BUCKETS.trailing_zeros())) as usize
}

/// Where the summary pages are: one item per list, in list order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SummaryRegion {
    pub first: BlockNumber,
    pub pages: u32,
    pub layout: Layout<SummaryItem, u32>,
}

impl SummaryRegion {
    /// The region of `lists` summaries of `attributes` attributes each, from block `first`.
    pub(crate) fn new(attributes: usize, lists: u32, first: BlockNumber) -> Option<Self> {
        let layout = Layout::new(attributes * WORDS_PER_ATTRIBUTE)?;
        Some(SummaryRegion {
            first,
            pages: lists.div_ceil(layout.capacity() as u32),
            layout,
        })
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
        for part in values.chunks_exact_mut(WORDS_PER_ATTRIBUTE) {
            set_key(&mut part[BUCKETS..], u64::MAX);
        }
        values
    }
}

fn key_at(words: &[u32]) -> u64 {
    words[0] as u64 | (words[1] as u64) << 32
}

fn set_key(words: &mut [u32], key: u64) {
    words[0] = key as u32;
    words[1] = (key >> 32) as u32;
}

/// Counts one row, whose attributes are stored as `stored`, into a summary's values.
pub(crate) fn count(values: &mut [u32], stored: &[u8]) {
    let attributes = values.len() / WORDS_PER_ATTRIBUTE;
    for (part, key) in values
        .chunks_exact_mut(WORDS_PER_ATTRIBUTE)
        .zip(stored_keys(stored, attributes))
    {
        let Some(key) = key else { continue };
        let slot = &mut part[bucket(key)];
        *slot = slot.saturating_add(1);
        if key < key_at(&part[BUCKETS..]) {
            set_key(&mut part[BUCKETS..], key);
        }
        if key > key_at(&part[BUCKETS + 2..]) {
            set_key(&mut part[BUCKETS + 2..], key);
        }
    }
}

/// Takes one removed row out of a summary's counts (the key range stays).
fn uncount(values: &mut [u32], stored: &[u8]) {
    let attributes = values.len() / WORDS_PER_ATTRIBUTE;
    for (part, key) in values
        .chunks_exact_mut(WORDS_PER_ATTRIBUTE)
        .zip(stored_keys(stored, attributes))
    {
        if let Some(key) = key {
            let slot = &mut part[bucket(key)];
            *slot = slot.saturating_sub(1);
        }
    }
}

/// Whether a list with this summary may hold a row that passes `filter`.
pub(crate) fn may_pass(filter: &Filter, values: &[u32]) -> bool {
    filter.tests().iter().all(|(attribute, test)| {
        let Some(part) = values.chunks_exact(WORDS_PER_ATTRIBUTE).nth(*attribute) else {
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
    })
}

/// Whether `stored` claims at least what `actual` counted: every bucket at least as many rows,
/// and a key range that holds the actual one.
pub(crate) fn covers(stored: &[u32], actual: &[u32]) -> bool {
    stored.len() == actual.len()
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
        match change {
            Change::Add => count(values, row),
            Change::Remove => uncount(values, row),
        }
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
    use crate::attributes::{bytes_key, encode, int_key};

    fn row(values: &[Option<u64>]) -> Vec<u8> {
        let mut out = Vec::new();
        encode(values, &mut out);
        out
    }

    #[test]
    fn a_summary_passes_what_its_rows_may_pass_and_nothing_it_never_counted() {
        let region = SummaryRegion::new(2, 10, 5).unwrap();
        let mut values = region.empty();
        let any_men = Filter::new().and(0, Test::AnyOf(vec![bytes_key(b"men")]));
        assert!(!may_pass(&any_men, &values), "an empty list passes nothing");
        assert!(may_pass(&Filter::new(), &values));
        count(
            &mut values,
            &row(&[Some(bytes_key(b"men")), Some(int_key(100))]),
        );
        count(&mut values, &row(&[Some(bytes_key(b"women")), None]));
        assert!(may_pass(&any_men, &values));
        let kids = Filter::new().and(0, Test::AnyOf(vec![bytes_key(b"kids")]));
        assert!(!may_pass(&kids, &values));
        let cheap = Filter::new().and(1, Test::AtMost(int_key(50)));
        let dear = Filter::new().and(1, Test::AtLeast(int_key(90)));
        assert!(!may_pass(&cheap, &values));
        assert!(may_pass(&dear, &values));
        assert!(!may_pass(
            &any_men.clone().and(1, Test::AtMost(int_key(50))),
            &values
        ));
        // Removing the only man: no man is left, though the price range stays.
        uncount(
            &mut values,
            &row(&[Some(bytes_key(b"men")), Some(int_key(100))]),
        );
        assert!(!may_pass(&any_men, &values));
        assert!(!may_pass(&dear, &values), "no price is left at all");
    }

    #[test]
    fn covers_accepts_claims_above_the_truth_only() {
        let region = SummaryRegion::new(1, 3, 1).unwrap();
        let (mut stored, mut actual) = (region.empty(), region.empty());
        let a = row(&[Some(int_key(7))]);
        let b = row(&[Some(int_key(9))]);
        count(&mut stored, &a);
        count(&mut stored, &b);
        count(&mut actual, &a);
        assert!(covers(&stored, &actual));
        count(&mut actual, &b);
        count(&mut actual, &b);
        assert!(!covers(&stored, &actual), "one row of key 9 is not counted");
        assert!(covers(&actual, &region.empty()));
        assert!(!covers(&region.empty(), &actual));
    }

    #[test]
    fn slots_follow_the_page_capacity() {
        let region = SummaryRegion::new(3, 1000, 20).unwrap();
        let per_page = region.layout.capacity() as u32;
        assert!(per_page >= 10, "{per_page}");
        assert_eq!(region.pages, 1000u32.div_ceil(per_page));
        assert_eq!(region.slot(per_page + 1), (21, 1));
        assert_eq!(
            region.items_on(region.pages - 1, 1000),
            (1000 - (region.pages - 1) * per_page) as usize
        );
        assert!(SummaryRegion::new(crate::MAX_ATTRIBUTES, 10, 1).is_some());
    }
}
