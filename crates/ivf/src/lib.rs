//! An IVF-flat vector index over a page-storage trait, free of PostgreSQL.
//!
//! Vectors are clustered by k-means into `lists`; each list is a chain of pages holding its
//! vectors densely. A search ranks the centroids and scans the nearest lists. Everything is
//! written against [`Relation`], so the same code runs on the in-memory
//! [`MemoryRelation`] (tests, benchmarks) and on PostgreSQL buffers with generic WAL (the
//! extension).
//!
//! Life cycle, one file each: [`build`](build::build) (sample, k-means, load),
//! [`insert`](insert::insert), [`Searcher`](search::Searcher) with its top-k
//! [`search`](search::Searcher::search) and the streaming [`Scan`](search::Scan),
//! [`bulk_delete`](vacuum::bulk_delete), [`inspect`](inspect::inspect) and
//! [`check`](inspect::check). Page formats: [`page`], [`meta`], and the centroid pages.
//!
//! Threads: the build's k-means and assignment run on `threads` worker threads that only
//! compute; every callback (progress, the vacuum callback) and every storage call happens on
//! the calling thread.

pub mod build;
mod centroids;
pub mod error;
pub mod insert;
pub mod inspect;
pub mod kmeans;
pub mod memory;
pub mod meta;
pub mod metric;
pub mod page;
mod parallel;
mod rng;
pub mod search;
pub mod storage;
pub mod vacuum;

pub use build::{build, BuildOptions, BuildProgress, BuildReport, Builder, Loader};
pub use error::{Error, Result};
pub use insert::insert;
pub use inspect::{check, collect_tids, inspect, CheckReport, IndexInfo};
pub use memory::MemoryRelation;
pub use meta::{Meta, MAX_LISTS};
pub use metric::Metric;
pub use page::{Page, MAX_DIMS, PAGE_SIZE};
pub use parallel::default_threads;
pub use search::{search, Neighbor, Scan, ScanOptions, Searcher};
pub use storage::{BlockNumber, Relation, WriteSet, INVALID_BLOCK, MAX_PAGES_PER_WRITE};
pub use vacuum::{bulk_delete, BulkDelete, VacuumStats};

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

/// Flag on a stored item: a zero vector under cosine, which scores +infinity.
pub(crate) const FLAG_ZERO_NORM: u16 = 1;

/// The two item header words of a list item.
pub(crate) fn encode_tid(tid: Tid, flags: u16) -> [u32; 2] {
    [tid.block, tid.offset as u32 | (flags as u32) << 16]
}

/// The tid and flags in a list item's header words.
pub(crate) fn decode_tid(header: [u32; 2]) -> (Tid, u16) {
    (
        Tid::new(header[0], header[1] as u16),
        (header[1] >> 16) as u16,
    )
}
