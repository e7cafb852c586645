//! Code chains: when the build makes them, and that a scan reads them instead of the vectors.

mod common;

use std::cell::Cell;

use common::{build_memory, options, Lcg};
use fashrec_ivf::{
    inspect, BlockNumber, BuildOptions, Codes, MemoryRelation, Metric, Relation, Result, Scan,
    ScanOptions, Searcher, CODES_MIN_DIMS,
};

/// A relation that counts page reads.
struct Counting<'a> {
    inner: &'a MemoryRelation,
    reads: Cell<u64>,
}

impl Relation for Counting<'_> {
    type ReadGuard<'b>
        = <MemoryRelation as Relation>::ReadGuard<'b>
    where
        Self: 'b;
    type Write<'b>
        = <MemoryRelation as Relation>::Write<'b>
    where
        Self: 'b;

    fn read(&self, block: BlockNumber) -> Result<Self::ReadGuard<'_>> {
        self.reads.set(self.reads.get() + 1);
        self.inner.read(block)
    }

    fn begin(&self) -> Self::Write<'_> {
        self.inner.begin()
    }

    fn nblocks(&self) -> BlockNumber {
        self.inner.nblocks()
    }
}

#[test]
fn auto_builds_codes_for_long_vectors_only() {
    let mut lcg = Lcg(31);
    for dims in [CODES_MIN_DIMS - 1, CODES_MIN_DIMS] {
        let rows = lcg.clustered(50, dims, 2);
        let rel = build_memory(&rows, dims, options(2, Metric::L2, Codes::Auto));
        let info = inspect(&rel).unwrap();
        assert_eq!(info.meta.has_codes(), dims >= CODES_MIN_DIMS);
        assert_eq!(
            info.code_pages.len(),
            if dims >= CODES_MIN_DIMS { 2 } else { 0 }
        );
    }
}

#[test]
fn a_scan_with_codes_reads_far_fewer_pages() {
    // Two vectors to a list page, ten codes to a code page. Pixels 0..=255 (each dimension's
    // range is fitted to exactly that), which one-byte codes hold exactly: the bounds are
    // tight and few rows are read in full. (How tight they are decides how many.)
    let dims = 784;
    let mut lcg = Lcg(32);
    let pixels = |rows: Vec<Vec<f32>>| -> Vec<Vec<f32>> {
        rows.into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|x| (x * 11.0 + 128.0).round().clamp(0.0, 255.0))
                    .collect()
            })
            .collect()
    };
    let mut rows = pixels(lcg.clustered(600, dims, 3));
    rows.push(vec![0.0; dims]);
    rows.push(vec![255.0; dims]);
    // Near the data, as queries are.
    let query: Vec<f32> = rows[7].iter().map(|x| x + lcg.next_f32() * 9.0).collect();
    let query = &query;
    let mut found = Vec::new();
    let mut reads = Vec::new();
    for codes in [Codes::Always, Codes::Never] {
        // k-means on every row: the three clusters become the three lists, so the probed
        // list is one cluster and the page counts compare codes, not clusterings.
        let every_row = BuildOptions {
            samples_per_list: 256,
            ..options(3, Metric::L2, codes)
        };
        let rel = build_memory(&rows, dims, every_row);
        let searcher = std::sync::Arc::new(Searcher::open(&rel).unwrap());
        let counting = Counting {
            inner: &rel,
            reads: Cell::new(0),
        };
        let mut scan = Scan::with_searcher(searcher, query, ScanOptions::new(1)).unwrap();
        let mut rows = Vec::new();
        for _ in 0..10 {
            rows.push(scan.next(&counting).unwrap().unwrap());
        }
        found.push(rows);
        reads.push(counting.reads.get());
    }
    // The same rows, with the same scores, in the same order.
    assert_eq!(found[0], found[1]);
    assert!(
        reads[0] * 3 < reads[1],
        "{} pages read with codes, {} without",
        reads[0],
        reads[1]
    );
}
