//! Searching: rank the centroids once per query, then scan the nearest lists.
//!
//! A [`Searcher`] holds what every query needs and nothing changes after the build: the meta
//! page and the centroids with each list's first block. Open it once (per scan, or cached
//! per backend for as long as the index's relfilenode stays the same) and every query ranks
//! centroids from one contiguous array instead of reading the centroid pages again.
//!
//! Two ways to query:
//! - [`Searcher::search`]: the `k` nearest, through a bounded max-heap of `k`. A candidate
//!   costs one comparison unless it beats the current k-th, and under L2 its distance loop
//!   stops as soon as it cannot (see [`crate::metric`]).
//! - [`Scan`]: a stream in distance order for the access method's `amgettuple`, which does
//!   not know the LIMIT and whose WHERE clause may reject any number of rows. The lists
//!   probed so far feed a heap (built in O(n), popped lazily, so nothing is sorted that is
//!   not asked for). Rows unlikely to be asked for soon are scored only until they are known
//!   to rank behind the first few, and finished (their page read again) if they ever reach
//!   the top. The deeper the consumer reads, the more lists are probed before the next row
//!   is returned (`probes` for the first ten rows, then `probes * sqrt(rows / 10)`), and when
//!   the candidates run out the next-nearest lists are probed, up to `max_probes`: a
//!   selective filter therefore still gets its rows, with the recall `probes` gives ten rows.
//!   Order is exact within what has been probed; a row from a list probed later may be nearer
//!   than one already returned ("relaxed order", as in pgvector's iterative scans).
//!
//! With `probes` equal to the number of lists, both return exactly the brute-force order:
//! by score, then by tid.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::ops::Range;
use std::sync::Arc;

use crate::centroids::for_each_centroid;
use crate::error::{Error, Result};
use crate::meta::Meta;
use crate::metric::Scorer;
use crate::page::PageKind;
use crate::storage::{BlockNumber, Relation, INVALID_BLOCK};
use crate::{decode_tid, Tid, FLAG_ZERO_NORM};

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

/// An f32 in IEEE total order, for heaps of scores.
#[derive(Clone, Copy, Debug)]
struct Ordered(f32);

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

/// A list to probe: its centroid's score and where its chain starts.
#[derive(Clone, Copy, Debug)]
struct Probe {
    score: f32,
    list: u32,
    first: BlockNumber,
}

/// Nearer centroid first; ties by list number, so the order never depends on the sort.
fn by_score(a: &Probe, b: &Probe) -> Ordering {
    a.score.total_cmp(&b.score).then(a.list.cmp(&b.list))
}

/// What every query of one index needs, read once: parameters, centroids, list heads.
#[derive(Debug)]
pub struct Searcher {
    meta: Meta,
    scorer: Scorer,
    /// Centroids one after another, dimensions in stored order.
    centroids: Vec<f32>,
    /// Each list's first block.
    firsts: Vec<BlockNumber>,
    /// What of a list page to prefetch.
    prefetch: Vec<Range<usize>>,
}

impl Searcher {
    /// Reads the meta page and the centroid pages.
    pub fn open<R: Relation>(rel: &R) -> Result<Searcher> {
        let meta = Meta::read(rel)?;
        let mut centroids = Vec::with_capacity(meta.lists as usize * meta.dims as usize);
        let mut firsts = Vec::with_capacity(meta.lists as usize);
        for_each_centroid(rel, &meta, |_, head, centroid| {
            centroids.extend_from_slice(centroid);
            firsts.push(head.first);
        })?;
        Ok(Searcher {
            scorer: meta.metric.scorer(),
            // Pages of short vectors are one dense run, which the CPU prefetches by itself.
            prefetch: if meta.dims as usize * 4 > PREFETCH_BYTES_PER_VECTOR / 2 {
                meta.layout.prefetch_ranges(PREFETCH_BYTES_PER_VECTOR)
            } else {
                Vec::new()
            },
            meta,
            centroids,
            firsts,
        })
    }

    /// The index's parameters.
    pub fn meta(&self) -> &Meta {
        &self.meta
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
        let mut heap: BinaryHeap<Neighbor> = BinaryHeap::with_capacity(k + 1);
        // The k-th best score so far (infinite until there are k): most candidates are
        // rejected against it without touching the heap.
        let mut worst = f32::INFINITY;
        let ranked = &query.probes[..probes];
        for (i, probe) in ranked.iter().enumerate() {
            if let Some(next) = ranked.get(i + 1) {
                if !self.prefetch.is_empty() {
                    rel.prefetch(next.first, &self.prefetch);
                }
            }
            self.scan_list(rel, probe.first, |_, header, vector| {
                let score = self.score(&query.vector, header, vector, worst);
                if score.total_cmp(&worst).is_gt() {
                    return;
                }
                // Only a candidate that may beat the current k-th needs its tid decoded.
                let candidate = Neighbor {
                    tid: decode_tid(header).0,
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
            })?;
        }
        Ok(heap.into_sorted_vec())
    }

    /// Score of one stored item; above `bound` it may be any value above the bound.
    #[inline]
    fn score(&self, query: &[f32], header: [u32; 2], vector: &[f32], bound: f32) -> f32 {
        if (header[1] >> 16) as u16 & FLAG_ZERO_NORM != 0 {
            f32::INFINITY
        } else {
            (self.scorer)(query, vector, bound)
        }
    }

    /// The exact score of row `tid` on page `block`, if it is still there (a vacuum may have
    /// removed it since the page was last read; then the row is dead and is skipped).
    fn rescore_row<R: Relation>(
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
            .find(|(header, _)| decode_tid(*header).0 == tid)
            .map(|(header, vector)| self.score(query, header, vector, f32::INFINITY));
        Ok(found)
    }

    /// Calls `visit(block, header, vector)` for every item of one list, a page at a time, asking
    /// the relation to prefetch each next page while the current one is scored.
    fn scan_list<R: Relation>(
        &self,
        rel: &R,
        first: BlockNumber,
        mut visit: impl FnMut(BlockNumber, [u32; 2], &[f32]),
    ) -> Result<()> {
        let layout = &self.meta.layout;
        let mut block = first;
        let mut pages = 0;
        while block != INVALID_BLOCK {
            pages += 1;
            if pages > rel.nblocks() {
                return Err(Error::corrupt(first, "list chain has a cycle"));
            }
            let page = rel.read(block)?;
            page.expect_kind(PageKind::List, block)?;
            let next = page.next();
            if next != INVALID_BLOCK && !self.prefetch.is_empty() {
                rel.prefetch(next, &self.prefetch);
            }
            for (header, vector) in page.items(layout, block)?.iter() {
                visit(block, header, vector);
            }
            block = next;
        }
        Ok(())
    }
}

/// A prepared query and the lists ranked by centroid score.
struct Query {
    vector: Vec<f32>,
    probes: Vec<Probe>,
    /// The best `exact_for` lists have exact scores; every other list is only known to rank
    /// after them (its score stopped early above theirs).
    exact_for: usize,
}

impl Query {
    /// Prepares the query and scores the centroids: exactly for the `best` nearest lists, and
    /// for the others only far enough to know that they rank after those.
    fn new(searcher: &Searcher, query: &[f32], best: usize) -> Result<Query> {
        let dims = searcher.meta.dims as usize;
        let mut vector = Vec::with_capacity(dims);
        searcher.meta.prepare(query, &mut vector)?;
        let mut probes = Vec::with_capacity(searcher.firsts.len());
        // The `best` lowest scores so far; a centroid scoring above the worst of them cannot
        // be among the best, and its scoring may stop early.
        let mut bounds: BinaryHeap<Ordered> = BinaryHeap::with_capacity(best + 1);
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
            let score = (searcher.scorer)(&vector, centroid, bound);
            if best > 0 && score.total_cmp(&bound).is_le() {
                bounds.push(Ordered(score));
                if bounds.len() > best {
                    bounds.pop();
                }
            }
            probes.push(Probe {
                score,
                list: list as u32,
                first,
            });
        }
        Ok(Query {
            vector,
            probes,
            exact_for: best,
        })
    }

    /// Orders the `n` best lists from position `from` on, nearest first; the rest stay
    /// unordered. Scores are made exact first where they need to be.
    fn rank(&mut self, n: usize, from: usize) {
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
    fn rescore(&mut self, searcher: &Searcher, from: usize) {
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

/// How a streaming scan probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanOptions {
    /// Lists read before the first row is returned.
    pub probes: u32,
    /// Most lists read in all, when rows keep being asked for (at least `probes`).
    pub max_probes: u32,
}

impl ScanOptions {
    /// `probes` lists first, then as many more as it takes (every list, if need be).
    pub fn new(probes: u32) -> Self {
        ScanOptions {
            probes,
            max_probes: u32::MAX,
        }
    }
}

/// A row waiting in a streaming scan: its score, or under L2 possibly only a lower bound of
/// it (the distance loop stopped early), to be finished if the row ever reaches the top.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    key: f32,
    exact: bool,
    tid: Tid,
    block: BlockNumber,
}

impl Candidate {
    /// Heap order: by key; at equal keys an unfinished row first (its true score may equal
    /// the key and then its tid decides); then by tid.
    fn order(&self, other: &Self) -> Ordering {
        self.key
            .total_cmp(&other.key)
            .then(self.exact.cmp(&other.exact))
            .then(self.tid.cmp(&other.tid))
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.order(other)
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

/// Rows whose recall `probes` lists are tuned for: the usual LIMIT.
const REFERENCE_ROWS: f64 = 10.0;

/// Lists to have probed before returning row number `depth` (1-based): `probes` for the first
/// ten rows, then growing with the square root of the depth. A query that is asked for more
/// rows (because a filter rejects most of them, or for a large LIMIT) needs the true top-`depth`
/// rows, which spread over more lists than the top ten; probing `probes * sqrt(depth / 10)`
/// lists keeps recall about where `probes` puts it for ten rows (measured on Fashion-MNIST
/// with filters matching 50%, 10% and 1% of rows; see bench/ivf.md).
fn lists_for_depth(probes: usize, depth: usize) -> usize {
    let scale = (depth as f64 / REFERENCE_ROWS).max(1.0).sqrt();
    (probes as f64 * scale).ceil() as usize
}

/// A streaming search: rows in (relaxed) distance order, probing more lists on demand.
///
/// The scan holds no page locks between calls; it only keeps the query, the list ranking and
/// the candidates of the lists probed so far. Pass the same relation to every call.
pub struct Scan {
    searcher: Arc<Searcher>,
    query: Query,
    options: ScanOptions,
    /// Lists probed so far (a prefix of `query.probes`, ranked as it grows).
    probed: usize,
    /// Unreturned candidates of the probed lists, nearest on top.
    heap: BinaryHeap<Reverse<Candidate>>,
    /// Rows returned so far.
    returned: usize,
}

impl Scan {
    /// Prepares a scan on an open searcher: ranks the lists; no list is read yet.
    pub fn with_searcher(
        searcher: Arc<Searcher>,
        query: &[f32],
        options: ScanOptions,
    ) -> Result<Scan> {
        let query = Query::new(&searcher, query, options.probes.max(1) as usize)?;
        Ok(Scan {
            searcher,
            query,
            options,
            probed: 0,
            heap: BinaryHeap::new(),
            returned: 0,
        })
    }

    /// Prepares a scan, opening a searcher for it (which reads and copies every centroid:
    /// where queries repeat, keep a searcher and use [`Scan::with_searcher`]).
    pub fn new<R: Relation>(rel: &R, query: &[f32], options: ScanOptions) -> Result<Scan> {
        Scan::with_searcher(Arc::new(Searcher::open(rel)?), query, options)
    }

    /// The next row, or `None` when `max_probes` lists are exhausted.
    pub fn next<R: Relation>(&mut self, rel: &R) -> Result<Option<Neighbor>> {
        let lists = self.query.probes.len();
        let probes = (self.options.probes.max(1) as usize).min(lists);
        let limit = (self.options.max_probes as usize).clamp(probes, lists);
        // Deeper rows need more lists for the same recall (see `lists_for_depth`): probe
        // them before returning a row they might beat.
        let wanted = lists_for_depth(probes, self.returned + 1).min(limit);
        if self.probed < wanted {
            self.probe(rel, wanted - self.probed)?;
        }
        loop {
            match self.heap.pop() {
                Some(Reverse(c)) if c.exact => {
                    self.returned += 1;
                    return Ok(Some(Neighbor {
                        tid: c.tid,
                        score: c.key,
                    }));
                }
                Some(Reverse(c)) => {
                    let (searcher, query) = (&self.searcher, &self.query);
                    if let Some(key) = searcher.rescore_row(rel, &query.vector, c.block, c.tid)? {
                        self.heap.push(Reverse(Candidate {
                            key,
                            exact: true,
                            ..c
                        }));
                    }
                    continue;
                }
                None => {}
            }
            if self.probed >= limit {
                return Ok(None);
            }
            // Out of candidates: the next batch is as many lists as the first.
            self.probe(rel, probes.min(limit - self.probed))?;
        }
    }

    /// Lists read so far.
    pub fn lists_probed(&self) -> usize {
        self.probed
    }

    /// Reads the next `n` nearest lists and adds their rows to the candidates.
    fn probe<R: Relation>(&mut self, rel: &R, n: usize) -> Result<()> {
        let start = self.probed;
        if start + n > self.query.exact_for {
            self.query.rescore(&self.searcher, start);
        }
        self.query.rank(n, start);
        let mut candidates = std::mem::take(&mut self.heap).into_vec();
        let (searcher, query) = (&self.searcher, &self.query);
        // Rows likely to be asked for soon get exact scores; the rest may stop early at the
        // worst of those (see `Candidate`). Correct whatever the bound; it only saves work. A
        // consumer that has taken `returned` rows is guessed to take as many again.
        let wanted = REFERENCE_ROWS as usize + 2 * self.returned;
        let mut best: BinaryHeap<Ordered> = BinaryHeap::with_capacity(wanted + 1);
        let stops_early = searcher.meta.metric == crate::Metric::L2;
        for (i, probe) in query.probes[start..start + n].iter().enumerate() {
            if let Some(next) = query.probes[start..start + n].get(i + 1) {
                if !searcher.prefetch.is_empty() {
                    rel.prefetch(next.first, &searcher.prefetch);
                }
            }
            searcher.scan_list(rel, probe.first, |block, header, vector| {
                let bound = match best.peek() {
                    Some(worst) if best.len() >= wanted => worst.0,
                    _ => f32::INFINITY,
                };
                let key = searcher.score(&query.vector, header, vector, bound);
                let exact = !stops_early || key.total_cmp(&bound).is_le();
                if key.total_cmp(&bound).is_le() {
                    best.push(Ordered(key));
                    if best.len() > wanted {
                        best.pop();
                    }
                }
                let tid = decode_tid(header).0;
                candidates.push(Reverse(Candidate {
                    key,
                    exact,
                    tid,
                    block,
                }))
            })?;
        }
        self.probed += n;
        // Heapify is O(n); only the rows actually pulled pay O(log n) each.
        self.heap = BinaryHeap::from(candidates);
        Ok(())
    }
}
