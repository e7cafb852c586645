//! Item headers: the bytes stored for each item beside its values, typed by page kind.
//!
//! A list page's item points at a heap row; a centroid page's item (and a code heads page's)
//! holds a chain's entry points. Both are two native-endian u32 words on disk, so the layout
//! matches what earlier builds wrote. A code page's item is a row's item, the block of the list
//! page holding the row's vector, and the terms of the code's bound: six words.

use bytemuck::{Pod, Zeroable};

use crate::block::{BlockNumber, INVALID_BLOCK};
use crate::quantizer::CodeTerms;

/// A heap tuple's address, PostgreSQL's `ItemPointerData`: block and line pointer offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tid {
    /// Heap block.
    pub block: u32,
    /// Line pointer within the block (1-based in PostgreSQL).
    pub offset: u16,
}

impl Tid {
    /// A tid from its parts.
    pub fn new(block: u32, offset: u16) -> Self {
        Tid { block, offset }
    }
}

/// A header type of some page kind: any bit pattern valid, a multiple of 4 bytes.
pub(crate) trait ItemHeader: Pod {}

impl ItemHeader for RowItem {}
impl ItemHeader for ListHead {}
impl ItemHeader for CodeItem {}
impl ItemHeader for SummaryItem {}

const _: () = assert!(size_of::<RowItem>() == 8);
const _: () = assert!(size_of::<ListHead>() == 8);
const _: () = assert!(size_of::<CodeItem>() == 24);
const _: () = assert!(size_of::<SummaryItem>() == 8);

/// A header that stands for a heap row: what vacuum asks about.
pub(crate) trait RowHeader: ItemHeader {
    /// The row's item.
    fn row(&self) -> RowItem;
}

impl RowHeader for RowItem {
    fn row(&self) -> RowItem {
        *self
    }
}

impl RowHeader for CodeItem {
    fn row(&self) -> RowItem {
        self.row
    }
}

/// Flag on a stored row: a zero vector under cosine, which scores +infinity.
const FLAG_ZERO_NORM: u32 = 1 << 16;

/// The header of a list item: the row's tid, and its flags in the high half of the second
/// word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct RowItem {
    block: u32,
    offset_and_flags: u32,
}

impl RowItem {
    /// The header of row `tid`; `zero_norm` marks a zero vector under cosine.
    pub(crate) fn new(tid: Tid, zero_norm: bool) -> Self {
        RowItem {
            block: tid.block,
            offset_and_flags: tid.offset as u32 | if zero_norm { FLAG_ZERO_NORM } else { 0 },
        }
    }

    /// The row this item points at.
    #[inline]
    pub(crate) fn tid(&self) -> Tid {
        Tid::new(self.block, self.offset_and_flags as u16)
    }

    /// Whether the stored vector is a zero vector under cosine (it scores +infinity).
    #[inline]
    pub(crate) fn zero_norm(&self) -> bool {
        self.offset_and_flags & FLAG_ZERO_NORM != 0
    }
}

/// The header of a code item: the row (tid and flags, as on its list page), the block of the
/// list page that holds the row's full vector (for the exact score), and what the bound of
/// its score needs of the code (see [`crate::quantizer`]).
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct CodeItem {
    pub row: RowItem,
    pub vector_block: BlockNumber,
    pub terms: CodeTerms,
}

/// The header of a centroid item: where its list's chain starts (fixed at build, so a scan
/// can follow it without further locking) and its insert block, the first page that may have
/// room (a hint: inserts move it forward, vacuum moves it back; a stale value only costs
/// walking a few full pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct ListHead {
    pub first: BlockNumber,
    pub insert: BlockNumber,
}

impl ListHead {
    /// A head the build fills in once the list's pages are written.
    pub(crate) const UNSET: ListHead = ListHead {
        first: INVALID_BLOCK,
        insert: INVALID_BLOCK,
    };
}

/// The header of a list's summary item: how many rows it has counted (see
/// [`crate::summary`]); the second word is kept zero for later use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct SummaryItem {
    pub rows: u32,
    pub spare: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_items_keep_tid_and_flag_apart() {
        let tid = Tid::new(4_000_000_000, 65_535);
        for zero in [false, true] {
            let item = RowItem::new(tid, zero);
            assert_eq!(item.tid(), tid);
            assert_eq!(item.zero_norm(), zero);
        }
        // The on-disk words are the ones earlier builds wrote: block, offset | flags << 16.
        let words: [u32; 2] = bytemuck::cast(RowItem::new(Tid::new(7, 3), true));
        assert_eq!(words, [7, 3 | 1 << 16]);
        let words: [u32; 2] = bytemuck::cast(ListHead {
            first: 5,
            insert: 9,
        });
        assert_eq!(words, [5, 9]);
        let words: [u32; 6] = bytemuck::cast(CodeItem {
            row: RowItem::new(Tid::new(7, 3), false),
            vector_block: 11,
            terms: CodeTerms {
                radius: 1.5,
                sum: 99,
                square: 2.5,
            },
        });
        assert_eq!(words, [7, 3, 11, 1.5f32.to_bits(), 99, 2.5f32.to_bits()]);
    }
}
