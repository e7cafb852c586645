//! An IVF-flat vector index over a page-storage trait, free of PostgreSQL.
//!
//! Vectors are clustered by k-means into `lists`; each list is a chain of pages holding its
//! vectors densely. A search ranks the centroids and scans the nearest lists. With codes (the
//! default from [`CODES_MIN_DIMS`] dimensions), each list also has a chain of one-byte
//! scalar-quantised codes, about a quarter of the vectors' bytes: a scan reads those, and a row's
//! full vector only when a bound of its score reaches the top (see the `quantizer` module), so
//! results keep their exact order. Everything is
//! written against [`Relation`], so the same code runs on the in-memory
//! [`MemoryRelation`] (tests, benchmarks) and on PostgreSQL buffers with generic WAL (the
//! extension).
//!
//! The on-disk layer at the bottom: [`block`] numbers, typed item headers ([`item`]), the
//! [`page`] layout, the one chain walker, the [`storage`] seam. On it, the life cycle, one file
//! each: [`build`](build::build) (sample, k-means, load), [`insert`](insert::insert), the
//! [`Searcher`](searcher::Searcher) with its top-k [`search`](searcher::Searcher::search), the
//! streaming [`Scan`](scan::Scan), [`bulk_delete`](vacuum::bulk_delete),
//! [`inspect`](inspect::inspect) and [`check`](inspect::check); [`cost`] tells a planner how
//! many lists a scan will read. Page formats: [`page`], [`meta`], the centroid and code heads
//! pages, and the quantiser pages. On-disk version 2 added the code chains; version 1 indexes
//! (no codes) are still read. Version 3 stores filter attributes with each row (see
//! [`attributes`]), and version 4 adds each list's summary of them, from which a filtered scan
//! skips lists without a passing row; version 3 indexes are read without summaries.
//!
//! Threads: the build's k-means and assignment (matrix products, then the kernel for the
//! near-ties: the same lists as one row at a time) run on `threads` worker threads that only
//! compute; every callback (progress, the vacuum callback) and every storage call happens on
//! the calling thread.

mod assign;
pub mod attributes;
pub mod block;
pub mod build;
mod centroids;
mod chain;
pub mod cost;
pub mod error;
pub mod insert;
pub mod inspect;
pub mod item;
mod key_ranges;
pub mod kmeans;
pub mod memory;
pub mod meta;
pub mod metric;
pub mod page;
mod parallel;
mod quantizer;
mod rng;
mod row_order;
pub mod scan;
pub mod searcher;
pub mod storage;
mod summary;
pub mod vacuum;

pub use attributes::{Filter, Test, MAX_ATTRIBUTES};
pub use block::{BlockNumber, INVALID_BLOCK};
pub use build::{
    build, BuildOptions, BuildProgress, BuildReport, Builder, Codes, Loader, CODES_MIN_DIMS,
};
pub use cost::lists_read;
pub use error::{Error, Result};
pub use insert::{insert, insert_with_attributes};
pub use inspect::{check, collect_rows, inspect, CheckReport, IndexInfo};
pub use item::Tid;
pub use memory::MemoryRelation;
pub use meta::{Meta, MAX_LISTS};
pub use metric::Metric;
pub use page::{prefetch_into_cache, Page, MAX_DIMS, PAGE_SIZE};
pub use parallel::default_threads;
pub use scan::{Scan, ScanOptions};
pub use searcher::{search, Neighbor, Searcher};
pub use storage::{Relation, WriteSet, MAX_PAGES_PER_WRITE};
pub use vacuum::{bulk_delete, BulkDelete, VacuumStats};
