//! The streaming scan for the access method's `amgettuple`, which does not know the LIMIT and
//! whose WHERE clause may reject any number of rows.
//!
//! The lists probed so far feed a heap (built in O(n), popped lazily, so nothing is sorted
//! that is not asked for). Rows unlikely to be asked for soon are scored only until they are
//! known to rank behind the first few, and finished (their page read again) if they ever reach
//! the top. The deeper the consumer reads, the more lists are probed before the next row is
//! returned (`probes` for the first ten rows, then `probes * sqrt(rows / 10)`, a filtered scan
//! `probes * (rows / 10)^0.4` of the lists holding passing rows), and when the
//! candidates run out the next-nearest lists are probed, up to `max_probes`: a selective
//! filter therefore still gets its rows, with the recall `probes` gives ten rows. Order is
//! exact within what has been probed, and a filtered scan reads the lists its first ten
//! passing rows need before it returns the first, so those ten come out nearest first; past
//! them, a row from a list probed later may be nearer than one already returned ("relaxed
//! order", as in pgvector's iterative scans).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use crate::attributes::Filter;
use crate::error::{Error, Result};
use crate::searcher::{Candidate, Neighbor, Ordered, Query, Searcher, Yield};
use crate::storage::Relation;

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

/// Rows whose recall `probes` lists are tuned for: the usual LIMIT.
const REFERENCE_ROWS: f64 = 10.0;

/// Lists to have probed before returning row number `depth` (1-based): `probes` for the first
/// ten rows, then growing with the depth. A query that is asked for more rows (because a filter
/// rejects most of them, or for a large LIMIT) needs the true top-`depth` rows, which spread
/// over more lists than the top ten; probing `probes * sqrt(depth / 10)` lists keeps recall
/// about where `probes` puts it for ten rows (measured on Fashion-MNIST with filters matching
/// 50%, 10% and 1% of rows; see bench/ivf.md).
///
/// A `filtered` scan counts only lists holding passing rows (the others are skipped or not
/// counted), and there `depth` counts the rows it scans, passing or not. Those lists hold the
/// passing rows more densely than the square root assumes: with it, a filtered scan had more
/// recall than an unfiltered one at the same probes (0.994 against 0.978 at probes 6 on 64-d
/// Fashion-MNIST, one category) for a third more lists. It grows with `(depth / 10)^0.4`
/// instead, which keeps the filtered recall above the unfiltered one or within 0.01 of it at
/// every filter measured (probes 4 and 6; examples/filtered_index.rs, bench/sql/filtered.md).
pub(crate) fn lists_for_depth(probes: usize, depth: usize, filtered: bool) -> usize {
    let deeper = (depth as f64 / REFERENCE_ROWS).max(1.0);
    let scale = if filtered {
        deeper.powf(0.4)
    } else {
        deeper.sqrt()
    };
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
    /// Tests on the rows' attributes: rows failing them are never candidates.
    filter: Filter,
    /// What the lists probed so far held for the filter: barren lists (no passing row) do not
    /// count as probed, and the others' share of passing rows is the filter's selectivity near
    /// the query.
    found: Yield,
    /// Unreturned candidates of the probed lists, nearest on top.
    heap: BinaryHeap<Reverse<Candidate>>,
    /// Rows returned so far.
    returned: usize,
    /// Rows whose vectors were read to finish their scores.
    rescored: usize,
}

impl Scan {
    /// Prepares a scan on an open searcher; no list is read yet, and the lists are ranked by
    /// the first [`Scan::next`].
    pub fn with_searcher(
        searcher: Arc<Searcher>,
        query: &[f32],
        options: ScanOptions,
    ) -> Result<Scan> {
        let query = Query::unscored(&searcher, query)?;
        Ok(Scan {
            searcher,
            query,
            options,
            probed: 0,
            filter: Filter::new(),
            found: Yield::default(),
            heap: BinaryHeap::new(),
            returned: 0,
            rescored: 0,
        })
    }

    /// Prepares a scan, opening a searcher for it (which reads and copies every centroid:
    /// where queries repeat, keep a searcher and use [`Scan::with_searcher`]).
    pub fn new<R: Relation>(rel: &R, query: &[f32], options: ScanOptions) -> Result<Scan> {
        Scan::with_searcher(Arc::new(Searcher::open(rel)?), query, options)
    }

    /// Returns only rows whose attributes pass `filter` (see [`crate::attributes`]). `probes`
    /// then counts the lists that hold a passing row (a list without one is read, and its rows
    /// tested, but it does not count), and row number `n` that passes is returned once the
    /// lists for depth `n / selectivity` were read, the selectivity measured on the lists
    /// holding passing rows: a filter costs little recall (bench/sql/filtered.md). Call before
    /// the first `next`.
    pub fn with_filter(mut self, filter: Filter) -> Result<Scan> {
        if let Some(attribute) = filter.highest_attribute() {
            let stored = self.searcher.meta.attributes;
            if attribute >= stored as usize {
                return Err(Error::InvalidOption(format!(
                    "the filter tests attribute {attribute}, the index stores {stored}"
                )));
            }
        }
        self.filter = filter;
        Ok(self)
    }

    /// The next row, or `None` when `max_probes` lists are exhausted.
    pub fn next<R: Relation>(&mut self, rel: &R) -> Result<Option<Neighbor>> {
        let probes = self.options.probes.max(1) as usize;
        if !self.query.is_scored() {
            // A filtered scan reads past `probes` lists (barren ones do not count), so it
            // scores every centroid exactly at once instead of stopping early and again later.
            let exact = if self.filter.is_empty() {
                probes
            } else {
                usize::MAX
            };
            self.query.score(&self.searcher, exact);
        }
        let lists = self.query.probes.len();
        let probes = probes.min(lists);
        let limit = (self.options.max_probes as usize).clamp(probes, lists);
        // Deeper rows need more lists for the same recall (see `lists_for_depth`): probe
        // them before returning a row they might beat.
        self.probe_to_depth(rel, probes, limit)?;
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
                    self.rescored += 1;
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

    /// Reads lists until the depth of the next row (counting the rows a filter rejects, at the
    /// selectivity seen so far) has its lists, not counting barren ones, or `limit` lists were
    /// read.
    fn probe_to_depth<R: Relation>(&mut self, rel: &R, probes: usize, limit: usize) -> Result<()> {
        let filtered = !self.filter.is_empty();
        loop {
            let depth = if !filtered {
                self.returned + 1
            } else {
                // The lists the first ten passing rows need are read before the first is
                // returned, so that those ten come out nearest first, as an unfiltered scan's
                // do (a merge of shards' scans relies on each one's order).
                let found = &self.found;
                let per_match = found.scanned.max(1) as f64 / found.matched.max(1) as f64;
                let rows = (self.returned + 1).max(REFERENCE_ROWS as usize);
                (rows as f64 * per_match).ceil() as usize
            };
            let wanted = lists_for_depth(probes, depth, filtered);
            let counted = if filtered {
                self.probed - self.found.barren
            } else {
                self.probed
            };
            if counted >= wanted || self.probed >= limit {
                return Ok(());
            }
            self.probe(rel, (wanted - counted).min(limit - self.probed))?;
        }
    }

    /// Lists read so far.
    pub fn lists_probed(&self) -> usize {
        self.probed
    }

    /// Lists so far that a filter's summary check ruled out without reading them (they count
    /// in `lists_probed`, not toward `probes`).
    pub fn lists_skipped(&self) -> usize {
        self.found.skipped
    }

    /// Pages so far of the lists read that their key ranges ruled out unread (see
    /// [`crate::key_ranges`]).
    pub fn pages_skipped(&self) -> usize {
        self.found.pages_skipped
    }

    /// Rows so far whose score was finished by reading their vector (with codes, every row
    /// returned and those whose bound came close).
    pub fn rows_rescored(&self) -> usize {
        self.rescored
    }

    /// Reads the next `n` nearest lists and adds their rows to the candidates.
    fn probe<R: Relation>(&mut self, rel: &R, n: usize) -> Result<()> {
        let start = self.probed;
        if start + n > self.query.exact_for {
            self.query.rescore(&self.searcher, start);
        }
        self.query.rank(n, start);
        let mut candidates = Vec::new();
        let (searcher, query, filter) = (&self.searcher, &self.query, &self.filter);
        if let Some(codes) = &query.codes {
            // Codes give every row a bound; rows are finished as they reach the top.
            let found = searcher.code_candidates(
                rel,
                codes,
                filter,
                &query.probes[start..start + n],
                &mut candidates,
            )?;
            self.probed += n;
            self.found.add(found);
            self.heap.extend(candidates);
            return Ok(());
        }
        // Rows likely to be asked for soon get exact scores; the rest may stop early at the
        // worst of those (see `Candidate`). Correct whatever the bound; it only saves work. A
        // consumer that has taken `returned` rows is guessed to take as many again.
        let wanted = REFERENCE_ROWS as usize + 2 * self.returned;
        let mut best: BinaryHeap<Ordered> = BinaryHeap::with_capacity(wanted + 1);
        let stops_early = searcher.meta.metric == crate::Metric::L2;
        let mut found = Yield::default();
        let probes =
            searcher.lists_to_read(rel, filter, &query.probes[start..start + n], &mut found)?;
        let prefetch = searcher.list_prefetch(!filter.is_empty());
        let lookahead = searcher.lookahead(filter, prefetch);
        for (i, probe) in probes.iter().enumerate() {
            if let Some(next) = probes.get(i + 1) {
                if !lookahead.is_empty() {
                    rel.prefetch(next.first, lookahead);
                }
            }
            let mut matched = 0;
            let read = searcher.scan_list(
                rel,
                probe.first,
                prefetch,
                filter,
                |block, item, vector, attributes| {
                    if !filter.matches(attributes) {
                        return;
                    }
                    matched += 1;
                    let bound = match best.peek() {
                        Some(worst) if best.len() >= wanted => worst.0,
                        _ => f32::INFINITY,
                    };
                    let key = searcher.score(&query.vector, item, vector, bound);
                    let exact = !stops_early || key.total_cmp(&bound).is_le();
                    if key.total_cmp(&bound).is_le() {
                        best.push(Ordered(key));
                        if best.len() > wanted {
                            best.pop();
                        }
                    }
                    candidates.push(Reverse(Candidate {
                        key,
                        exact,
                        tid: item.tid(),
                        block,
                    }))
                },
            )?;
            found.add_list(read, matched);
        }
        self.probed += n;
        self.found.add(found);
        // Extending heapifies the whole (O(n)) or sifts up the new rows, whichever is cheaper:
        // a deep scan probes a few lists at a time into a heap that has grown large; only the
        // rows actually pulled pay O(log n) each.
        self.heap.extend(candidates);
        Ok(())
    }
}
