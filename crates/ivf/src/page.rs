//! Page layout: PostgreSQL's standard page header, packed fixed-size items, a small trailer.
//!
//! ```text
//!  0      24                                   pd_lower          8184       8192
//!  +------+------------------------------------+-----------------+----------+
//!  |header| item 0 | item 1 | ... | item n-1   |   free (hole)   | trailer  |
//!  +------+------------------------------------+-----------------+----------+
//!  header:  pd_lsn u64, pd_checksum u16, pd_flags u16, pd_lower u16, pd_upper u16,
//!           pd_special u16, pd_pagesize_version u16, pd_prune_xid u32
//!  item:    two u32 words, then the vector's f32s   (stride = 8 + 4 * dims bytes)
//!             list page:     heap block, heap offset | flags << 16, vector
//!             centroid page: first block of the list, insert block of the list, centroid
//!  trailer: next block u32 (chain link), item count u16, page id u16 (kind + magic)
//! ```
//!
//! The header is PostgreSQL's `PageHeaderData` and the trailer is its "special space", so the
//! extension can use these pages as they are: full-page WAL images drop only the hole between
//! `pd_lower` and `pd_upper`, and every item lies below `pd_lower`. Items have a fixed size per
//! index (the dimension is fixed), so no line pointers are needed and vectors sit one after
//! another, which is what the distance loop wants to stream over. The index never writes
//! `pd_lsn` or `pd_checksum`: they belong to PostgreSQL. Numbers are in native byte order, like
//! PostgreSQL's own structs.

use crate::error::{Error, Result};
use crate::storage::{BlockNumber, INVALID_BLOCK};

/// Bytes per page; PostgreSQL's default `BLCKSZ`.
pub const PAGE_SIZE: usize = 8192;

/// Size of PostgreSQL's page header.
const HEADER_SIZE: usize = 24;

/// Size of the trailer (PostgreSQL's special space).
const TRAILER_SIZE: usize = 8;

/// First byte of the item area.
const CONTENT_START: usize = HEADER_SIZE;

/// One past the last byte of the item area.
const CONTENT_END: usize = PAGE_SIZE - TRAILER_SIZE;

/// 32-bit words in the item area.
pub(crate) const CONTENT_WORDS: usize = (CONTENT_END - CONTENT_START) / 4;

/// Header words in front of every item's vector.
pub(crate) const ITEM_HEADER_WORDS: usize = 2;

// Header field offsets (PostgreSQL's PageHeaderData).
const PD_LOWER: usize = 12;
const PD_UPPER: usize = 14;
const PD_SPECIAL: usize = 16;
const PD_PAGESIZE_VERSION: usize = 18;
/// Layout version 4, as PostgreSQL writes it since 8.3.
const PAGE_LAYOUT_VERSION: u16 = 4;
/// Everything from here on is the index's; the bytes before are pd_lsn and pd_checksum.
const FIRST_OWNED_BYTE: usize = 10;

// Trailer field offsets.
const TRAILER_NEXT: usize = CONTENT_END;
const TRAILER_COUNT: usize = CONTENT_END + 4;
const TRAILER_PAGE_ID: usize = CONTENT_END + 6;

/// High byte of every page id: marks the page as this index's (helps pg_filedump users too).
const PAGE_ID_MAGIC: u16 = 0xFA00;

/// What a page holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    /// Block 0: the index's parameters.
    Meta = 1,
    /// A page of centroids, with each list's first and insert blocks.
    Centroid = 2,
    /// A page of one list's chain: heap pointers and their vectors.
    List = 3,
}

impl PageKind {
    /// The kind a page id names, if any.
    fn from_page_id(id: u16) -> Option<Self> {
        match id {
            x if x == PAGE_ID_MAGIC | 1 => Some(PageKind::Meta),
            x if x == PAGE_ID_MAGIC | 2 => Some(PageKind::Centroid),
            x if x == PAGE_ID_MAGIC | 3 => Some(PageKind::List),
            _ => None,
        }
    }
}

/// One page's bytes, aligned like a PostgreSQL buffer so its item area can be read as `f32`s.
#[derive(Clone)]
#[repr(C, align(8))]
pub struct Page([u8; PAGE_SIZE]);

impl Page {
    /// An all-zero page, as PostgreSQL hands out a newly extended block.
    pub fn zeroed() -> Box<Page> {
        Box::new(Page([0; PAGE_SIZE]))
    }

    /// The raw bytes, header included.
    pub fn as_bytes(&self) -> &[u8; PAGE_SIZE] {
        &self.0
    }

    /// Whether the page was never initialised (PostgreSQL's `PageIsNew`).
    pub fn is_new(&self) -> bool {
        self.u16_at(PD_UPPER) == 0
    }

    /// Copies another page's contents over this one, leaving pd_lsn and pd_checksum alone.
    pub fn copy_from(&mut self, other: &Page) {
        self.0[FIRST_OWNED_BYTE..].copy_from_slice(&other.0[FIRST_OWNED_BYTE..]);
    }

    /// Formats the page as an empty page of `kind` (PostgreSQL's `PageInit` plus our trailer).
    pub(crate) fn init(&mut self, kind: PageKind) {
        self.0[FIRST_OWNED_BYTE..].fill(0);
        self.set_u16(PD_LOWER, CONTENT_START as u16);
        self.set_u16(PD_UPPER, CONTENT_END as u16);
        self.set_u16(PD_SPECIAL, CONTENT_END as u16);
        self.set_u16(PD_PAGESIZE_VERSION, PAGE_SIZE as u16 | PAGE_LAYOUT_VERSION);
        self.set_u32(TRAILER_NEXT, INVALID_BLOCK);
        self.set_u16(TRAILER_PAGE_ID, PAGE_ID_MAGIC | kind as u16);
    }

    /// Checks that this is an initialised page of `kind`; `block` only names it in the error.
    pub(crate) fn expect_kind(&self, kind: PageKind, block: BlockNumber) -> Result<()> {
        let found = self.kind(block)?;
        if found == kind {
            Ok(())
        } else {
            Err(Error::corrupt(
                block,
                format!("expected a {kind:?} page, found a {found:?} page"),
            ))
        }
    }

    /// What the page holds, after checking the header and trailer make sense.
    pub(crate) fn kind(&self, block: BlockNumber) -> Result<PageKind> {
        if self.is_new() {
            return Err(Error::corrupt(block, "page is not initialised"));
        }
        if self.u16_at(PD_PAGESIZE_VERSION) != PAGE_SIZE as u16 | PAGE_LAYOUT_VERSION
            || self.u16_at(PD_SPECIAL) as usize != CONTENT_END
        {
            return Err(Error::corrupt(block, "page header does not match the layout"));
        }
        PageKind::from_page_id(self.u16_at(TRAILER_PAGE_ID))
            .ok_or_else(|| Error::corrupt(block, "unknown page id in the trailer"))
    }

    /// The next block of this page's chain, or `INVALID_BLOCK` at the end.
    pub(crate) fn next(&self) -> BlockNumber {
        self.u32_at(TRAILER_NEXT)
    }

    /// Links this page to the next one of its chain.
    pub(crate) fn set_next(&mut self, next: BlockNumber) {
        self.set_u32(TRAILER_NEXT, next);
    }

    /// How many items the page holds.
    pub(crate) fn count(&self) -> usize {
        self.u16_at(TRAILER_COUNT) as usize
    }

    /// Sets the item count; `stride` (in words) moves pd_lower to the end of the last item.
    fn set_count(&mut self, count: usize, stride: usize) {
        self.set_u16(TRAILER_COUNT, count as u16);
        self.set_lower(CONTENT_START + count * stride * 4);
    }

    /// Moves pd_lower, so everything below it survives a full-page WAL image.
    pub(crate) fn set_lower(&mut self, lower: usize) {
        self.set_u16(PD_LOWER, lower as u16);
    }

    /// The item area as 32-bit floats (item header words are stored as their bit patterns).
    pub(crate) fn words(&self) -> &[f32] {
        // Cannot fail: the page is 8-aligned and the area starts and ends on 4-byte boundaries.
        bytemuck::cast_slice(&self.0[CONTENT_START..CONTENT_END])
    }

    /// The item area as 32-bit floats, to write.
    pub(crate) fn words_mut(&mut self) -> &mut [f32] {
        bytemuck::cast_slice_mut(&mut self.0[CONTENT_START..CONTENT_END])
    }

    /// The used part of the item area: `count` items of `stride` words, checked against the page.
    pub(crate) fn items(&self, stride: usize, block: BlockNumber) -> Result<&[f32]> {
        let used = self.count() * stride;
        if used > CONTENT_WORDS {
            return Err(Error::corrupt(block, "item count exceeds the page"));
        }
        Ok(&self.words()[..used])
    }

    /// Appends one item (header words, then vector) if it fits; returns whether it did.
    pub(crate) fn push_item(&mut self, header: [u32; 2], vector: &[f32]) -> bool {
        let stride = ITEM_HEADER_WORDS + vector.len();
        let count = self.count();
        let start = count * stride;
        if start + stride > CONTENT_WORDS || count >= u16::MAX as usize {
            return false;
        }
        let item = &mut self.words_mut()[start..start + stride];
        item[0] = f32::from_bits(header[0]);
        item[1] = f32::from_bits(header[1]);
        item[ITEM_HEADER_WORDS..].copy_from_slice(vector);
        self.set_count(count + 1, stride);
        true
    }

    /// Keeps only the items `keep` accepts, moving the last item into each gap; returns how
    /// many were removed. Item order changes, which no reader relies on.
    pub(crate) fn retain_items(&mut self, stride: usize, mut keep: impl FnMut(&[f32]) -> bool) -> usize {
        let mut count = self.count().min(CONTENT_WORDS / stride);
        let mut removed = 0;
        let mut i = 0;
        while i < count {
            let words = self.words_mut();
            if keep(&words[i * stride..(i + 1) * stride]) {
                i += 1;
            } else {
                count -= 1;
                removed += 1;
                words.copy_within(count * stride..(count + 1) * stride, i * stride);
            }
        }
        self.set_count(count, stride);
        removed
    }

    /// Overwrites the header words of item `index` (which must exist).
    pub(crate) fn set_item_header(&mut self, index: usize, stride: usize, header: [u32; 2]) {
        let words = self.words_mut();
        words[index * stride] = f32::from_bits(header[0]);
        words[index * stride + 1] = f32::from_bits(header[1]);
    }

    fn u16_at(&self, at: usize) -> u16 {
        u16::from_ne_bytes([self.0[at], self.0[at + 1]])
    }

    fn u32_at(&self, at: usize) -> u32 {
        u32::from_ne_bytes([self.0[at], self.0[at + 1], self.0[at + 2], self.0[at + 3]])
    }

    fn set_u16(&mut self, at: usize, value: u16) {
        self.0[at..at + 2].copy_from_slice(&value.to_ne_bytes());
    }

    fn set_u32(&mut self, at: usize, value: u32) {
        self.0[at..at + 4].copy_from_slice(&value.to_ne_bytes());
    }
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("lower", &self.u16_at(PD_LOWER))
            .field("id", &format_args!("{:#06x}", self.u16_at(TRAILER_PAGE_ID)))
            .field("count", &self.count())
            .field("next", &self.next())
            .finish()
    }
}

/// Items of `dims` dimensions that fit on one page.
pub(crate) fn items_per_page(dims: usize) -> usize {
    CONTENT_WORDS / (ITEM_HEADER_WORDS + dims)
}

/// The largest dimension for which one item still fits on a page.
pub const MAX_DIMS: usize = CONTENT_WORDS - ITEM_HEADER_WORDS;

/// The two header words of an item, read back from their f32 bit patterns.
#[inline]
pub(crate) fn item_header(item: &[f32]) -> [u32; 2] {
    [item[0].to_bits(), item[1].to_bits()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_sets_a_standard_header() {
        let mut page = Page::zeroed();
        assert!(page.is_new());
        page.init(PageKind::List);
        assert!(!page.is_new());
        assert_eq!(page.kind(7), Ok(PageKind::List));
        assert_eq!(page.next(), INVALID_BLOCK);
        assert_eq!(page.count(), 0);
        assert_eq!(page.u16_at(PD_LOWER), 24);
        assert_eq!(page.u16_at(PD_UPPER), 8184);
        assert_eq!(page.u16_at(PD_PAGESIZE_VERSION), 8196);
    }

    #[test]
    fn items_fill_the_page_and_move_pd_lower() {
        let mut page = Page::zeroed();
        page.init(PageKind::List);
        let dims = 784;
        assert_eq!(items_per_page(dims), 2);
        let v = vec![1.5f32; dims];
        assert!(page.push_item([3, 4], &v));
        assert!(page.push_item([5, 6], &v));
        assert!(!page.push_item([7, 8], &v));
        assert_eq!(page.count(), 2);
        assert_eq!(page.u16_at(PD_LOWER) as usize, 24 + 2 * (8 + 4 * dims));
        let items = page.items(2 + dims, 0).unwrap();
        assert_eq!(item_header(&items[786..]), [5, 6]);
        assert_eq!(items[786 + 2], 1.5);
    }

    #[test]
    fn retain_compacts_and_keeps_the_rest() {
        let mut page = Page::zeroed();
        page.init(PageKind::List);
        for i in 0..10u32 {
            assert!(page.push_item([i, 0], &[i as f32, 0.0]));
        }
        let removed = page.retain_items(4, |item| item_header(item)[0] % 3 != 0);
        assert_eq!(removed, 4);
        let mut left: Vec<u32> = page
            .items(4, 0)
            .unwrap()
            .chunks_exact(4)
            .map(|item| {
                assert_eq!(item[2], item_header(item)[0] as f32);
                item_header(item)[0]
            })
            .collect();
        left.sort();
        assert_eq!(left, vec![1, 2, 4, 5, 7, 8]);
    }

    #[test]
    fn header_bits_survive_any_pattern() {
        let mut page = Page::zeroed();
        page.init(PageKind::List);
        // NaN patterns must round-trip bit for bit: headers are integers, not floats.
        assert!(page.push_item([0x7fc0_0001, 0xffff_ffff], &[0.0]));
        assert_eq!(item_header(page.items(3, 0).unwrap()), [0x7fc0_0001, 0xffff_ffff]);
    }

    #[test]
    fn garbage_is_reported_not_trusted() {
        let mut page = Page::zeroed();
        assert!(page.kind(1).is_err());
        page.init(PageKind::Centroid);
        page.set_u16(TRAILER_PAGE_ID, 0x1234);
        assert!(page.kind(1).is_err());
        page.init(PageKind::Centroid);
        page.set_u16(TRAILER_COUNT, 9999);
        assert!(page.items(10, 1).is_err());
        assert!(page.expect_kind(PageKind::List, 1).is_err());
    }

    #[test]
    fn copy_leaves_lsn_alone() {
        let mut a = Page::zeroed();
        a.0[0] = 42;
        let mut b = Page::zeroed();
        b.init(PageKind::Meta);
        a.copy_from(&b);
        assert_eq!(a.0[0], 42);
        assert_eq!(a.kind(0), Ok(PageKind::Meta));
    }
}
