//! An in-memory [`Relation`]: the whole index without a server, for tests and benchmarks.
//!
//! It keeps the PostgreSQL implementation's semantics: a read guard is a shared lock, a write
//! set locks pages exclusively, edits copies and publishes them all at once when dropped (or
//! throws them away when dropped during a panic), and no write set may hold more than
//! [`MAX_PAGES_PER_WRITE`] pages. Optionally every committed write set is recorded, like a WAL
//! record with full-page images, so tests can rebuild the relation as a crash after any record
//! would leave it.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::error::{Error, Result};
use crate::page::{prefetch_into_cache, Page, PAGE_SIZE};
use std::ops::Range;

use crate::block::{BlockNumber, INVALID_BLOCK};
use crate::storage::{Relation, WriteSet, MAX_PAGES_PER_WRITE};

/// Pages allocated together: consecutive blocks sit next to each other in memory, as they do
/// in a file, so a list written as a run of blocks is read as one stream.
const CHUNK_PAGES: usize = 64;
/// Chunks in the first segment; segment `s` holds `SEGMENT_BASE << s` chunks.
const SEGMENT_BASE: u64 = 1024;
/// Enough segments to address every block number below `INVALID_BLOCK`.
const SEGMENTS: usize = 17;

/// A page on a cache-line boundary, so that its vectors are 64-byte aligned.
#[derive(Clone)]
#[repr(align(64))]
struct Aligned(Page);

/// `CHUNK_PAGES` pages, allocated when the first of them is created, never moved afterwards.
type Chunk = OnceLock<Box<[RwLock<Aligned>]>>;

/// One committed write set: the new image of every page it changed.
pub type WalRecord = Vec<(BlockNumber, Box<Page>)>;

/// Pages in memory behind per-page reader-writer locks.
pub struct MemoryRelation {
    // Segments double in size so that blocks never move (guards borrow them) and growing
    // needs no lock that readers would have to take.
    segments: [OnceLock<Box<[Chunk]>>; SEGMENTS],
    nblocks: AtomicU32,
    extend_lock: Mutex<()>,
    commits: AtomicU64,
    pages_written: AtomicU64,
    wal: Option<Mutex<Vec<WalRecord>>>,
}

impl Default for MemoryRelation {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryRelation {
    /// An empty relation.
    pub fn new() -> Self {
        MemoryRelation {
            segments: [const { OnceLock::new() }; SEGMENTS],
            nblocks: AtomicU32::new(0),
            extend_lock: Mutex::new(()),
            commits: AtomicU64::new(0),
            pages_written: AtomicU64::new(0),
            wal: None,
        }
    }

    /// An empty relation that records every committed write set (see [`MemoryRelation::wal`]).
    pub fn with_wal() -> Self {
        MemoryRelation {
            wal: Some(Mutex::new(Vec::new())),
            ..Self::new()
        }
    }

    /// The records committed so far, oldest first (empty unless made by `with_wal`).
    pub fn wal(&self) -> Vec<WalRecord> {
        match &self.wal {
            Some(wal) => lock_ignoring_poison(wal).clone(),
            None => Vec::new(),
        }
    }

    /// The relation that replaying `records` from empty gives: what a crash right after the
    /// last of them would leave. Blocks no record wrote stay all-zero, as after a crash
    /// following an extend.
    pub fn replay(records: &[WalRecord]) -> Result<Self> {
        let rel = MemoryRelation::new();
        for record in records {
            for (block, image) in record {
                while rel.nblocks() <= *block {
                    rel.push_block()?;
                }
                let slot = rel.slot(*block)?;
                write_ignoring_poison(slot).0.copy_from(image);
            }
        }
        Ok(rel)
    }

    /// Write sets committed that changed at least one page.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Pages written by those commits.
    pub fn pages_written(&self) -> u64 {
        self.pages_written.load(Ordering::Relaxed)
    }

    /// Size in bytes, as PostgreSQL would report it.
    pub fn size_bytes(&self) -> u64 {
        self.nblocks() as u64 * PAGE_SIZE as u64
    }

    /// The lock of an existing block.
    fn slot(&self, block: BlockNumber) -> Result<&RwLock<Aligned>> {
        let nblocks = self.nblocks();
        let out_of_range = Error::BlockOutOfRange { block, nblocks };
        if block >= nblocks {
            return Err(out_of_range);
        }
        let (segment, index) = locate(block as usize / CHUNK_PAGES);
        self.segments[segment]
            .get()
            .and_then(|chunks| chunks.get(index))
            .and_then(|chunk| chunk.get())
            .and_then(|pages| pages.get(block as usize % CHUNK_PAGES))
            .ok_or(out_of_range)
    }

    /// Appends an all-zero block and returns its number.
    fn push_block(&self) -> Result<BlockNumber> {
        let _extending = lock_ignoring_poison(&self.extend_lock);
        let block = self.nblocks.load(Ordering::Acquire);
        if block >= INVALID_BLOCK - 1 {
            return Err(Error::RelationFull {
                max: INVALID_BLOCK - 1,
            });
        }
        let (segment, index) = locate(block as usize / CHUNK_PAGES);
        let chunks = self.segments[segment].get_or_init(|| {
            (0..(SEGMENT_BASE << segment))
                .map(|_| OnceLock::new())
                .collect()
        });
        // Pages of a chunk start all-zero, like blocks PostgreSQL extends a relation with.
        chunks[index].get_or_init(|| {
            (0..CHUNK_PAGES)
                .map(|_| RwLock::new(Aligned(*Page::zeroed())))
                .collect()
        });
        // Publish the block only once its chunk exists, so readers never see a hole.
        self.nblocks.store(block + 1, Ordering::Release);
        Ok(block)
    }
}

/// Segment and index of a chunk.
fn locate(chunk: usize) -> (usize, usize) {
    let x = chunk as u64 + SEGMENT_BASE;
    let segment = (63 - x.leading_zeros()) as usize - SEGMENT_BASE.trailing_zeros() as usize;
    (segment, (x - (SEGMENT_BASE << segment)) as usize)
}

// A panic while a write guard is held can only happen before the commit copies pages back,
// so a poisoned lock still protects consistent contents.
fn lock_ignoring_poison<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write_ignoring_poison(lock: &RwLock<Aligned>) -> RwLockWriteGuard<'_, Aligned> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A shared lock on one page of a [`MemoryRelation`].
pub struct MemoryReadGuard<'a>(RwLockReadGuard<'a, Aligned>);

impl std::ops::Deref for MemoryReadGuard<'_> {
    type Target = Page;

    fn deref(&self) -> &Page {
        &self.0 .0
    }
}

impl Relation for MemoryRelation {
    type ReadGuard<'a> = MemoryReadGuard<'a>;
    type Write<'a> = MemoryWrite<'a>;

    fn read(&self, block: BlockNumber) -> Result<Self::ReadGuard<'_>> {
        let slot = self.slot(block)?;
        Ok(MemoryReadGuard(
            slot.read().unwrap_or_else(|poisoned| poisoned.into_inner()),
        ))
    }

    fn begin(&self) -> MemoryWrite<'_> {
        MemoryWrite {
            rel: self,
            pages: Vec::with_capacity(MAX_PAGES_PER_WRITE),
        }
    }

    fn nblocks(&self) -> BlockNumber {
        self.nblocks.load(Ordering::Acquire)
    }

    fn prefetch(&self, block: BlockNumber, ranges: &[Range<usize>]) {
        let Ok(slot) = self.slot(block) else { return };
        // Where the page lies inside its lock, found without taking the lock (which would wait
        // for the very cache miss the prefetch is meant to hide).
        let page = (slot as *const RwLock<Aligned> as *const u8).wrapping_add(page_offset());
        prefetch_into_cache(page, ranges);
    }
}

/// Offset of the page inside `RwLock<Aligned>`: the same for every lock of that type.
fn page_offset() -> usize {
    static OFFSET: OnceLock<usize> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        let lock = RwLock::new(Aligned(*Page::zeroed()));
        let guard = lock.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        (&guard.0 as *const Page as usize).wrapping_sub(&lock as *const RwLock<Aligned> as usize)
    })
}

/// One page of a write set: its lock, the copy being edited, whether it was borrowed mutably.
struct Entry<'a> {
    block: BlockNumber,
    guard: RwLockWriteGuard<'a, Aligned>,
    copy: Box<Page>,
    dirty: bool,
}

/// A [`WriteSet`] of [`MemoryRelation`].
pub struct MemoryWrite<'a> {
    rel: &'a MemoryRelation,
    pages: Vec<Entry<'a>>,
}

impl<'a> MemoryWrite<'a> {
    fn push(&mut self, block: BlockNumber, guard: RwLockWriteGuard<'a, Aligned>) -> usize {
        let copy = Box::new(guard.0.clone());
        self.pages.push(Entry {
            block,
            guard,
            copy,
            dirty: false,
        });
        self.pages.len() - 1
    }

    fn check_room(&self) -> Result<()> {
        if self.pages.len() >= MAX_PAGES_PER_WRITE {
            Err(Error::TooManyPages {
                max: MAX_PAGES_PER_WRITE,
            })
        } else {
            Ok(())
        }
    }
}

impl WriteSet for MemoryWrite<'_> {
    fn lock(&mut self, block: BlockNumber) -> Result<usize> {
        self.check_room()?;
        if self.pages.iter().any(|entry| entry.block == block) {
            // Locking twice would deadlock on our own lock.
            return Err(Error::corrupt(block, "block locked twice in one change"));
        }
        let guard = write_ignoring_poison(self.rel.slot(block)?);
        Ok(self.push(block, guard))
    }

    fn extend(&mut self) -> Result<(usize, BlockNumber)> {
        self.check_room()?;
        let block = self.rel.push_block()?;
        let guard = write_ignoring_poison(self.rel.slot(block)?);
        Ok((self.push(block, guard), block))
    }

    fn block(&self, slot: usize) -> BlockNumber {
        self.pages[slot].block
    }

    fn page(&self, slot: usize) -> &Page {
        &self.pages[slot].copy
    }

    fn page_mut(&mut self, slot: usize) -> &mut Page {
        let entry = &mut self.pages[slot];
        entry.dirty = true;
        &mut entry.copy
    }
}

impl Drop for MemoryWrite<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let mut record = WalRecord::new();
        for entry in self.pages.iter_mut().filter(|entry| entry.dirty) {
            entry.guard.0.copy_from(&entry.copy);
            if self.rel.wal.is_some() {
                record.push((entry.block, entry.copy.clone()));
            }
            self.rel.pages_written.fetch_add(1, Ordering::Relaxed);
        }
        if self.pages.iter().any(|entry| entry.dirty) {
            self.rel.commits.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(wal) = &self.rel.wal {
            if !record.is_empty() {
                lock_ignoring_poison(wal).push(record);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::PageKind;

    #[test]
    fn locate_covers_the_block_range() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(1023), (0, 1023));
        assert_eq!(locate(1024), (1, 0));
        assert_eq!(locate(3071), (1, 2047));
        assert_eq!(locate(3072), (2, 0));
        let (segment, index) = locate((INVALID_BLOCK - 1) as usize / CHUNK_PAGES);
        assert!(segment < SEGMENTS);
        assert!((index as u64) < SEGMENT_BASE << segment);
    }

    #[test]
    fn writes_publish_on_commit_only() {
        let rel = MemoryRelation::with_wal();
        let mut ws = rel.begin();
        let (slot, block) = ws.extend().unwrap();
        ws.page_mut(slot).init(PageKind::List);
        drop(ws);
        assert_eq!(rel.read(block).unwrap().kind(block), Ok(PageKind::List));
        assert_eq!(rel.commits(), 1);

        // A write set that only looks commits nothing.
        let mut ws = rel.begin();
        let slot = ws.lock(block).unwrap();
        assert_eq!(ws.page(slot).count(), 0);
        drop(ws);
        assert_eq!(rel.commits(), 1);
        assert_eq!(rel.wal().len(), 1);
    }

    #[test]
    fn a_panic_discards_the_change() {
        let rel = MemoryRelation::new();
        {
            let mut ws = rel.begin();
            let (slot, _) = ws.extend().unwrap();
            ws.page_mut(slot).init(PageKind::Meta);
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut ws = rel.begin();
            let slot = ws.lock(0).unwrap();
            ws.page_mut(slot).init(PageKind::List);
            panic!("error in the middle of a change");
        }));
        assert!(result.is_err());
        assert_eq!(rel.read(0).unwrap().kind(0), Ok(PageKind::Meta));
    }

    #[test]
    fn limits_are_enforced() {
        let rel = MemoryRelation::new();
        let mut ws = rel.begin();
        for _ in 0..MAX_PAGES_PER_WRITE {
            ws.extend().unwrap();
        }
        assert!(matches!(ws.extend(), Err(Error::TooManyPages { .. })));
        drop(ws);
        let mut ws = rel.begin();
        ws.lock(1).unwrap();
        assert!(ws.lock(1).is_err());
        assert!(matches!(ws.lock(99), Err(Error::BlockOutOfRange { .. })));
        assert!(rel.read(4).is_err());
    }

    #[test]
    fn replay_rebuilds_committed_state() {
        let rel = MemoryRelation::with_wal();
        for kind in [PageKind::Meta, PageKind::Centroid, PageKind::List] {
            let mut ws = rel.begin();
            let (slot, _) = ws.extend().unwrap();
            ws.page_mut(slot).init(kind);
        }
        let wal = rel.wal();
        let partial = MemoryRelation::replay(&wal[..2]).unwrap();
        assert_eq!(partial.nblocks(), 2);
        assert_eq!(partial.read(1).unwrap().kind(1), Ok(PageKind::Centroid));
        let full = MemoryRelation::replay(&wal).unwrap();
        assert_eq!(full.read(2).unwrap().kind(2), Ok(PageKind::List));
    }
}
