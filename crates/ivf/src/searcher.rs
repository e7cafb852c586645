//! Searching: rank the centroids once per query, then scan the nearest lists.
//!
//! A [`Searcher`] holds what every query needs and nothing changes after the build: the meta
//! page and the centroids with each list's first block. Open it once (per scan, or cached
//! per backend for as long as the index's relfilenode stays the same) and every query ranks
//! centroids from one contiguous array instead of reading the centroid pages again.
//!
//! [`Searcher::search`] gives the `k` nearest, through a bounded max-heap of `k`. A candidate
//! costs one comparison unless it beats the current k-th, and under L2 its distance loop
//! stops as soon as it cannot (see [`crate::metric`]). In an index with codes it reads the
//! probed lists' codes instead, then scores exactly, nearest bound first, the rows whose bound
//! does not exceed the k-th exact score so far (see [`crate::quantizer`]). The streaming form
//! for the access method is [`crate::scan::Scan`]. With `probes` equal to the number of lists,
//! both return exactly the brute-force order: by score, then by tid.

use std::borrow::Cow;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::ops::Range;

use crate::attributes::Filter;
use crate::block::{BlockNumber, INVALID_BLOCK};
use crate::centroids::{code_heads, for_each_centroid};
use crate::chain::Chain;
use crate::error::Result;
use crate::item::{CodeItem, RowItem, Tid};
use crate::meta::Meta;
use crate::metric::Scorer;
use crate::page::PageKind;
use crate::quantizer::{CodeQuery, Quantizer};
use crate::storage::Relation;
use crate::summary;

/// Bytes of each vector of the next page to prefetch: about the part an L2 score reads before
/// it can stop (measured on Fashion-MNIST with reordered dimensions: 2 KiB of 3 KiB beat both
/// less and the whole vector). Shorter vectors are prefetched whole.
const PREFETCH_BYTES_PER_VECTOR: usize = 2048;

/// One result: a row and its score (see [`crate::metric`]; `Metric::distance` turns it into
/// the SQL distance). Ordered by score (IEEE total order), then tid.
#[derive(Clone, Copy, Debug)]
pub struct Neighbor {
    /// The row.
    pub tid: Tid,
    /// Its score; smaller is nearer.
    pub score: f32,
}

impl Ord for Neighbor {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| self.tid.cmp(&other.tid))
    }
}

impl PartialOrd for Neighbor {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Neighbor {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Neighbor {}

/// What probed lists held for a filter: a list without a passing row is barren (`skipped` of
/// them were not even read, their summaries ruling them out), and the rows of the others
/// (`scanned`, of which `matched` passed) give the filter's selectivity where it matters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Yield {
    pub(crate) scanned: usize,
    pub(crate) matched: usize,
    pub(crate) barren: usize,
    pub(crate) skipped: usize,
    /// Pages of the lists read that their key ranges ruled out unread.
    pub(crate) pages_skipped: usize,
}

impl Yield {
    /// Counts one list of `rows` rows of which `matched` passed, as [`Searcher::scan_list`]
    /// read it.
    pub(crate) fn add_list(&mut self, (rows, pages_skipped): (usize, usize), matched: usize) {
        self.pages_skipped += pages_skipped;
        if matched == 0 {
            self.barren += 1;
        } else {
            self.scanned += rows;
            self.matched += matched;
        }
    }

    /// Counts one list a summary ruled out unread: barren, and skipped.
    pub(crate) fn add_skipped(&mut self) {
        self.barren += 1;
        self.skipped += 1;
    }

    pub(crate) fn add(&mut self, other: Yield) {
        self.scanned += other.scanned;
        self.matched += other.matched;
        self.barren += other.barren;
        self.skipped += other.skipped;
        self.pages_skipped += other.pages_skipped;
    }
}

/// A row waiting to be returned: its score, or (`exact` false) only a lower bound of it, to be
/// finished by reading its vector on page `block` if the row ever reaches the top.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Candidate {
    pub(crate) key: f32,
    pub(crate) exact: bool,
    pub(crate) tid: Tid,
    pub(crate) block: BlockNumber,
}

impl Candidate {
    /// A code's candidate: its bound, or +infinity (exact) for a zero vector under cosine.
    #[inline]
    fn of_code(query: &CodeQuery, item: CodeItem, code: &[u8]) -> Candidate {
        let zero = item.row.zero_norm();
        Candidate {
            key: if zero {
                f32::INFINITY
            } else {
                query.key(code, item.terms)
            },
            exact: zero,
            tid: item.row.tid(),
            block: item.vector_block,
        }
    }
}

impl Ord for Candidate {
    /// By key; at equal keys an unfinished row first (its true score may equal the key and
    /// then its tid decides); then by tid.
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .total_cmp(&other.key)
            .then(self.exact.cmp(&other.exact))
            .then(self.tid.cmp(&other.tid))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

/// An f32 in IEEE total order, for heaps of scores.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ordered(pub(crate) f32);

impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ordered {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ordered {}

/// A list to probe: its centroid's score and where its chains start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Probe {
    pub(crate) score: f32,
    pub(crate) list: u32,
    pub(crate) first: BlockNumber,
    /// The code chain's first block (`INVALID_BLOCK` without codes).
    pub(crate) code_first: BlockNumber,
}

/// Nearer centroid first; ties by list number, so the order never depends on the sort.
fn by_score(a: &Probe, b: &Probe) -> Ordering {
    a.score.total_cmp(&b.score).then(a.list.cmp(&b.list))
}

/// What every query of one index needs, read once: parameters, centroids, list heads.
#[derive(Debug)]
pub struct Searcher {
    pub(crate) meta: Meta,
    scorer: Scorer,
    /// Centroids one after another, dimensions in stored order.
    centroids: Vec<f32>,
    /// Each list's first block.
    firsts: Vec<BlockNumber>,
    /// What of a list page to prefetch.
    prefetch: Vec<Range<usize>>,
    /// What of a list page to prefetch when a filter reads every row's attributes but scores
    /// only the rows that pass: the attributes (empty without them).
    filtered_prefetch: Vec<Range<usize>>,
    /// What of the next list or code page a filtered scan prefetches where pages keep key
    /// ranges: the header and the ranges (the same bytes on both kinds of page).
    ranges_prefetch: Vec<Range<usize>>,
    /// The codes, if the index has them.
    codes: Option<Codes>,
}

/// What scanning codes needs: the quantiser and where each list's code chain starts.
#[derive(Debug)]
struct Codes {
    quantizer: Quantizer,
    firsts: Vec<BlockNumber>,
    /// Code pages are read whole: all of the next one is prefetched.
    prefetch: Vec<Range<usize>>,
}

impl Searcher {
    /// Reads the meta page and the centroid pages.
    pub fn open<R: Relation>(rel: &R) -> Result<Searcher> {
        Searcher::open_with(rel, Meta::read(rel)?)
    }

    /// As [`Searcher::open`], with the meta page already read from `rel`.
    pub fn open_with<R: Relation>(rel: &R, meta: Meta) -> Result<Searcher> {
        let mut centroids = Vec::with_capacity(meta.lists as usize * meta.dims as usize);
        let mut firsts = Vec::with_capacity(meta.lists as usize);
        for_each_centroid(rel, &meta, |_, head, centroid| {
            centroids.extend_from_slice(centroid);
            firsts.push(head.first);
        })?;
        let codes = match meta.codes {
            Some(region) => Some(Codes {
                quantizer: Quantizer::read(rel, &meta)?,
                firsts: code_heads(rel, &meta)?.iter().map(|h| h.first).collect(),
                prefetch: region.layout.prefetch_ranges(usize::MAX),
            }),
            None => None,
        };
        Ok(Searcher {
            codes,
            scorer: meta.metric.scorer(),
            // Pages of short vectors are one dense run, which the CPU prefetches by itself.
            prefetch: if meta.dims as usize * 4 > PREFETCH_BYTES_PER_VECTOR / 2 {
                meta.layout.prefetch_ranges(PREFETCH_BYTES_PER_VECTOR)
            } else {
                Vec::new()
            },
            ranges_prefetch: meta.layout.key_ranges_prefetch(),
            filtered_prefetch: match meta.attribute_bytes() {
                0 => Vec::new(),
                bytes => {
                    let vector = meta.dims as usize * size_of::<f32>();
                    meta.layout.prefetch_ranges_within(vector..vector + bytes)
                }
            },
            meta,
            centroids,
            firsts,
        })
    }

    /// What of a list page to prefetch, for a scan with a filter or without: the parts of
    /// its rows the scan reads from every row (nothing where the CPU's own prefetcher does).
    pub(crate) fn list_prefetch(&self, filtered: bool) -> &[Range<usize>] {
        if filtered && !self.filtered_prefetch.is_empty() {
            &self.filtered_prefetch
        } else {
            &self.prefetch
        }
    }

    /// Whether a scan with `filter` tests pages' key ranges and skips some pages unread.
    fn skips_pages(&self, filter: &Filter) -> bool {
        !filter.is_empty() && self.meta.layout.has_key_ranges()
    }

    /// What of a page to prefetch before it is known whether the scan reads it: `whole`, or
    /// where a filter tests key ranges (and skips most pages), only the header and the ranges;
    /// a page that may pass has the rest prefetched then.
    pub(crate) fn lookahead<'a>(
        &'a self,
        filter: &Filter,
        whole: &'a [Range<usize>],
    ) -> &'a [Range<usize>] {
        if self.skips_pages(filter) && !whole.is_empty() {
            &self.ranges_prefetch
        } else {
            whole
        }
    }

    /// The index's parameters.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// About how much memory the searcher holds (for callers that keep searchers around).
    pub fn memory_bytes(&self) -> usize {
        size_of::<Searcher>()
            + self.centroids.len() * size_of::<f32>()
            + self.firsts.len() * size_of::<BlockNumber>()
            + (self.prefetch.len() + self.filtered_prefetch.len() + self.ranges_prefetch.len())
                * size_of::<Range<usize>>()
            + self.codes.as_ref().map_or(0, |codes| {
                // The quantiser's offset and step per dimension, and each code chain's head.
                self.meta.dims as usize * 2 * size_of::<f32>()
                    + codes.firsts.len() * size_of::<BlockNumber>()
                    + codes.prefetch.len() * size_of::<Range<usize>>()
            })
    }

    /// The `k` nearest rows in the `probes` nearest lists, nearest first.
    pub fn search<R: Relation>(
        &self,
        rel: &R,
        query: &[f32],
        k: usize,
        probes: u32,
    ) -> Result<Vec<Neighbor>> {
        let probes = (probes.max(1) as usize).min(self.firsts.len());
        let mut query = Query::new(self, query, probes)?;
        query.rank(probes, 0);
        if k == 0 {
            return Ok(Vec::new());
        }
        if let Some(codes) = &query.codes {
            return self.search_codes(rel, &query, codes, k, probes);
        }
        let mut heap: BinaryHeap<Neighbor> = BinaryHeap::with_capacity(k + 1);
        // The k-th best score so far (infinite until there are k): most candidates are
        // rejected against it without touching the heap.
        let mut worst = f32::INFINITY;
        let ranked = &query.probes[..probes];
        let everything = Filter::new();
        for (i, probe) in ranked.iter().enumerate() {
            if let Some(next) = ranked.get(i + 1) {
                if !self.prefetch.is_empty() {
                    rel.prefetch(next.first, &self.prefetch);
                }
            }
            self.scan_list(
                rel,
                probe.first,
                &self.prefetch,
                &everything,
                |_, item, vector, _| {
                    let score = self.score(&query.vector, item, vector, worst);
                    if score.total_cmp(&worst).is_gt() {
                        return;
                    }
                    // Only a candidate that may beat the current k-th needs its tid decoded.
                    let candidate = Neighbor {
                        tid: item.tid(),
                        score,
                    };
                    if heap.len() < k {
                        heap.push(candidate);
                    } else if let Some(mut top) = heap.peek_mut() {
                        if candidate < *top {
                            *top = candidate;
                        }
                    }
                    if heap.len() == k {
                        worst = heap.peek().map_or(f32::INFINITY, |n| n.score);
                    }
                },
            )?;
        }
        Ok(heap.into_sorted_vec())
    }

    /// `search` in an index with codes: bounds from the probed lists' codes, then exact scores
    /// nearest bound first until the next bound exceeds the k-th exact score.
    fn search_codes<R: Relation>(
        &self,
        rel: &R,
        query: &Query,
        codes: &CodeQuery,
        k: usize,
        probes: usize,
    ) -> Result<Vec<Neighbor>> {
        let mut candidates = Vec::new();
        self.code_candidates(
            rel,
            codes,
            &Filter::new(),
            &query.probes[..probes],
            &mut candidates,
        )?;
        let mut candidates = BinaryHeap::from(candidates);
        let mut heap: BinaryHeap<Neighbor> = BinaryHeap::with_capacity(k + 1);
        while let Some(Reverse(candidate)) = candidates.pop() {
            if heap.len() == k
                && heap
                    .peek()
                    .is_some_and(|n| candidate.key.total_cmp(&n.score).is_gt())
            {
                break;
            }
            let score = if candidate.exact {
                candidate.key
            } else {
                match self.rescore_row(rel, &query.vector, candidate.block, candidate.tid)? {
                    Some(score) => score,
                    None => continue,
                }
            };
            let candidate = Neighbor {
                tid: candidate.tid,
                score,
            };
            if heap.len() < k {
                heap.push(candidate);
            } else if let Some(mut top) = heap.peek_mut() {
                if candidate < *top {
                    *top = candidate;
                }
            }
        }
        Ok(heap.into_sorted_vec())
    }

    /// Score of one stored item; above `bound` it may be any value above the bound.
    #[inline]
    pub(crate) fn score(&self, query: &[f32], item: RowItem, vector: &[f32], bound: f32) -> f32 {
        if item.zero_norm() {
            f32::INFINITY
        } else {
            (self.scorer)(query, vector, bound)
        }
    }

    /// The exact score of row `tid` on page `block`, if it is still there (a vacuum may have
    /// removed it since the page was last read; then the row is dead and is skipped).
    pub(crate) fn rescore_row<R: Relation>(
        &self,
        rel: &R,
        query: &[f32],
        block: BlockNumber,
        tid: Tid,
    ) -> Result<Option<f32>> {
        let page = rel.read(block)?;
        page.expect_kind(PageKind::List, block)?;
        let found = page
            .items(&self.meta.layout, block)?
            .iter()
            .find(|(item, _)| item.tid() == tid)
            .map(|(item, values)| {
                let (vector, _) = self.meta.split_row(values);
                self.score(query, item, vector, f32::INFINITY)
            });
        Ok(found)
    }

    /// Adds a candidate for every code of the `probes` lists whose row passes `filter` to
    /// `out`; returns what the lists held (see [`Yield`]).
    pub(crate) fn code_candidates<R: Relation>(
        &self,
        rel: &R,
        query: &CodeQuery,
        filter: &Filter,
        probes: &[Probe],
        out: &mut Vec<Reverse<Candidate>>,
    ) -> Result<Yield> {
        let prefetch = self
            .codes
            .as_ref()
            .map_or(&[][..], |codes| &codes.prefetch[..]);
        let mut found = Yield::default();
        let probes = self.lists_to_read(rel, filter, probes, &mut found)?;
        let lookahead = self.lookahead(filter, prefetch);
        for (i, probe) in probes.iter().enumerate() {
            if let Some(next) = probes.get(i + 1) {
                rel.prefetch(next.code_first, lookahead);
            }
            let before = out.len();
            let read =
                self.scan_codes(rel, probe.code_first, filter, |item, code, attributes| {
                    if filter.matches(attributes) {
                        out.push(Reverse(Candidate::of_code(query, item, code)));
                    }
                })?;
            found.add_list(read, out.len() - before);
        }
        Ok(found)
    }

    /// The lists of `probes` that may hold a row passing `filter`, by their summaries (all of
    /// them without a filter or summaries); the others are counted in `found` as barren.
    pub(crate) fn lists_to_read<'p, R: Relation>(
        &self,
        rel: &R,
        filter: &Filter,
        probes: &'p [Probe],
        found: &mut Yield,
    ) -> Result<Cow<'p, [Probe]>> {
        let Some(region) = self.meta.summaries.as_ref().filter(|_| !filter.is_empty()) else {
            return Ok(Cow::Borrowed(probes));
        };
        let mut read = Vec::with_capacity(probes.len());
        for probe in probes {
            if summary::with_summary(rel, region, probe.list, |_, values| {
                region.may_pass(filter, values)
            })? {
                read.push(*probe);
            } else {
                found.add_skipped();
            }
        }
        Ok(Cow::Owned(read))
    }

    /// Calls `visit(item, code, attributes)` for every item of one code chain, a page at a
    /// time, asking the relation to prefetch each next page while the current one is scored,
    /// and skipping the pages whose key ranges no row passing `filter` fits; returns the rows of
    /// the chain (skipped ones included) and the pages skipped.
    pub(crate) fn scan_codes<R: Relation>(
        &self,
        rel: &R,
        first: BlockNumber,
        filter: &Filter,
        mut visit: impl FnMut(CodeItem, &[u8], &[u8]),
    ) -> Result<(usize, usize)> {
        let (Some(region), Some(codes)) = (self.meta.codes, &self.codes) else {
            return Ok((0, 0));
        };
        let (ranged, lookahead) = (
            self.skips_pages(filter),
            self.lookahead(filter, &codes.prefetch),
        );
        let (mut rows, mut skipped) = (0, 0);
        let mut chain = Chain::new(first);
        while let Some((block, page)) = chain.next_page(rel, PageKind::Code)? {
            if chain.peek() != INVALID_BLOCK {
                rel.prefetch(chain.peek(), lookahead);
            }
            let items = page.items(&region.layout, block)?;
            rows += items.len();
            if filter.is_empty() || page.may_pass(&region.layout, filter) {
                if ranged {
                    crate::page::prefetch_into_cache(page.as_bytes().as_ptr(), &codes.prefetch);
                }
                for (item, values) in items.iter() {
                    let (code, attributes) = self.meta.split_code(values);
                    visit(item, code, attributes);
                }
            } else {
                skipped += 1;
            }
        }
        Ok((rows, skipped))
    }

    /// Calls `visit(block, item, vector, attributes)` for every item of one list, a page at a
    /// time, asking the relation to prefetch `prefetch` of each next page while the current one
    /// is scored, and skipping the pages whose key ranges no row passing `filter` fits; returns
    /// the rows of the list (skipped ones included) and the pages skipped.
    pub(crate) fn scan_list<R: Relation>(
        &self,
        rel: &R,
        first: BlockNumber,
        prefetch: &[Range<usize>],
        filter: &Filter,
        mut visit: impl FnMut(BlockNumber, RowItem, &[f32], &[u8]),
    ) -> Result<(usize, usize)> {
        let (ranged, next) = (self.skips_pages(filter), self.lookahead(filter, prefetch));
        let (mut rows, mut skipped) = (0, 0);
        let mut chain = Chain::new(first);
        while let Some((block, page)) = chain.next_page(rel, PageKind::List)? {
            if chain.peek() != INVALID_BLOCK && !next.is_empty() {
                rel.prefetch(chain.peek(), next);
            }
            let items = page.items(&self.meta.layout, block)?;
            rows += items.len();
            if filter.is_empty() || page.may_pass(&self.meta.layout, filter) {
                if ranged {
                    crate::page::prefetch_into_cache(page.as_bytes().as_ptr(), prefetch);
                }
                for (item, values) in items.iter() {
                    let (vector, attributes) = self.meta.split_row(values);
                    visit(block, item, vector, attributes);
                }
            } else {
                skipped += 1;
            }
        }
        Ok((rows, skipped))
    }
}

/// A prepared query and the lists ranked by centroid score.
pub(crate) struct Query {
    pub(crate) vector: Vec<f32>,
    pub(crate) probes: Vec<Probe>,
    /// The query prepared for the codes, if the index has them.
    pub(crate) codes: Option<CodeQuery>,
    /// The best `exact_for` lists have exact scores; every other list is only known to rank
    /// after them (its score stopped early above theirs).
    pub(crate) exact_for: usize,
}

impl Query {
    /// Prepares the query and scores the centroids: exactly for the `best` nearest lists, and
    /// for the others only far enough to know that they rank after those.
    pub(crate) fn new(searcher: &Searcher, query: &[f32], best: usize) -> Result<Query> {
        let mut prepared = Query::unscored(searcher, query)?;
        prepared.score(searcher, best);
        Ok(prepared)
    }

    /// Prepares the query; no centroid is scored yet (see [`Query::score`]).
    pub(crate) fn unscored(searcher: &Searcher, query: &[f32]) -> Result<Query> {
        let mut vector = Vec::with_capacity(searcher.meta.dims as usize);
        searcher.meta.prepare(query, &mut vector)?;
        let codes = searcher
            .codes
            .as_ref()
            .map(|codes| codes.quantizer.query(&vector));
        Ok(Query {
            vector,
            probes: Vec::new(),
            codes,
            exact_for: 0,
        })
    }

    /// Whether the centroids have been scored.
    pub(crate) fn is_scored(&self) -> bool {
        !self.probes.is_empty()
    }

    /// Scores the centroids: exactly for the `best` nearest lists (all of them if `best` is
    /// at least their number), and for the others only far enough to know that they rank
    /// after those.
    pub(crate) fn score(&mut self, searcher: &Searcher, best: usize) {
        let dims = searcher.meta.dims as usize;
        let vector = &self.vector;
        let mut probes = Vec::with_capacity(searcher.firsts.len());
        // The `best` lowest scores so far; a centroid scoring above the worst of them cannot
        // be among the best, and its scoring may stop early.
        let bounded = best < searcher.firsts.len();
        let mut bounds: BinaryHeap<Ordered> =
            BinaryHeap::with_capacity(if bounded { best + 1 } else { 0 });
        for (list, (centroid, &first)) in searcher
            .centroids
            .chunks_exact(dims)
            .zip(&searcher.firsts)
            .enumerate()
        {
            let bound = match bounds.peek() {
                Some(worst) if bounds.len() >= best => worst.0,
                _ => f32::INFINITY,
            };
            let score = (searcher.scorer)(vector, centroid, bound);
            if bounded && best > 0 && score.total_cmp(&bound).is_le() {
                bounds.push(Ordered(score));
                if bounds.len() > best {
                    bounds.pop();
                }
            }
            probes.push(Probe {
                score,
                list: list as u32,
                first,
                code_first: searcher
                    .codes
                    .as_ref()
                    .and_then(|codes| codes.firsts.get(list).copied())
                    .unwrap_or(INVALID_BLOCK),
            });
        }
        self.probes = probes;
        self.exact_for = if bounded { best } else { self.probes.len() };
    }

    /// Orders the `n` best lists from position `from` on, nearest first; the rest stay
    /// unordered. Scores are made exact first where they need to be.
    pub(crate) fn rank(&mut self, n: usize, from: usize) {
        let rest = &mut self.probes[from..];
        let n = n.min(rest.len());
        if n == 0 {
            return;
        }
        if n < rest.len() {
            rest.select_nth_unstable_by(n - 1, by_score);
        }
        rest[..n].sort_unstable_by(by_score);
    }

    /// Scores exactly every list from position `from` on (to probe past the exact ones).
    pub(crate) fn rescore(&mut self, searcher: &Searcher, from: usize) {
        let dims = searcher.meta.dims as usize;
        for probe in &mut self.probes[from..] {
            let start = probe.list as usize * dims;
            if let Some(centroid) = searcher.centroids.get(start..start + dims) {
                probe.score = (searcher.scorer)(&self.vector, centroid, f32::INFINITY);
            }
        }
        self.exact_for = self.probes.len();
    }
}

/// The `k` nearest rows in the `probes` nearest lists, nearest first (opens a [`Searcher`]
/// for this one query).
pub fn search<R: Relation>(rel: &R, query: &[f32], k: usize, probes: u32) -> Result<Vec<Neighbor>> {
    Searcher::open(rel)?.search(rel, query, k, probes)
}
