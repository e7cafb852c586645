//! The page-storage seam: the only thing the index knows about where its pages live.
//!
//! The index is a set of fixed-size pages addressed by block number, exactly like a PostgreSQL
//! relation. Two implementations exist: [`crate::memory::MemoryRelation`] for tests and
//! benchmarks, and the extension's, on PostgreSQL shared buffers with generic WAL.
//!
//! # Contract
//!
//! **Reading.** [`Relation::read`] returns a guard holding a *shared* lock (and pin) on one
//! page; the page does not change while the guard lives. The index never holds more than one read
//! guard at a time, and never holds a read guard while it locks a page for writing (it may read
//! while a write set holds other pages: an insert into an index with codes walks the list's code
//! chain under shared locks while it holds the list page that will take the row).
//!
//! **Writing.** Every change goes through a [`WriteSet`] from [`Relation::begin`]: it is *one
//! atomic change*, i.e. one generic WAL record. Pages join it with [`WriteSet::lock`] (an
//! existing block, locked *exclusively*) or [`WriteSet::extend`] (a new all-zero block at the
//! end of the relation). Dropping the write set commits it: every page obtained through
//! [`WriteSet::page_mut`] is written, all of them or none, and the locks are released. An
//! implementation may skip pages that were never borrowed mutably (and write no record at all if
//! none was). When the drop happens during a panic (for instance a PostgreSQL error turned into
//! an unwinding panic), the implementation must discard the changes instead (`GenericXLogAbort`).
//!
//! The index keeps these promises, which make the PostgreSQL implementation simple:
//! - at most [`MAX_PAGES_PER_WRITE`] pages per write set (GenericXLog's limit);
//! - all pages of a write set are locked before any of them is modified, and no error is
//!   returned after a modification, so a commit never writes half a change;
//! - locks are taken in one global order, which rules out deadlocks between backends: pages
//!   of a list chain in chain order, then pages of the list's code chain in chain order, then
//!   newly extended pages, then a centroid or code heads page. A list's summary page is changed
//!   in a write set of its own, holding no other page. Scans hold one shared lock at a time. The meta and quantiser pages are written only by the build.
//! - a new page is initialised in the same write set that links it into a chain, so no chain
//!   ever points at an uninitialised page. A crash may leave unlinked all-zero pages behind;
//!   they are unreachable and harmless.
//!
//! **Growing.** [`WriteSet::extend`] adds one block at the end of the relation (PostgreSQL:
//! `LockRelationForExtension` + `ReadBufferExtended(P_NEW)` + exclusive lock, then register the
//! buffer with `GENERIC_XLOG_FULL_IMAGE`). No other backend reaches the new block until a page
//! that links it is committed.

use std::ops::{Deref, Range};

use crate::block::BlockNumber;
use crate::error::Result;
use crate::page::Page;

/// The most pages one atomic change may touch (PostgreSQL's `MAX_GENERIC_XLOG_PAGES`).
pub const MAX_PAGES_PER_WRITE: usize = 4;

/// A relation: fixed-size pages that can be read, changed atomically, and appended to.
pub trait Relation {
    /// A shared lock on one page, released on drop.
    type ReadGuard<'a>: Deref<Target = Page>
    where
        Self: 'a;

    /// One atomic change in progress, committed on drop.
    type Write<'a>: WriteSet
    where
        Self: 'a;

    /// Locks `block` for reading.
    fn read(&self, block: BlockNumber) -> Result<Self::ReadGuard<'_>>;

    /// Starts one atomic change (one WAL record); pages join it through the returned set.
    fn begin(&self) -> Self::Write<'_>;

    /// How many blocks the relation has.
    fn nblocks(&self) -> BlockNumber;

    /// Blocks known to exist without asking (PostgreSQL's block count is a system call): the
    /// count when `nblocks` was last called, since a relation only grows while it is open.
    fn known_blocks(&self) -> BlockNumber {
        0
    }

    /// Hints that these byte ranges of `block` will be read soon: a scan names the next page
    /// of a chain while it works on the current one, so that memory latency overlaps with
    /// computing (pages of 2 vectors each are too short for the CPU's own prefetcher to help).
    /// May do nothing; must never fail or wait for a page lock. PostgreSQL: `PrefetchBuffer`,
    /// which helps when the page is not in shared buffers (and costs a buffer-table lookup
    /// when it is, so an implementation may also choose to do nothing).
    fn prefetch(&self, _block: BlockNumber, _ranges: &[Range<usize>]) {}
}

/// The pages of one atomic change, each locked exclusively until the change is committed.
pub trait WriteSet {
    /// Locks existing `block` exclusively and adds it to the change; returns its slot.
    fn lock(&mut self, block: BlockNumber) -> Result<usize>;

    /// Appends a new all-zero block to the relation and adds it to the change.
    fn extend(&mut self) -> Result<(usize, BlockNumber)>;

    /// The block number of a slot.
    fn block(&self, slot: usize) -> BlockNumber;

    /// The page in a slot, as this change sees it.
    fn page(&self, slot: usize) -> &Page;

    /// The page in a slot, to modify; only pages borrowed this way need to be written.
    fn page_mut(&mut self, slot: usize) -> &mut Page;

    /// Commits the change; the same as dropping it, spelled out where that reads better.
    fn commit(self)
    where
        Self: Sized,
    {
        drop(self)
    }
}
