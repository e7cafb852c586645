//! The meta page (block 0): what every other page's layout depends on.
//!
//! Words below `pd_lower`, in order: magic, version, dimensions, lists, metric, first centroid
//! block, centroid pages, rows seen by the build (two words), rows in the k-means sample (two
//! words). Written once by the build and never changed, so readers need no lock beyond the
//! moment they copy it.

use crate::error::{Error, Result};
use crate::metric::Metric;
use crate::page::{items_per_page, Page, PageKind, ITEM_HEADER_WORDS, MAX_DIMS};
use crate::storage::{BlockNumber, Relation};

/// "FRIV": marks a fashrec IVF meta page.
const MAGIC: u32 = 0x4652_4956;
/// Bumped whenever the on-disk layout changes.
const VERSION: u32 = 1;
/// Words the meta page uses.
const META_WORDS: usize = 11;

/// Where the meta page lives.
pub const META_BLOCK: BlockNumber = 0;
/// Where the centroid pages start; they are consecutive.
pub const FIRST_CENTROID_BLOCK: BlockNumber = 1;
/// The most lists an index may have (pgvector's limit too).
pub const MAX_LISTS: u32 = 32768;

/// The index's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    /// Dimensions of every vector.
    pub dims: u32,
    /// Number of lists (centroids).
    pub lists: u32,
    /// Distance the index orders by.
    pub metric: Metric,
    /// Consecutive centroid pages from `FIRST_CENTROID_BLOCK`.
    pub centroid_pages: u32,
    /// Rows the build loaded.
    pub built_rows: u64,
    /// Rows k-means was trained on.
    pub sample_rows: u64,
}

impl Meta {
    /// Parameters for a new index, checked.
    pub(crate) fn new(dims: usize, lists: u32, metric: Metric) -> Result<Meta> {
        if dims == 0 || dims > MAX_DIMS {
            return Err(Error::TooManyDimensions {
                dims,
                max: MAX_DIMS,
            });
        }
        if lists == 0 || lists > MAX_LISTS {
            return Err(Error::InvalidOption(format!(
                "lists must be between 1 and {MAX_LISTS}, not {lists}"
            )));
        }
        let per_page = items_per_page(dims) as u32;
        Ok(Meta {
            dims: dims as u32,
            lists,
            metric,
            centroid_pages: lists.div_ceil(per_page),
            built_rows: 0,
            sample_rows: 0,
        })
    }

    /// Words per item (header and vector), on centroid and list pages alike.
    pub(crate) fn stride(&self) -> usize {
        ITEM_HEADER_WORDS + self.dims as usize
    }

    /// Items (centroids or vectors) per page.
    pub(crate) fn per_page(&self) -> usize {
        items_per_page(self.dims as usize)
    }

    /// The centroid page and item index that hold `list`.
    pub(crate) fn centroid_slot(&self, list: u32) -> (BlockNumber, usize) {
        let per_page = self.per_page() as u32;
        (FIRST_CENTROID_BLOCK + list / per_page, (list % per_page) as usize)
    }

    /// The first block after the centroid pages.
    pub(crate) fn first_list_block(&self) -> BlockNumber {
        FIRST_CENTROID_BLOCK + self.centroid_pages
    }

    /// Formats `page` as the meta page.
    pub(crate) fn write(&self, page: &mut Page) {
        page.init(PageKind::Meta);
        let words = [
            MAGIC,
            VERSION,
            self.dims,
            self.lists,
            self.metric.id(),
            FIRST_CENTROID_BLOCK,
            self.centroid_pages,
            self.built_rows as u32,
            (self.built_rows >> 32) as u32,
            self.sample_rows as u32,
            (self.sample_rows >> 32) as u32,
        ];
        for (slot, word) in page.words_mut().iter_mut().zip(words) {
            *slot = f32::from_bits(word);
        }
        page.set_lower(24 + META_WORDS * 4);
    }

    /// Reads and checks the meta page.
    pub fn read<R: Relation>(rel: &R) -> Result<Meta> {
        let page = rel.read(META_BLOCK)?;
        Meta::decode(&page)
    }

    /// Checks and decodes a meta page.
    fn decode(page: &Page) -> Result<Meta> {
        let bad = |reason: &str| Error::corrupt(META_BLOCK, reason);
        page.expect_kind(PageKind::Meta, META_BLOCK)?;
        let w: Vec<u32> = page.words()[..META_WORDS].iter().map(|x| x.to_bits()).collect();
        if w[0] != MAGIC {
            return Err(bad("not a fashrec IVF index (bad magic number)"));
        }
        if w[1] != VERSION {
            return Err(bad("unsupported index version; REINDEX it"));
        }
        let metric = Metric::from_id(w[4]).ok_or_else(|| bad("unknown metric"))?;
        let mut meta = Meta::new(w[2] as usize, w[3], metric).map_err(|_| bad("bad dimensions or lists"))?;
        if w[5] != FIRST_CENTROID_BLOCK || w[6] != meta.centroid_pages {
            return Err(bad("centroid pages do not match the list count"));
        }
        meta.built_rows = w[7] as u64 | (w[8] as u64) << 32;
        meta.sample_rows = w[9] as u64 | (w[10] as u64) << 32;
        Ok(meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips() {
        let mut meta = Meta::new(784, 245, Metric::Cosine).unwrap();
        meta.built_rows = 5_000_000_000;
        meta.sample_rows = 12_345;
        assert_eq!(meta.per_page(), 2);
        assert_eq!(meta.centroid_pages, 123);
        assert_eq!(meta.centroid_slot(244), (123, 0));
        let mut page = Page::zeroed();
        meta.write(&mut page);
        assert_eq!(Meta::decode(&page), Ok(meta));
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Meta::new(0, 10, Metric::L2).is_err());
        assert!(Meta::new(MAX_DIMS + 1, 10, Metric::L2).is_err());
        assert!(Meta::new(MAX_DIMS, 10, Metric::L2).is_ok());
        assert!(Meta::new(8, 0, Metric::L2).is_err());
        assert!(Meta::new(8, MAX_LISTS + 1, Metric::L2).is_err());
    }

    #[test]
    fn corrupt_meta_is_reported() {
        let meta = Meta::new(8, 10, Metric::L2).unwrap();
        let mut page = Page::zeroed();
        meta.write(&mut page);
        page.words_mut()[0] = f32::from_bits(0);
        assert!(Meta::decode(&page).is_err());
        meta.write(&mut page);
        page.words_mut()[6] = f32::from_bits(99);
        assert!(Meta::decode(&page).is_err());
        assert!(Meta::decode(&Page::zeroed()).is_err());
    }
}
