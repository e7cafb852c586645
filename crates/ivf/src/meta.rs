//! The meta page (block 0): what every other page's layout depends on.
//!
//! Words below `pd_lower`, in order: magic, version, dimensions, lists, metric, first centroid
//! block, centroid pages, rows seen by the build (two words), rows in the k-means sample (two
//! words), the dimension order flag, then (version 2) the code words: a flag (1: each list has
//! a chain of one-byte codes, see [`crate::quantizer`]), the first quantiser block, quantiser
//! pages, code heads pages; then, if the order flag is set, one u16 per dimension (two to a
//! word). Written by the build and never changed afterwards.
//!
//! Version 1 is the same without the code words: such an index is read as one without codes.
//! Version 3 adds one word after the code words: the number of attributes each row stores
//! beside its vector and its code (see [`crate::attributes`]); an index without attributes is
//! still written as version 2, byte for byte as before. Version 4 (an index with attributes
//! built since) adds a second word: the number of summary pages, one summary of its rows'
//! attributes per list (see [`crate::summary`]); a version 3 index is read as one without
//! summaries. Version 5 has the same words; its summaries also count pairs of attributes, and
//! a version 4 index is read as one whose summaries do not. Version 6 has the same words; its
//! list and code pages keep their rows' key ranges (see [`crate::key_ranges`]), and its build
//! ordered each list's rows by their attributes; an index of version 3 to 5 is read with pages
//! that keep none.
//!
//! Blocks: the meta page, the centroid pages, then (with codes) the quantiser pages and the
//! code heads pages, then (version 4) the summary pages, then the list and code chains.
//!
//! The dimension order: under L2 the build may store every vector with its dimensions sorted
//! by decreasing variance (queries and inserts are permuted the same way). Distances do not
//! change, but the partial sums of a far vector pass the current k-th distance sooner, so the
//! early-stopping loop reads less of it.

use crate::attributes::{stored_bytes, MAX_ATTRIBUTES};
use crate::block::BlockNumber;
use crate::error::{Error, Result};
use crate::item::{CodeItem, ListHead, RowItem};
use crate::metric::Metric;
use crate::page::{Layout, Page, PageKind, MAX_DIMS};
use crate::quantizer::Quantizer;
use crate::storage::Relation;
use crate::summary::SummaryRegion;

/// "FRIV": marks a fashrec IVF meta page.
const MAGIC: u32 = 0x4652_4956;
/// Bumped whenever the on-disk layout changes.
const VERSION: u32 = 2;
/// The version of an index whose rows store attributes, before list summaries.
const VERSION_WITH_ATTRIBUTES: u32 = 3;
/// The version of an index whose rows store attributes and whose lists have summaries.
const VERSION_WITH_SUMMARIES: u32 = 4;
/// The version of an index whose list summaries also count pairs of attributes (the same words
/// as version 4).
const VERSION_WITH_PAIRS: u32 = 5;
/// The version of an index whose list and code pages keep their rows' key ranges (the same
/// words as version 4).
const VERSION_WITH_KEY_RANGES: u32 = 6;
/// The version before codes, still read.
const VERSION_WITHOUT_CODES: u32 = 1;
/// Fixed words of the meta page (the dimension order follows).
const META_WORDS: usize = 16;
/// Fixed words of a version 3 meta page.
const META_WORDS_V3: usize = 17;
/// Fixed words of a version 4 meta page.
const META_WORDS_V4: usize = 18;
/// Fixed words of a version 1 meta page.
const META_WORDS_V1: usize = 12;

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
    /// Attributes each row stores beside its vector (see [`crate::attributes`]).
    pub attributes: u32,
    /// Where items go on list pages (follows from `dims`).
    pub(crate) layout: Layout<RowItem, f32>,
    /// Where items go on centroid pages (the same places).
    pub(crate) centroid_layout: Layout<ListHead, f32>,
    /// Stored position i holds dimension `order[i]` of the vector as given, if reordered.
    pub(crate) order: Option<Vec<u16>>,
    /// Where the codes' pages are, if the index has codes.
    pub(crate) codes: Option<CodeRegion>,
    /// Where the lists' summaries are, if the index has them (it has attributes and was built
    /// as version 4).
    pub(crate) summaries: Option<SummaryRegion>,
}

/// The pages of an index with codes: quantiser, code chain heads, and the code page layout.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct CodeRegion {
    /// First quantiser page; they are consecutive.
    pub quantizer: BlockNumber,
    pub quantizer_pages: u32,
    /// First code heads page (one [`ListHead`] per list); they follow the quantiser pages.
    pub heads: BlockNumber,
    pub head_pages: u32,
    /// Where items go on code pages.
    pub layout: Layout<CodeItem, u8>,
    /// Where heads go on code heads pages.
    pub head_layout: Layout<ListHead, u8>,
}

impl CodeRegion {
    /// The region of an index of `dims` and `lists` whose centroid pages end before `after`;
    /// each code is followed by the stored bytes of `attributes` attributes, whose key ranges
    /// the pages keep.
    fn new(dims: usize, attributes: usize, lists: u32, after: BlockNumber) -> Option<CodeRegion> {
        let head_layout = Layout::headers_only();
        let quantizer_pages = Quantizer::pages(dims);
        Some(CodeRegion {
            quantizer: after,
            quantizer_pages,
            heads: after + quantizer_pages,
            head_pages: lists.div_ceil(head_layout.capacity() as u32),
            layout: Layout::with_key_ranges(dims + stored_bytes(attributes), attributes)?,
            head_layout,
        })
    }

    /// The code heads page and item index that hold `list`.
    pub(crate) fn head_slot(&self, list: u32) -> (BlockNumber, usize) {
        let per_page = self.head_layout.capacity() as u32;
        (self.heads + list / per_page, (list % per_page) as usize)
    }
}

impl Meta {
    /// Parameters for a new index, checked; `codes` gives each list a code chain.
    #[cfg(test)]
    pub(crate) fn new(dims: usize, lists: u32, metric: Metric, codes: bool) -> Result<Meta> {
        Meta::with_attributes(dims, lists, metric, codes, 0)
    }

    /// The same for rows that store `attributes` attributes each.
    pub(crate) fn with_attributes(
        dims: usize,
        lists: u32,
        metric: Metric,
        codes: bool,
        attributes: u32,
    ) -> Result<Meta> {
        if attributes as usize > MAX_ATTRIBUTES {
            return Err(Error::InvalidOption(format!(
                "an index stores at most {MAX_ATTRIBUTES} columns beside the vector, not {attributes}"
            )));
        }
        let extra = stored_bytes(attributes as usize);
        // Attributes ride in the values array after the vector: 4 bytes to an f32 slot.
        let (Some(layout), Some(centroid_layout)) = (
            Layout::with_key_ranges(dims + extra / 4, attributes as usize),
            Layout::new(dims),
        ) else {
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
        let centroid_pages = lists.div_ceil(centroid_layout.capacity() as u32);
        let codes = if codes {
            let region = CodeRegion::new(
                dims,
                attributes as usize,
                lists,
                FIRST_CENTROID_BLOCK + centroid_pages,
            );
            // Cannot fail: a code item is smaller than a list item.
            Some(region.ok_or(Error::TooManyDimensions {
                dims,
                max: MAX_DIMS,
            })?)
        } else {
            None
        };
        let after = codes.map_or(FIRST_CENTROID_BLOCK + centroid_pages, |c| {
            c.heads + c.head_pages
        });
        let summaries = match attributes {
            0 => None,
            n => Some(SummaryRegion::new(n as usize, lists, after, true).ok_or(
                Error::InvalidOption(format!("{n} attributes do not fit a summary page")),
            )?),
        };
        Ok(Meta {
            dims: dims as u32,
            lists,
            metric,
            centroid_pages,
            built_rows: 0,
            sample_rows: 0,
            attributes,
            layout,
            centroid_layout,
            order: None,
            codes,
            summaries,
        })
    }

    /// Makes the list and code layouts those of an index before version 6, whose pages keep no
    /// key ranges.
    fn without_key_ranges(&mut self) {
        let items = self.layout.dims();
        // Cannot fail: the same items fit better without the ranges.
        if let Some(layout) = Layout::new(items) {
            self.layout = layout;
        }
        if let Some(region) = &mut self.codes {
            if let Some(layout) = Layout::new(region.layout.dims()) {
                region.layout = layout;
            }
        }
    }

    /// Pages of list summaries (0: the index has none; see [`crate::summary`]).
    pub fn summary_pages(&self) -> u32 {
        self.summaries.map_or(0, |region| region.pages)
    }

    /// Whether each list has a chain of one-byte codes, scanned before its vectors.
    pub fn has_codes(&self) -> bool {
        self.codes.is_some()
    }

    /// Rows on each page a scan reads for every row of a probed list: a code page if the index
    /// has codes (then only the rows that reach the top have their vector pages read), else a
    /// list page.
    pub fn rows_per_scanned_page(&self) -> usize {
        match &self.codes {
            Some(codes) => codes.layout.capacity(),
            None => self.layout.capacity(),
        }
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

    /// Centroids per centroid page.
    pub(crate) fn per_page(&self) -> usize {
        self.centroid_layout.capacity()
    }

    /// A stored row's values as its vector and its attributes' bytes.
    pub(crate) fn split_row<'a>(&self, values: &'a [f32]) -> (&'a [f32], &'a [u8]) {
        let (vector, rest) = values.split_at(values.len().min(self.dims as usize));
        (vector, bytemuck::cast_slice(rest))
    }

    /// A stored code's bytes as the code and its row's attributes' bytes.
    pub(crate) fn split_code<'a>(&self, values: &'a [u8]) -> (&'a [u8], &'a [u8]) {
        values.split_at(values.len().min(self.dims as usize))
    }

    /// Bytes of one row's attributes.
    pub(crate) fn attribute_bytes(&self) -> usize {
        stored_bytes(self.attributes as usize)
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
        let version = match (self.attributes, self.summaries) {
            (0, _) => VERSION,
            (_, None) => VERSION_WITH_ATTRIBUTES,
            (_, Some(_)) if self.layout.has_key_ranges() => VERSION_WITH_KEY_RANGES,
            (_, Some(r)) if r.counts_pairs() => VERSION_WITH_PAIRS,
            (_, Some(_)) => VERSION_WITH_SUMMARIES,
        };
        let words = [
            MAGIC,
            version,
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
            self.codes.is_some() as u32,
            self.codes.map_or(0, |c| c.quantizer),
            self.codes.map_or(0, |c| c.quantizer_pages),
            self.codes.map_or(0, |c| c.head_pages),
        ];
        let content = page.words_mut();
        content[..META_WORDS].copy_from_slice(&words);
        let mut used = META_WORDS;
        if self.attributes > 0 {
            content[META_WORDS] = self.attributes;
            used = META_WORDS_V3;
        }
        if let Some(region) = self.summaries {
            content[META_WORDS_V3] = region.pages;
            used = META_WORDS_V4;
        }
        if let Some(order) = &self.order {
            for (word, pair) in content[used..].iter_mut().zip(order.chunks(2)) {
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
        if page.words()[0] != MAGIC {
            return Err(bad("not a fashrec IVF index (bad magic number)"));
        }
        let code_flag = || match page.words()[12] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(bad("bad code flag")),
        };
        let (fixed, codes, attributes) = match page.words()[1] {
            VERSION => (META_WORDS, code_flag()?, 0),
            VERSION_WITH_ATTRIBUTES
            | VERSION_WITH_SUMMARIES
            | VERSION_WITH_PAIRS
            | VERSION_WITH_KEY_RANGES => (META_WORDS_V3, code_flag()?, page.words()[META_WORDS]),
            VERSION_WITHOUT_CODES => (META_WORDS_V1, false, 0),
            _ => return Err(bad("unsupported index version; REINDEX it")),
        };
        let w = &page.words()[..fixed];
        let metric = Metric::from_id(w[4]).ok_or_else(|| bad("unknown metric"))?;
        let mut meta = Meta::with_attributes(w[2] as usize, w[3], metric, codes, attributes)
            .map_err(|_| bad("bad dimensions, lists or attributes"))?;
        let version = page.words()[1];
        if version == VERSION_WITH_SUMMARIES {
            meta.summaries = meta
                .summaries
                .and_then(|r| SummaryRegion::new(attributes as usize, meta.lists, r.first, false));
        }
        if version != VERSION_WITH_KEY_RANGES {
            meta.without_key_ranges();
        }
        let fixed = if (VERSION_WITH_SUMMARIES..=VERSION_WITH_KEY_RANGES).contains(&version) {
            let pages = meta.summaries.map_or(0, |r| r.pages);
            if page.words()[META_WORDS_V3] != pages {
                return Err(bad("summary pages do not match the list count"));
            }
            META_WORDS_V4
        } else {
            meta.summaries = None;
            fixed
        };
        if w[5] != FIRST_CENTROID_BLOCK || w[6] != meta.centroid_pages {
            return Err(bad("centroid pages do not match the list count"));
        }
        meta.built_rows = w[7] as u64 | (w[8] as u64) << 32;
        meta.sample_rows = w[9] as u64 | (w[10] as u64) << 32;
        if let Some(region) = meta.codes {
            if w[13..16] != [region.quantizer, region.quantizer_pages, region.head_pages] {
                return Err(bad("code pages do not match the list count"));
            }
        }
        if w[11] == 1 {
            let dims = meta.dims as usize;
            let words = &page.words()[fixed..fixed + dims.div_ceil(2)];
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
        let mut meta = Meta::new(784, 245, Metric::Cosine, false).unwrap();
        meta.built_rows = 5_000_000_000;
        meta.sample_rows = 12_345;
        meta.order = Some((0..784).rev().collect());
        assert_eq!(meta.per_page(), 2);
        assert_eq!(meta.rows_per_scanned_page(), 2);
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
    fn attributes_round_trip_as_version_6_with_summaries_and_widen_the_items() {
        let plain = Meta::new(64, 10, Metric::L2, true).unwrap();
        let mut meta = Meta::with_attributes(64, 10, Metric::L2, true, 2).unwrap();
        meta.order = Some((0..64).rev().collect());
        assert_eq!(meta.attribute_bytes(), 24);
        assert!(meta.layout.capacity() < plain.layout.capacity());
        assert_eq!(meta.centroid_pages, plain.centroid_pages);
        let mut page = Page::zeroed();
        meta.write(&mut page);
        assert_eq!(page.words()[1], VERSION_WITH_KEY_RANGES);
        assert_eq!(Meta::decode(&page), Ok(meta.clone()));
        assert!(meta.layout.has_key_ranges() && meta.codes.unwrap().layout.has_key_ranges());
        let summaries = meta.summaries.unwrap();
        assert!(summaries.counts_pairs());
        // Built before key ranges: version 5, read with pages that keep none.
        let mut before_ranges = meta.clone();
        before_ranges.without_key_ranges();
        assert!(before_ranges.layout.capacity() >= meta.layout.capacity());
        assert!(!before_ranges.layout.has_key_ranges());
        before_ranges.write(&mut page);
        assert_eq!(page.words()[1], VERSION_WITH_PAIRS);
        assert_eq!(Meta::decode(&page), Ok(before_ranges.clone()));
        // Built before pair counts: version 4, read with the narrower summaries.
        let mut before_pairs = before_ranges.clone();
        before_pairs.summaries = SummaryRegion::new(2, 10, summaries.first, false);
        before_pairs.write(&mut page);
        assert_eq!(page.words()[1], VERSION_WITH_SUMMARIES);
        assert_eq!(Meta::decode(&page), Ok(before_pairs));
        meta.write(&mut page);
        let codes = meta.codes.unwrap();
        assert_eq!(summaries.first, codes.heads + codes.head_pages);
        page.words_mut()[META_WORDS_V3] += 1;
        assert!(Meta::decode(&page).is_err());
        // Built before summaries: version 3, read without them.
        let mut older = before_ranges;
        older.summaries = None;
        older.write(&mut page);
        assert_eq!(page.words()[1], VERSION_WITH_ATTRIBUTES);
        assert_eq!(Meta::decode(&page), Ok(older));
        plain.write(&mut page);
        assert_eq!(
            page.words()[1],
            VERSION,
            "no attributes: the version 2 bytes"
        );
        assert!(Meta::with_attributes(64, 10, Metric::L2, true, 17).is_err());
    }

    #[test]
    fn codes_round_trip_and_follow_the_centroids() {
        let mut meta = Meta::new(784, 2500, Metric::L2, true).unwrap();
        meta.order = Some((0..784).collect());
        let region = meta.codes.unwrap();
        assert_eq!(region.quantizer, 1 + meta.centroid_pages);
        assert_eq!(region.quantizer_pages, 1);
        assert_eq!(region.heads, region.quantizer + 1);
        assert_eq!(region.head_pages, 3);
        assert_eq!(region.head_slot(2041), (region.heads + 2, 1));
        assert_eq!(region.layout.capacity(), 10);
        assert_eq!(meta.rows_per_scanned_page(), 10);
        let mut page = Page::zeroed();
        meta.write(&mut page);
        assert_eq!(Meta::decode(&page), Ok(meta.clone()));
        page.words_mut()[14] = 7;
        assert!(Meta::decode(&page).is_err());
    }

    /// Rewrites a meta page without codes as version 1 wrote it: no code words, the dimension
    /// order right after the order flag.
    fn as_version_1(page: &mut Page) {
        let words = page.words().to_vec();
        let content = page.words_mut();
        content[1] = VERSION_WITHOUT_CODES;
        let order = words.len() - META_WORDS;
        content[META_WORDS_V1..META_WORDS_V1 + order].copy_from_slice(&words[META_WORDS..]);
    }

    #[test]
    fn version_1_reads_as_an_index_without_codes() {
        let mut meta = Meta::new(300, 7, Metric::L2, false).unwrap();
        meta.built_rows = 99;
        meta.order = Some((0..300).rev().collect());
        let mut page = Page::zeroed();
        meta.write(&mut page);
        as_version_1(&mut page);
        assert_eq!(Meta::decode(&page), Ok(meta));
        page.words_mut()[1] = 3;
        assert!(Meta::decode(&page).is_err());
    }

    #[test]
    fn an_index_of_version_1_keeps_working() {
        use crate::storage::WriteSet;
        use crate::{build, BuildOptions, Codes, MemoryRelation, Searcher, Tid};
        let dims = 200;
        let rows: Vec<Vec<f32>> = (0..300)
            .map(|i| (0..dims).map(|d| ((i * 7 + d * 3) % 11) as f32).collect())
            .collect();
        let tid = |i: usize| Tid::new(i as u32, 1);
        let rel = MemoryRelation::new();
        let options = BuildOptions {
            lists: 4,
            codes: Codes::Never,
            ..BuildOptions::default()
        };
        let rows_of = || rows.iter().enumerate().map(|(i, v)| (tid(i), v.as_slice()));
        build(&rel, dims, options, rows_of, &mut |_| {}).unwrap();
        {
            let mut ws = rel.begin();
            let slot = ws.lock(META_BLOCK).unwrap();
            as_version_1(ws.page_mut(slot));
        }
        assert_eq!(rel.read(META_BLOCK).unwrap().words()[1], 1);
        let searcher = Searcher::open(&rel).unwrap();
        assert!(!searcher.meta().has_codes());
        assert_eq!(searcher.search(&rel, &rows[5], 1, 4).unwrap()[0].score, 0.0);
        crate::insert(&rel, tid(1000), &rows[7]).unwrap();
        let removed = crate::bulk_delete(&rel, &mut |t: Tid| t.block < 10).unwrap();
        assert_eq!(removed.removed, 10);
        let report = crate::check(&rel).unwrap();
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.rows, 291);
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Meta::new(0, 10, Metric::L2, true).is_err());
        assert!(Meta::new(MAX_DIMS + 1, 10, Metric::L2, true).is_err());
        assert!(Meta::new(MAX_DIMS, 10, Metric::L2, true).is_ok());
        assert!(Meta::new(8, 0, Metric::L2, true).is_err());
        assert!(Meta::new(8, MAX_LISTS + 1, Metric::L2, true).is_err());
    }

    #[test]
    fn corrupt_meta_is_reported() {
        let meta = Meta::new(8, 10, Metric::L2, true).unwrap();
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
