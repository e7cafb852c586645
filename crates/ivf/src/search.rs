//! Searching: rank the centroids once per query, then scan the nearest lists.
//!
//! Two ways in:
//! - [`search`]: the `k` nearest, through a bounded max-heap of `k` (a candidate costs one
//!   comparison unless it beats the current k-th).
//! - [`Scan`]: a stream in distance order for the access method's `amgettuple`, which does
//!   not know the LIMIT and whose WHERE clause may reject any number of rows. The first
//!   `probes` lists are read into a heap (built in O(n), popped lazily, so nothing is sorted
//!   that is not asked for). When that runs dry, the scan probes the next-nearest lists, a
//!   batch at a time, up to `max_probes`: a selective filter therefore still gets its rows.
//!   Order is exact within what has been probed; rows from a later batch come after all rows
//!   of earlier batches ("relaxed order", as in pgvector's iterative scans).
//!
//! With `probes` equal to the number of lists, both return exactly the brute-force order:
//! by score, then by tid.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::centroids::for_each_centroid;
use crate::error::{Error, Result};
use crate::meta::Meta;
use crate::metric::Scorer;
use crate::page::{item_header, PageKind, ITEM_HEADER_WORDS};
use crate::storage::{BlockNumber, Relation, INVALID_BLOCK};
use crate::{decode_tid, Tid, FLAG_ZERO_NORM};

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

/// A prepared query and the lists ranked by centroid score.
struct Query {
    meta: Meta,
    vector: Vec<f32>,
    scorer: Scorer,
    probes: Vec<Probe>,
}

impl Query {
    /// Reads the meta and centroid pages once and scores every centroid.
    fn new<R: Relation>(rel: &R, query: &[f32]) -> Result<Query> {
        let meta = Meta::read(rel)?;
        let mut vector = Vec::with_capacity(meta.dims as usize);
        meta.metric.prepare(query, meta.dims as usize, &mut vector)?;
        let scorer = meta.metric.scorer();
        let mut probes = Vec::with_capacity(meta.lists as usize);
        for_each_centroid(rel, &meta, |list, head, centroid| {
            probes.push(Probe {
                score: scorer(&vector, centroid),
                list,
                first: head.first,
            })
        })?;
        Ok(Query {
            meta,
            vector,
            scorer,
            probes,
        })
    }

    /// Puts the `n` best lists first, nearest first; the rest stay unordered.
    fn rank_first(&mut self, n: usize) {
        let n = n.min(self.probes.len());
        if n == 0 {
            return;
        }
        if n < self.probes.len() {
            self.probes.select_nth_unstable_by(n - 1, by_score);
        }
        self.probes[..n].sort_unstable_by(by_score);
    }

    /// Calls `visit(score, header)` for every item of one list, a page at a time.
    fn scan_list<R: Relation>(
        &self,
        rel: &R,
        first: BlockNumber,
        mut visit: impl FnMut(f32, [u32; 2]),
    ) -> Result<()> {
        let stride = self.meta.stride();
        let mut block = first;
        let mut pages = 0;
        while block != INVALID_BLOCK {
            pages += 1;
            if pages > rel.nblocks() {
                return Err(Error::corrupt(first, "list chain has a cycle"));
            }
            let page = rel.read(block)?;
            page.expect_kind(PageKind::List, block)?;
            for item in page.items(stride, block)?.chunks_exact(stride) {
                let header = item_header(item);
                let score = if (header[1] >> 16) as u16 & FLAG_ZERO_NORM != 0 {
                    f32::INFINITY
                } else {
                    (self.scorer)(&self.vector, &item[ITEM_HEADER_WORDS..])
                };
                visit(score, header);
            }
            block = page.next();
        }
        Ok(())
    }
}

/// The `k` nearest rows in the `probes` nearest lists, nearest first.
pub fn search<R: Relation>(rel: &R, query: &[f32], k: usize, probes: u32) -> Result<Vec<Neighbor>> {
    let mut query = Query::new(rel, query)?;
    let probes = (probes.max(1) as usize).min(query.probes.len());
    query.rank_first(probes);
    if k == 0 {
        return Ok(Vec::new());
    }
    let mut heap: BinaryHeap<Neighbor> = BinaryHeap::with_capacity(k + 1);
    for probe in &query.probes[..probes] {
        query.scan_list(rel, probe.first, |score, header| {
            if heap.len() < k {
                heap.push(Neighbor { tid: decode_tid(header).0, score });
                return;
            }
            // Only a candidate that beats the current k-th needs its tid decoded.
            let Some(mut worst) = heap.peek_mut() else { return };
            match score.total_cmp(&worst.score) {
                Ordering::Greater => {}
                Ordering::Less => *worst = Neighbor { tid: decode_tid(header).0, score },
                Ordering::Equal => {
                    let tid = decode_tid(header).0;
                    if tid < worst.tid {
                        *worst = Neighbor { tid, score };
                    }
                }
            }
        })?;
    }
    Ok(heap.into_sorted_vec())
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

/// A streaming search: rows in (relaxed) distance order, probing more lists on demand.
///
/// The scan holds no page locks between calls; it only keeps the query, the list ranking and
/// the candidates of the lists probed so far. Pass the same relation to every call.
pub struct Scan {
    query: Query,
    options: ScanOptions,
    /// Lists probed so far (a prefix of `query.probes`, ranked as it grows).
    probed: usize,
    /// Unreturned candidates of the probed lists, nearest on top.
    heap: BinaryHeap<std::cmp::Reverse<Neighbor>>,
}

impl Scan {
    /// Prepares a scan: reads the centroids and ranks the lists. No list is read yet.
    pub fn new<R: Relation>(rel: &R, query: &[f32], options: ScanOptions) -> Result<Scan> {
        let query = Query::new(rel, query)?;
        Ok(Scan {
            query,
            options,
            probed: 0,
            heap: BinaryHeap::new(),
        })
    }

    /// The next row, or `None` when `max_probes` lists are exhausted.
    pub fn next<R: Relation>(&mut self, rel: &R) -> Result<Option<Neighbor>> {
        loop {
            if let Some(std::cmp::Reverse(neighbor)) = self.heap.pop() {
                return Ok(Some(neighbor));
            }
            let lists = self.query.probes.len();
            let limit = (self.options.max_probes.max(self.options.probes).max(1) as usize).min(lists);
            if self.probed >= limit {
                return Ok(None);
            }
            // The first batch is `probes` lists; later ones as many again, so each batch is as
            // well ordered as the first.
            let batch = (self.options.probes.max(1) as usize).min(limit - self.probed);
            self.probe(rel, batch)?;
        }
    }

    /// Lists read so far.
    pub fn lists_probed(&self) -> usize {
        self.probed
    }

    /// Reads the next `n` nearest lists into the (empty) heap.
    fn probe<R: Relation>(&mut self, rel: &R, n: usize) -> Result<()> {
        let start = self.probed;
        // Rank only the part of the list order that is about to be read.
        let rest = &mut self.query.probes[start..];
        if n < rest.len() {
            rest.select_nth_unstable_by(n - 1, by_score);
        }
        rest[..n].sort_unstable_by(by_score);
        let mut candidates = std::mem::take(&mut self.heap).into_vec();
        candidates.clear();
        for i in start..start + n {
            let first = self.query.probes[i].first;
            self.query.scan_list(rel, first, |score, header| {
                candidates.push(std::cmp::Reverse(Neighbor { tid: decode_tid(header).0, score }))
            })?;
        }
        self.probed += n;
        // Heapify is O(n); only the rows actually pulled pay O(log n) each.
        self.heap = BinaryHeap::from(candidates);
        Ok(())
    }
}
