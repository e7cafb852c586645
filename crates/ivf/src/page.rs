//! Page layout: PostgreSQL's standard page header, a small opaque header of ours, then the
//! item headers, then the items' values, packed and 64-byte aligned.
//!
//! ```text
//!  0        24          32                   A (64-aligned)                  pd_lower     8192
//!  +--------+-----------+--------------------+-------------------------------+-----------+
//!  | PG hdr | next,     | item headers       | values 0 | values 1 | ...      |  free     |
//!  |        | count, id | (fixed per kind)   |  (dims values each)           |  (hole)   |
//!  +--------+-----------+--------------------+-------------------------------+-----------+
//!  PG header: pd_lsn u64, pd_checksum u16, pd_flags u16, pd_lower u16, pd_upper u16,
//!             pd_special u16, pd_pagesize_version u16, pd_prune_xid u32
//!  ours:      next block u32 (chain link), item count u16, page id u16 (kind + magic)
//!  list page:       heap block u32, heap offset | flags << 16 (u32); f32 vector
//!                   (with attributes, version 6: their key ranges before the headers, see
//!                   the key_ranges module; the same on code pages)
//!  centroid page:   first block of the list u32, insert block of the list u32; f32 centroid
//!  code page:       the row's two words, its vector's block u32, the code's bound terms
//!                   (radius f32, sum u32, square f32); one u8 per dimension
//!  code heads page: first and insert block of a code chain; no values
//!  summary page:    rows counted u32, a spare u32; per attribute, counts by key bucket
//!                   and the key range, then per pair of attributes, counts by bucket of
//!                   the two keys, u32 (see the summary module)
//!  quantiser page:  (no items) offsets then steps, f32, continued from page to page
//! ```
//!
//! It is a standard PostgreSQL page (pd_upper = pd_special = 8192, everything in use lies below
//! `pd_lower`), so full-page WAL images drop only the free hole, and the index never writes
//! `pd_lsn` or `pd_checksum`, which belong to PostgreSQL. Items have a fixed size per index, so
//! no line pointers are needed. Why not VectorChord's trailer (special space) for our fields:
//! with the chain link, count and page id in the first cache line, a scan touches no line of a
//! page besides the header and the vectors, and the vectors (separate from the 8-byte item
//! headers) stream contiguously from a 64-byte boundary, which is what the distance loop wants.
//! Numbers are in native byte order, like PostgreSQL's own structs.

use std::marker::PhantomData;
use std::ops::Range;

use bytemuck::Pod;

use crate::attributes::{stored_bytes, stored_keys, Filter};
use crate::block::{BlockNumber, INVALID_BLOCK};
use crate::error::{Error, Result};
use crate::item::{ItemHeader, RowItem};
use crate::key_ranges;

/// Bytes per page; PostgreSQL's default `BLCKSZ`.
pub const PAGE_SIZE: usize = 8192;

/// Size of PostgreSQL's page header.
const PG_HEADER_SIZE: usize = 24;

/// Where our fields start: next block, count, page id.
const OPAQUE: usize = PG_HEADER_SIZE;
const OPAQUE_NEXT: usize = OPAQUE;
const OPAQUE_COUNT: usize = OPAQUE + 4;
const OPAQUE_PAGE_ID: usize = OPAQUE + 6;

/// First byte after our fields: item headers, or the meta page's words.
const CONTENT_START: usize = OPAQUE + 8;

/// Vectors start on a cache-line boundary.
const VECTOR_ALIGN: usize = 64;

// Header field offsets (PostgreSQL's PageHeaderData).
const PD_LOWER: usize = 12;
const PD_UPPER: usize = 14;
const PD_SPECIAL: usize = 16;
const PD_PAGESIZE_VERSION: usize = 18;
/// Layout version 4, as PostgreSQL writes it since 8.3.
const PAGE_LAYOUT_VERSION: u16 = 4;
/// Everything from here on is the index's; the bytes before are pd_lsn and pd_checksum.
const FIRST_OWNED_BYTE: usize = 10;

/// High byte of every page id: marks the page as this index's.
const PAGE_ID_MAGIC: u16 = 0xFA00;

/// The largest dimension for which one list item (a row and its f32 vector) still fits on a
/// page.
pub const MAX_DIMS: usize = (PAGE_SIZE - align_up(CONTENT_START + size_of::<RowItem>())) / 4;

const fn align_up(offset: usize) -> usize {
    offset.div_ceil(VECTOR_ALIGN) * VECTOR_ALIGN
}

/// What a page holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    /// Block 0: the index's parameters.
    Meta = 1,
    /// A page of centroids, with each list's first and insert blocks.
    Centroid = 2,
    /// A page of one list's chain: heap pointers and their vectors.
    List = 3,
    /// A page of one list's code chain: heap pointers, where their vectors are, their codes.
    Code = 4,
    /// The quantiser's per-dimension offsets and steps (see [`crate::quantizer`]).
    Quantizer = 5,
    /// Each list's code chain: first and insert blocks.
    CodeHeads = 6,
    /// Each list's summary of its rows' attributes (see [`crate::summary`]).
    Summary = 7,
}

impl PageKind {
    /// The kind a page id names, if any.
    fn from_page_id(id: u16) -> Option<Self> {
        if id & 0xFF00 != PAGE_ID_MAGIC {
            return None;
        }
        match id & 0xFF {
            1 => Some(PageKind::Meta),
            2 => Some(PageKind::Centroid),
            3 => Some(PageKind::List),
            4 => Some(PageKind::Code),
            5 => Some(PageKind::Quantizer),
            6 => Some(PageKind::CodeHeads),
            7 => Some(PageKind::Summary),
            _ => None,
        }
    }
}

/// What an item stores per dimension: `f32` on list and centroid pages, `u8` on code pages,
/// `u32` on summary pages.
pub(crate) trait Element: Pod {}

impl Element for f32 {}
impl Element for u8 {}
impl Element for u32 {}

/// Where items of one kind go on a page: `H` headers, then `dims` values of `T` per item.
pub(crate) struct Layout<H, T> {
    dims: usize,
    capacity: usize,
    /// Attributes whose key ranges the page keeps before the headers (0: none; see
    /// [`crate::key_ranges`]); each item's values end with their stored bytes.
    ranged: usize,
    headers_at: usize,
    values_at: usize,
    kind: PhantomData<fn() -> (H, T)>,
}

impl<H, T> Clone for Layout<H, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<H, T> Copy for Layout<H, T> {}

impl<H, T> PartialEq for Layout<H, T> {
    fn eq(&self, other: &Self) -> bool {
        (self.dims, self.capacity, self.ranged, self.values_at)
            == (other.dims, other.capacity, other.ranged, other.values_at)
    }
}

impl<H, T> std::fmt::Debug for Layout<H, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layout")
            .field("dims", &self.dims)
            .field("capacity", &self.capacity)
            .field("ranged", &self.ranged)
            .field("values_at", &self.values_at)
            .finish()
    }
}

impl<H: ItemHeader, T: Element> Layout<H, T> {
    /// The layout for `dims` values per item, if `dims > 0` and at least one item fits.
    pub(crate) fn new(dims: usize) -> Option<Self> {
        Self::with_key_ranges(dims, 0)
    }

    /// The same, the page keeping the key ranges of the `attributes` attributes stored at the
    /// end of each item's values.
    pub(crate) fn with_key_ranges(dims: usize, attributes: usize) -> Option<Self> {
        if dims == 0 || stored_bytes(attributes) > dims * size_of::<T>() {
            return None;
        }
        Self::fit(dims, attributes)
    }

    /// Items that are only a header (no values).
    pub(crate) fn headers_only() -> Self {
        let capacity = (PAGE_SIZE - CONTENT_START) / size_of::<H>();
        Layout {
            dims: 0,
            capacity,
            ranged: 0,
            headers_at: CONTENT_START,
            values_at: CONTENT_START + capacity * size_of::<H>(),
            kind: PhantomData,
        }
    }

    fn fit(dims: usize, ranged: usize) -> Option<Self> {
        let headers_at = CONTENT_START + key_ranges::bytes(ranged);
        let fits = |n: usize| {
            align_up(headers_at + n * size_of::<H>()) + n * dims * size_of::<T>() <= PAGE_SIZE
        };
        if !fits(1) {
            return None;
        }
        // At most a few thousand: a linear search is instant and obviously right.
        let mut capacity = 1;
        while fits(capacity + 1) && capacity < u16::MAX as usize {
            capacity += 1;
        }
        Some(Layout {
            dims,
            capacity,
            ranged,
            headers_at,
            values_at: align_up(headers_at + capacity * size_of::<H>()),
            kind: PhantomData,
        })
    }

    /// Values per item.
    pub(crate) fn dims(&self) -> usize {
        self.dims
    }

    /// Items per page.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes of one item's values.
    fn item_bytes(&self) -> usize {
        self.dims * size_of::<T>()
    }

    /// Whether pages of this layout keep key ranges.
    pub(crate) fn has_key_ranges(&self) -> bool {
        self.ranged > 0
    }

    /// The page's header and key ranges, to prefetch (empty without ranges).
    pub(crate) fn key_ranges_prefetch(&self) -> Vec<Range<usize>> {
        if self.has_key_ranges() {
            std::iter::once(0..self.headers_at).collect()
        } else {
            Vec::new()
        }
    }

    /// Where the key ranges lie on a page.
    fn key_ranges(&self) -> Range<usize> {
        CONTENT_START..self.headers_at
    }

    /// The stored attributes at the end of one item's values.
    fn attributes_of<'v>(&self, values: &'v [T]) -> &'v [u8] {
        let bytes: &[u8] = bytemuck::cast_slice(values);
        &bytes[bytes.len() - stored_bytes(self.ranged)..]
    }

    /// The keys of the attributes whose ranges the page keeps, from one item's values.
    pub(crate) fn keys_of(&self, values: &[T]) -> Vec<Option<u64>> {
        stored_keys(self.attributes_of(values), self.ranged).collect()
    }

    /// Byte ranges of a full page worth prefetching: the header lines and the first `bytes`
    /// of every item's values, adjacent ranges merged.
    pub(crate) fn prefetch_ranges(&self, bytes: usize) -> Vec<Range<usize>> {
        self.prefetch_ranges_within(0..bytes)
    }

    /// The page's headers and bytes `within` of every item's values (clipped to the item).
    pub(crate) fn prefetch_ranges_within(&self, within: Range<usize>) -> Vec<Range<usize>> {
        let headers = 0..self.headers_at + self.capacity * size_of::<H>();
        let mut ranges = Vec::with_capacity(self.capacity + 1);
        ranges.push(headers);
        let (skip, end) = (
            within.start.min(self.item_bytes()),
            within.end.min(self.item_bytes()),
        );
        for i in 0..self.capacity {
            let start = self.values_at + i * self.item_bytes() + skip;
            match ranges.last_mut() {
                Some(last) if last.end + 64 >= start => last.end = start - skip + end,
                _ => ranges.push(start..start - skip + end),
            }
        }
        ranges
    }
}

/// The items of one page: headers and values side by side.
pub(crate) struct Items<'a, H, T> {
    pub headers: &'a [H],
    pub values: &'a [T],
    dims: usize,
}

impl<'a, H: ItemHeader, T: Element> Items<'a, H, T> {
    /// (header, values) of every item.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (H, &'a [T])> + '_ {
        let (values, dims) = (self.values, self.dims);
        self.headers
            .iter()
            .enumerate()
            .map(move |(i, &header)| (header, &values[i * dims..(i + 1) * dims]))
    }

    /// How many items.
    pub(crate) fn len(&self) -> usize {
        self.headers.len()
    }
}

/// One page's bytes. Aligned to 8 (MAXALIGN), which every page PostgreSQL hands out meets, so
/// the extension can view a buffer as a `Page`; vectors are 64-byte aligned when the page is
/// (shared buffers are at least 32-aligned; the in-memory relation aligns to 64).
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

    /// Formats the page as an empty page of `kind` (PostgreSQL's `PageInit` plus our fields).
    pub(crate) fn init(&mut self, kind: PageKind) {
        self.0[FIRST_OWNED_BYTE..].fill(0);
        self.set_u16(PD_LOWER, CONTENT_START as u16);
        self.set_u16(PD_UPPER, PAGE_SIZE as u16);
        self.set_u16(PD_SPECIAL, PAGE_SIZE as u16);
        self.set_u16(PD_PAGESIZE_VERSION, PAGE_SIZE as u16 | PAGE_LAYOUT_VERSION);
        self.set_u32(OPAQUE_NEXT, INVALID_BLOCK);
        self.set_u16(OPAQUE_PAGE_ID, PAGE_ID_MAGIC | kind as u16);
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

    /// What the page holds, after checking that the header makes sense.
    pub(crate) fn kind(&self, block: BlockNumber) -> Result<PageKind> {
        if self.is_new() {
            return Err(Error::corrupt(block, "page is not initialised"));
        }
        if self.u16_at(PD_PAGESIZE_VERSION) != PAGE_SIZE as u16 | PAGE_LAYOUT_VERSION
            || self.u16_at(PD_SPECIAL) as usize != PAGE_SIZE
        {
            return Err(Error::corrupt(
                block,
                "page header does not match the layout",
            ));
        }
        PageKind::from_page_id(self.u16_at(OPAQUE_PAGE_ID))
            .ok_or_else(|| Error::corrupt(block, "unknown page id"))
    }

    /// The next block of this page's chain, or `INVALID_BLOCK` at the end.
    pub(crate) fn next(&self) -> BlockNumber {
        self.u32_at(OPAQUE_NEXT)
    }

    /// Links this page to the next one of its chain.
    pub(crate) fn set_next(&mut self, next: BlockNumber) {
        self.set_u32(OPAQUE_NEXT, next);
    }

    /// How many items the page holds.
    pub(crate) fn count(&self) -> usize {
        self.u16_at(OPAQUE_COUNT) as usize
    }

    /// Sets the item count and moves pd_lower to the end of the last item's values.
    fn set_count<H: ItemHeader, T: Element>(&mut self, layout: &Layout<H, T>, count: usize) {
        self.set_u16(OPAQUE_COUNT, count as u16);
        self.set_lower(layout.values_at + count * layout.item_bytes());
    }

    /// Moves pd_lower, so everything below it survives a full-page WAL image.
    pub(crate) fn set_lower(&mut self, lower: usize) {
        self.set_u16(PD_LOWER, lower as u16);
    }

    /// The area after our fields as 32-bit words (the meta page's contents).
    pub(crate) fn words(&self) -> &[u32] {
        // Cannot fail: the page is 8-aligned and the area starts and ends on 4-byte boundaries.
        bytemuck::cast_slice(&self.0[CONTENT_START..])
    }

    /// The same, to write.
    pub(crate) fn words_mut(&mut self) -> &mut [u32] {
        bytemuck::cast_slice_mut(&mut self.0[CONTENT_START..])
    }

    /// The items in use, after checking the count against the layout.
    pub(crate) fn items<H: ItemHeader, T: Element>(
        &self,
        layout: &Layout<H, T>,
        block: BlockNumber,
    ) -> Result<Items<'_, H, T>> {
        let count = self.count();
        if count > layout.capacity {
            return Err(Error::corrupt(block, "item count exceeds the page"));
        }
        let headers = &self.0[layout.headers_at..layout.headers_at + count * size_of::<H>()];
        let values = &self.0[layout.values_at..layout.values_at + count * layout.item_bytes()];
        Ok(Items {
            headers: bytemuck::cast_slice(headers),
            values: bytemuck::cast_slice(values),
            dims: layout.dims,
        })
    }

    /// Mutable headers and values of the first `count` slots.
    fn slots_mut<H: ItemHeader, T: Element>(
        &mut self,
        layout: &Layout<H, T>,
        count: usize,
    ) -> (&mut [H], &mut [T]) {
        let (front, back) = self.0.split_at_mut(layout.values_at);
        let headers = &mut front[layout.headers_at..layout.headers_at + count * size_of::<H>()];
        let values = &mut back[..count * layout.item_bytes()];
        (
            bytemuck::cast_slice_mut(headers),
            bytemuck::cast_slice_mut(values),
        )
    }

    /// Whether one more item fits.
    pub(crate) fn has_room<H: ItemHeader, T: Element>(&self, layout: &Layout<H, T>) -> bool {
        self.count() < layout.capacity
    }

    /// Appends one item if it fits; returns whether it did.
    pub(crate) fn push_item<H: ItemHeader, T: Element>(
        &mut self,
        layout: &Layout<H, T>,
        header: H,
        values: &[T],
    ) -> bool {
        let count = self.count();
        if count >= layout.capacity || values.len() != layout.dims {
            return false;
        }
        let (headers, slots) = self.slots_mut(layout, count + 1);
        headers[count] = header;
        slots[count * layout.dims..].copy_from_slice(values);
        self.set_count(layout, count + 1);
        if layout.has_key_ranges() {
            key_ranges::widen(
                &mut self.0[layout.key_ranges()],
                layout.attributes_of(values),
            );
        }
        true
    }

    /// Whether a row of this page may pass `filter`, by its key ranges (true if the layout
    /// keeps none).
    pub(crate) fn may_pass<H: ItemHeader, T: Element>(
        &self,
        layout: &Layout<H, T>,
        filter: &Filter,
    ) -> bool {
        key_ranges::may_pass(&self.0[layout.key_ranges()], filter)
    }

    /// Whether the key ranges hold every row's keys (true if the layout keeps none).
    pub(crate) fn key_ranges_hold<H: ItemHeader, T: Element>(
        &self,
        layout: &Layout<H, T>,
        block: BlockNumber,
    ) -> Result<bool> {
        let ranges = &self.0[layout.key_ranges()];
        Ok(!layout.has_key_ranges()
            || self
                .items(layout, block)?
                .iter()
                .all(|(_, values)| key_ranges::hold(ranges, layout.attributes_of(values))))
    }

    /// Keeps only the items `keep` accepts, moving the last item into each gap; returns how
    /// many were removed. Item order changes, which no reader relies on.
    pub(crate) fn retain_items<H: ItemHeader, T: Element>(
        &mut self,
        layout: &Layout<H, T>,
        mut keep: impl FnMut(H, &[T]) -> bool,
    ) -> usize {
        let dims = layout.dims;
        let mut count = self.count().min(layout.capacity);
        let start = count;
        let (headers, values) = self.slots_mut(layout, count);
        let mut i = 0;
        while i < count {
            if keep(headers[i], &values[i * dims..(i + 1) * dims]) {
                i += 1;
            } else {
                count -= 1;
                headers[i] = headers[count];
                values.copy_within(count * dims..(count + 1) * dims, i * dims);
            }
        }
        // Clear what moved away, so the hole holds no stale tids.
        headers[count..].fill(H::zeroed());
        self.set_count(layout, count);
        if layout.has_key_ranges() {
            // The removed rows' keys may have been the bounds: the ranges narrow to the rest.
            let mut ranges = vec![0; layout.key_ranges().len()];
            let (_, values) = self.slots_mut(layout, count);
            for item in values.chunks_exact(dims) {
                key_ranges::widen(&mut ranges, layout.attributes_of(item));
            }
            self.0[layout.key_ranges()].copy_from_slice(&ranges);
        }
        start - count
    }

    /// Overwrites the header of item `index` (which must exist).
    pub(crate) fn set_item_header<H: ItemHeader, T: Element>(
        &mut self,
        layout: &Layout<H, T>,
        index: usize,
        header: H,
    ) {
        let count = self.count().min(layout.capacity);
        let (headers, _) = self.slots_mut(layout, count);
        if let Some(slot) = headers.get_mut(index) {
            *slot = header;
        }
    }

    /// The header and values of item `index`, to modify, if it exists.
    pub(crate) fn item_mut<H: ItemHeader, T: Element>(
        &mut self,
        layout: &Layout<H, T>,
        index: usize,
    ) -> Option<(&mut H, &mut [T])> {
        let count = self.count().min(layout.capacity);
        let dims = layout.dims;
        let (headers, values) = self.slots_mut(layout, count);
        let header = headers.get_mut(index)?;
        Some((header, &mut values[index * dims..(index + 1) * dims]))
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
            .field("id", &format_args!("{:#06x}", self.u16_at(OPAQUE_PAGE_ID)))
            .field("count", &self.count())
            .field("next", &self.next())
            .finish()
    }
}

/// Asks the CPU to start loading these byte ranges of the page at `page` into its L2 cache, so
/// the page's vectors are there when the scan gets to them. (Into L1, the prefetches would
/// queue behind the few L1 miss buffers and hide little: measured on Fashion-MNIST, L2
/// prefetch of the whole next page gained 36%, L1 about 10%.) `page` need not be locked or
/// even valid: a prefetch is only a hint.
pub fn prefetch_into_cache(page: *const u8, ranges: &[Range<usize>]) {
    for range in ranges {
        let (start, end) = (range.start.min(PAGE_SIZE), range.end.min(PAGE_SIZE));
        #[cfg(target_arch = "x86_64")]
        for offset in (start..end).step_by(64) {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T1};
            // SAFETY: a prefetch never faults and reads nothing architecturally, whatever the
            // address; it only warms the cache.
            unsafe { _mm_prefetch::<_MM_HINT_T1>(page.wrapping_add(offset) as *const i8) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (page, start, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{ListHead, RowItem, Tid};

    fn row(block: u32, offset: u16) -> RowItem {
        RowItem::new(Tid::new(block, offset), false)
    }

    fn list_page() -> Box<Page> {
        let mut page = Page::zeroed();
        page.init(PageKind::List);
        page
    }

    #[test]
    fn init_sets_a_standard_header() {
        let mut page = Page::zeroed();
        assert!(page.is_new());
        page.init(PageKind::List);
        assert!(!page.is_new());
        assert_eq!(page.kind(7), Ok(PageKind::List));
        assert_eq!(page.next(), INVALID_BLOCK);
        assert_eq!(page.count(), 0);
        assert_eq!(page.u16_at(PD_LOWER), 32);
        assert_eq!(page.u16_at(PD_UPPER), 8192);
        assert_eq!(page.u16_at(PD_SPECIAL), 8192);
        assert_eq!(page.u16_at(PD_PAGESIZE_VERSION), 8196);
    }

    #[test]
    fn layouts_pack_and_align() {
        let l = Layout::<RowItem, f32>::new(784).unwrap();
        assert_eq!((l.capacity, l.values_at), (2, 64));
        let l = Layout::<RowItem, f32>::new(64).unwrap();
        assert_eq!((l.capacity, l.values_at), (30, 320));
        let l = Layout::<RowItem, f32>::new(1).unwrap();
        assert!(l.capacity > 600);
        assert!(Layout::<RowItem, f32>::new(MAX_DIMS).is_some());
        assert!(Layout::<RowItem, f32>::new(MAX_DIMS + 1).is_none());
        assert!(Layout::<RowItem, f32>::new(0).is_none());
        for dims in 1..=MAX_DIMS {
            let l = Layout::<RowItem, f32>::new(dims).unwrap();
            assert!(l.values_at + l.capacity * dims * 4 <= PAGE_SIZE);
            assert!(l.values_at >= CONTENT_START + l.capacity * size_of::<RowItem>());
        }
    }

    #[test]
    fn items_fill_the_page_and_move_pd_lower() {
        let mut page = list_page();
        let layout = Layout::<RowItem, f32>::new(784).unwrap();
        let v = vec![1.5f32; 784];
        assert!(page.push_item(&layout, row(3, 4), &v));
        assert!(page.push_item(&layout, row(5, 6), &v));
        assert!(!page.push_item(&layout, row(7, 8), &v));
        assert_eq!(page.count(), 2);
        assert_eq!(page.u16_at(PD_LOWER) as usize, 64 + 2 * 784 * 4);
        let items = page.items(&layout, 0).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items.headers[1], row(5, 6));
        assert_eq!(
            (items.values.as_ptr() as usize - page.0.as_ptr() as usize) % 64,
            0
        );
        assert!(items.iter().all(|(_, v)| v.iter().all(|&x| x == 1.5)));
    }

    #[test]
    fn retain_compacts_and_keeps_the_rest() {
        let mut page = list_page();
        let layout = Layout::<RowItem, f32>::new(2).unwrap();
        for i in 0..10u32 {
            assert!(page.push_item(&layout, row(i, 1), &[i as f32, 0.0]));
        }
        let removed = page.retain_items(&layout, |h: RowItem, _| !h.tid().block.is_multiple_of(3));
        assert_eq!(removed, 4);
        let items = page.items(&layout, 0).unwrap();
        let mut left: Vec<u32> = items
            .iter()
            .map(|(h, v)| {
                assert_eq!(v[0], h.tid().block as f32);
                h.tid().block
            })
            .collect();
        left.sort();
        assert_eq!(left, vec![1, 2, 4, 5, 7, 8]);
        page.set_item_header(&layout, 0, row(42, 43));
        assert_eq!(page.items(&layout, 0).unwrap().headers[0], row(42, 43));
    }

    #[test]
    fn key_ranges_widen_with_each_row_and_narrow_when_rows_go() {
        use crate::attributes::{encoded, int_key, Test};
        // Two f32 values, then one attribute's stored bytes (4 f32 slots).
        let layout = Layout::<RowItem, f32>::with_key_ranges(2 + 4, 1).unwrap();
        assert!(layout.values_at >= CONTENT_START + 16 + layout.capacity * size_of::<RowItem>());
        let mut page = list_page();
        let with_key = |key: Option<i64>| {
            let stored = encoded(&[key.map(int_key)]);
            let mut values = vec![0.5f32, 1.5];
            values.extend(
                stored
                    .chunks_exact(4)
                    .map(|b| f32::from_ne_bytes(b.try_into().unwrap())),
            );
            values
        };
        let is = |key: i64| Filter::new().and(0, Test::AnyOf(vec![int_key(key)]));
        assert!(!page.may_pass(&layout, &is(5)), "an empty page");
        for (i, key) in [Some(5), Some(9), None, Some(7)].into_iter().enumerate() {
            assert!(page.push_item(&layout, row(i as u32, 1), &with_key(key)));
        }
        assert!(page.key_ranges_hold(&layout, 0).unwrap());
        assert!(page.may_pass(&layout, &is(5)) && page.may_pass(&layout, &is(6)));
        assert!(!page.may_pass(&layout, &is(4)) && !page.may_pass(&layout, &is(10)));
        // Rows 0 and 1 held the bounds 5 and 9: the range narrows to 7.
        page.retain_items(&layout, |h: RowItem, _| h.tid().block >= 2);
        assert!(page.key_ranges_hold(&layout, 0).unwrap());
        assert!(page.may_pass(&layout, &is(7)));
        assert!(!page.may_pass(&layout, &is(5)) && !page.may_pass(&layout, &is(9)));
        // A range a row's key falls outside of is what check reports.
        page.0[CONTENT_START + 8..CONTENT_START + 16].copy_from_slice(&int_key(6).to_ne_bytes());
        assert!(!page.key_ranges_hold(&layout, 0).unwrap());
        assert!(
            Layout::<RowItem, f32>::with_key_ranges(2, 1).is_none(),
            "no room for the bytes"
        );
    }

    #[test]
    fn garbage_is_reported_not_trusted() {
        let layout = Layout::<ListHead, f32>::new(10).unwrap();
        let mut page = Page::zeroed();
        assert!(page.kind(1).is_err());
        page.init(PageKind::Centroid);
        page.set_u16(OPAQUE_PAGE_ID, 0x1234);
        assert!(page.kind(1).is_err());
        page.init(PageKind::Centroid);
        page.set_u16(OPAQUE_COUNT, 9999);
        assert!(page.items(&layout, 1).is_err());
        assert!(page.expect_kind(PageKind::List, 1).is_err());
        page.init(PageKind::List);
        page.set_u16(PD_SPECIAL, 8184);
        assert!(page.kind(1).is_err());
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

    #[test]
    fn prefetch_ranges_cover_the_asked_part_of_every_item() {
        // 64-d rows with 24 bytes of attributes: 280 bytes an item.
        let layout: Layout<RowItem, f32> = Layout::new(70).unwrap();
        let ranges = layout.prefetch_ranges_within(256..280);
        let covered = |at: usize| ranges.iter().any(|r| r.contains(&at));
        for i in 0..layout.capacity() {
            let item = layout.values_at + i * 280;
            assert!(covered(item + 256) && covered(item + 279), "item {i}");
            assert!(
                !covered(item + 100),
                "item {i}: its vector is not asked for"
            );
        }
        assert!(covered(CONTENT_START), "the headers");
        assert_eq!(
            layout.prefetch_ranges(usize::MAX).len(),
            1,
            "whole items merge into one run"
        );
    }
}
