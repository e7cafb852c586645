//! The meta page (block 0): what every other page's layout depends on.
//!
//! Words below `pd_lower`, in order: magic, version, dimensions, lists, metric, first centroid
//! block, centroid pages, rows seen by the build (two words), rows in the k-means sample (two
//! words), then the dimension order: a flag word and, if set, one u16 per dimension (two to a
//! word). Written by the build and never changed afterwards.
//!
//! The dimension order: under L2 the build may store every vector with its dimensions sorted
//! by decreasing variance (queries and inserts are permuted the same way). Distances do not
//! change, but the partial sums of a far vector pass the current k-th distance sooner, so the
//! early-stopping loop reads less of it.

use crate::error::{Error, Result};
use crate::metric::Metric;
use crate::page::{Layout, Page, PageKind, MAX_DIMS};
use crate::block::BlockNumber;
use crate::storage::Relation;

/// "FRIV": marks a fashrec IVF meta page.
const MAGIC: u32 = 0x4652_4956;
/// Bumped whenever the on-disk layout changes.
const VERSION: u32 = 1;
/// Fixed words of the meta page (the dimension order follows).
const META_WORDS: usize = 12;

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
    /// Where items go on centroid and list pages (follows from `dims`).
    pub(crate) layout: Layout,
    /// Stored position i holds dimension `order[i]` of the vector as given, if reordered.
    pub(crate) order: Option<Vec<u16>>,
}

impl Meta {
    /// Parameters for a new index, checked.
    pub(crate) fn new(dims: usize, lists: u32, metric: Metric) -> Result<Meta> {
        let Some(layout) = Layout::new(dims) else {
            return Err(Error::TooManyDimensions {
                dims,
                max: MAX_DIMS,
            });
        };
        if lists == 0 || lists > MAX_LISTS {
            return Err(Error::InvalidOption(format!(
                "lists must be between 1 and {MAX_LISTS}, not {lists}"
            )));
        }
        let per_page = layout.capacity() as u32;
        Ok(Meta {
            dims: dims as u32,
            lists,
            metric,
            centroid_pages: lists.div_ceil(per_page),
            built_rows: 0,
            sample_rows: 0,
            layout,
            order: None,
        })
    }

    /// Checks a vector and writes the form the index stores and compares (dimensions in
    /// stored order, unit length under cosine) into `out`; false for a zero cosine vector.
    pub(crate) fn prepare(&self, vector: &[f32], out: &mut Vec<f32>) -> Result<bool> {
        crate::metric::check(vector, self.dims as usize)?;
        out.clear();
        match &self.order {
            Some(order) => out.extend(order.iter().map(|&d| vector[d as usize])),
            None => out.extend_from_slice(vector),
        }
        Ok(self.metric.finish(out))
    }

    /// Items (centroids or vectors) per page.
    pub(crate) fn per_page(&self) -> usize {
        self.layout.capacity()
    }

    /// The centroid page and item index that hold `list`.
    pub(crate) fn centroid_slot(&self, list: u32) -> (BlockNumber, usize) {
        let per_page = self.per_page() as u32;
        (
            FIRST_CENTROID_BLOCK + list / per_page,
            (list % per_page) as usize,
        )
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
            self.order.is_some() as u32,
        ];
        let content = page.words_mut();
        content[..META_WORDS].copy_from_slice(&words);
        let mut used = META_WORDS;
        if let Some(order) = &self.order {
            for (word, pair) in content[META_WORDS..].iter_mut().zip(order.chunks(2)) {
                *word = pair[0] as u32 | (pair.get(1).copied().unwrap_or(0) as u32) << 16;
            }
            used += order.len().div_ceil(2);
        }
        page.set_lower(32 + used * 4);
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
        let w = &page.words()[..META_WORDS];
        if w[0] != MAGIC {
            return Err(bad("not a fashrec IVF index (bad magic number)"));
        }
        if w[1] != VERSION {
            return Err(bad("unsupported index version; REINDEX it"));
        }
        let metric = Metric::from_id(w[4]).ok_or_else(|| bad("unknown metric"))?;
        let mut meta =
            Meta::new(w[2] as usize, w[3], metric).map_err(|_| bad("bad dimensions or lists"))?;
        if w[5] != FIRST_CENTROID_BLOCK || w[6] != meta.centroid_pages {
            return Err(bad("centroid pages do not match the list count"));
        }
        meta.built_rows = w[7] as u64 | (w[8] as u64) << 32;
        meta.sample_rows = w[9] as u64 | (w[10] as u64) << 32;
        if w[11] == 1 {
            let dims = meta.dims as usize;
            let words = &page.words()[META_WORDS..META_WORDS + dims.div_ceil(2)];
            let order: Vec<u16> = words
                .iter()
                .flat_map(|&w| [w as u16, (w >> 16) as u16])
                .take(dims)
                .collect();
            let mut seen = vec![false; dims];
            for &d in &order {
                match seen.get_mut(d as usize) {
                    Some(s) if !*s => *s = true,
                    _ => return Err(bad("dimension order is not a permutation")),
                }
            }
            meta.order = Some(order);
        } else if w[11] != 0 {
            return Err(bad("bad dimension order flag"));
        }
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
        meta.order = Some((0..784).rev().collect());
        assert_eq!(meta.per_page(), 2);
        assert_eq!(meta.centroid_pages, 123);
        assert_eq!(meta.centroid_slot(244), (123, 0));
        let mut page = Page::zeroed();
        meta.write(&mut page);
        assert_eq!(Meta::decode(&page), Ok(meta.clone()));
        let mut v = Vec::new();
        let input: Vec<f32> = (0..784).map(|i| i as f32).collect();
        meta.prepare(&input, &mut v).unwrap();
        // Reordered, then scaled to unit length (cosine).
        assert!(v[0] > v[1] && v[1] > v[2] && v[783] == 0.0);
        assert!(meta.prepare(&input[1..], &mut v).is_err());
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
        page.words_mut()[0] = 0;
        assert!(Meta::decode(&page).is_err());
        meta.write(&mut page);
        page.words_mut()[6] = 99;
        assert!(Meta::decode(&page).is_err());
        let mut ordered = meta.clone();
        ordered.order = Some(vec![0, 1, 2, 3, 4, 5, 6, 6]);
        ordered.write(&mut page);
        assert!(Meta::decode(&page).is_err());
        assert!(Meta::decode(&Page::zeroed()).is_err());
    }
}
