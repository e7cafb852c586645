//! The ivf crate's page storage on PostgreSQL buffers: the only file that touches them. Every
//! write set is one generic WAL record, so a crash leaves each change done or not done.
//!
//! Reads are the hot path of a scan (a 784-d list page holds two vectors), so a read costs no
//! system call and, for a page read before, no buffer-table lookup: the block count is
//! remembered and asked for again only for a block past it (an index only grows while it is
//! open), and the buffer each block was last found in is remembered (`BufferHints`) and pinned
//! through `ReadRecentBuffer`, which checks that the buffer still holds that block. A scan's
//! prefetch of the next page needs no lookup either once the page has been read before.

use fashrec_ivf::{
    prefetch_into_cache, BlockNumber, Error, Page, Relation, Result, WriteSet, MAX_PAGES_PER_WRITE,
};
use pgrx::pg_sys;
use std::cell::{Cell, RefCell};
use std::ops::{Deref, Range};
use std::rc::Rc;

/// Most blocks of one index whose buffers are remembered (4 MiB of hints): a larger index's
/// blocks past it are looked up each time.
const MAX_HINTED_BLOCKS: usize = 1 << 20;

/// No buffer: an unset hint, or a prefetch that found the block outside shared buffers.
const NO_BUFFER: pg_sys::Buffer = pg_sys::InvalidBuffer as pg_sys::Buffer;

/// The buffer each block of one index was last found in. Only a hint: a buffer may hold
/// another page by the time it is used, which `ReadRecentBuffer` detects, and a hint can never
/// make a read return the wrong page. A backend keeps them between queries (searchers.rs).
#[derive(Default)]
pub struct BufferHints(RefCell<Vec<pg_sys::Buffer>>);

impl BufferHints {
    fn get(&self, block: BlockNumber) -> Option<pg_sys::Buffer> {
        let buffer = *self.0.borrow().get(block as usize)?;
        (buffer != NO_BUFFER).then_some(buffer)
    }

    fn set(&self, block: BlockNumber, buffer: pg_sys::Buffer) {
        let block = block as usize;
        if block >= MAX_HINTED_BLOCKS {
            return;
        }
        let mut hints = self.0.borrow_mut();
        if hints.len() <= block {
            hints.resize(block + 1, NO_BUFFER);
        }
        hints[block] = buffer;
    }
}

/// An index relation (one fork of it) seen as pages.
pub struct PgRelation {
    raw: pg_sys::Relation,
    fork: pg_sys::ForkNumber::Type,
    /// The block count when last asked: blocks below it exist.
    known_blocks: Cell<BlockNumber>,
    /// Where blocks were last found.
    hints: Rc<BufferHints>,
}

impl PgRelation {
    /// The main fork of an open index relation.
    pub fn new(raw: pg_sys::Relation) -> Self {
        Self::with_fork(raw, pg_sys::ForkNumber::MAIN_FORKNUM)
    }

    /// Another fork (the init fork of an unlogged index).
    pub fn with_fork(raw: pg_sys::Relation, fork: pg_sys::ForkNumber::Type) -> Self {
        Self {
            raw,
            fork,
            known_blocks: Cell::new(0),
            hints: Rc::default(),
        }
    }

    /// Uses (and adds to) hints kept from earlier scans of this index.
    pub fn use_hints(&mut self, hints: Rc<BufferHints>) {
        self.hints = hints;
    }

    /// Checks that `block` exists, asking the storage manager only past the known count.
    fn check_block(&self, block: BlockNumber) -> Result<()> {
        if block < self.known_blocks.get() {
            return Ok(());
        }
        let nblocks = self.nblocks();
        if block < nblocks {
            Ok(())
        } else {
            Err(Error::BlockOutOfRange { block, nblocks })
        }
    }

    fn buffer(&self, block: BlockNumber, mode: i32) -> pg_sys::Buffer {
        // SAFETY: `raw` is an open relation for the lifetime of self and `block` exists;
        // ReadRecentBuffer pins the buffer only if it still holds this very block, and
        // ReadBufferExtended raises an ERROR (not UB) on an I/O failure.
        unsafe {
            let buffer = match self.hints.get(block) {
                Some(hint)
                    if pg_sys::ReadRecentBuffer((*self.raw).rd_node, self.fork, block, hint) =>
                {
                    // ReadBufferExtended counts its reads for pg_statio; ReadRecentBuffer does not.
                    if let Some(counts) = table_counts(self.raw) {
                        counts.t_blocks_fetched += 1;
                        counts.t_blocks_hit += 1;
                    }
                    hint
                }
                _ => {
                    let buffer = pg_sys::ReadBufferExtended(
                        self.raw,
                        self.fork,
                        block,
                        pg_sys::ReadBufferMode::RBM_NORMAL,
                        std::ptr::null_mut(),
                    );
                    self.hints.set(block, buffer);
                    buffer
                }
            };
            pg_sys::LockBuffer(buffer, mode);
            buffer
        }
    }
}

/// The relation's statistics counters of this transaction (what PostgreSQL's pgstat_count_*
/// macros, which bindings cannot call, increment), if statistics are collected for it.
///
/// # Safety
/// `rel` is an open relation; the counters live until the end of the transaction.
pub(super) unsafe fn table_counts(
    rel: pg_sys::Relation,
) -> Option<&'static mut pg_sys::PgStat_TableCounts> {
    // SAFETY: `rel` is open; pgstat_assoc_relation sets pgstat_info when statistics are being
    // collected for it.
    unsafe {
        if (*rel).pgstat_info.is_null() && (*rel).pgstat_enabled {
            pg_sys::pgstat_assoc_relation(rel);
        }
        (*rel).pgstat_info.as_mut().map(|info| &mut info.t_counts)
    }
}

/// A pinned page under a shared lock.
pub struct PgReadGuard {
    buffer: pg_sys::Buffer,
    page: *const Page,
}

impl Deref for PgReadGuard {
    type Target = Page;
    fn deref(&self) -> &Page {
        // SAFETY: the buffer stays pinned and share-locked until drop; a buffer page is
        // BLCKSZ (8192) bytes aligned at least to 8, which is Page's size and alignment.
        unsafe { &*self.page }
    }
}

impl Drop for PgReadGuard {
    fn drop(&mut self) {
        // SAFETY: we hold exactly one pin and one lock on this buffer.
        unsafe { pg_sys::UnlockReleaseBuffer(self.buffer) }
    }
}

impl Relation for PgRelation {
    type ReadGuard<'a> = PgReadGuard;
    type Write<'a> = PgWrite<'a>;

    fn read(&self, block: BlockNumber) -> Result<PgReadGuard> {
        self.check_block(block)?;
        let buffer = self.buffer(block, pg_sys::BUFFER_LOCK_SHARE as i32);
        // SAFETY: the buffer is valid and pinned.
        let page = unsafe { pg_sys::BufferGetPage(buffer) } as *const Page;
        Ok(PgReadGuard { buffer, page })
    }

    fn begin(&self) -> PgWrite<'_> {
        PgWrite {
            rel: self,
            state: std::ptr::null_mut(),
            slots: Vec::with_capacity(MAX_PAGES_PER_WRITE),
        }
    }

    fn nblocks(&self) -> BlockNumber {
        // SAFETY: `raw` is an open relation.
        let nblocks = unsafe { pg_sys::RelationGetNumberOfBlocksInFork(self.raw, self.fork) };
        self.known_blocks.set(nblocks);
        nblocks
    }

    fn known_blocks(&self) -> BlockNumber {
        self.known_blocks.get()
    }

    /// Starts reading the block into shared buffers if it is not there (an OS read-ahead
    /// hint), and if it is, warms the CPU cache with the asked ranges of its page. A block
    /// with a buffer hint is taken to be there: no lookup.
    fn prefetch(&self, block: BlockNumber, ranges: &[Range<usize>]) {
        if block >= self.known_blocks.get() {
            return;
        }
        // SAFETY: `raw` is open and `block` exists. PrefetchBuffer pins nothing; the buffer it
        // names is only used as a hint: its address for CPU prefetches (which never fault)
        // and as ReadRecentBuffer's guess, which verifies it under a pin.
        unsafe {
            let found = match self.hints.get(block) {
                Some(hint) => hint,
                None => {
                    let found = pg_sys::PrefetchBuffer(self.raw, self.fork, block).recent_buffer;
                    if found == NO_BUFFER {
                        return;
                    }
                    self.hints.set(block, found);
                    found
                }
            };
            prefetch_into_cache(pg_sys::BufferGetPage(found) as *const u8, ranges);
        }
    }
}

/// One slot of a write set: the locked buffer and GenericXLog's working copy of its page.
struct Slot {
    block: BlockNumber,
    buffer: pg_sys::Buffer,
    page: *mut Page,
}

/// The pages of one change, exclusively locked; dropping commits them as one WAL record.
pub struct PgWrite<'a> {
    rel: &'a PgRelation,
    state: *mut pg_sys::GenericXLogState,
    slots: Vec<Slot>,
}

impl PgWrite<'_> {
    fn register(&mut self, block: BlockNumber, buffer: pg_sys::Buffer, flags: i32) -> usize {
        // SAFETY: `buffer` is pinned and exclusively locked by us; GenericXLog returns a
        // page-sized working copy that lives until Finish or Abort.
        unsafe {
            if self.state.is_null() {
                self.state = pg_sys::GenericXLogStart(self.rel.raw);
            }
            let page = pg_sys::GenericXLogRegisterBuffer(self.state, buffer, flags) as *mut Page;
            self.slots.push(Slot {
                block,
                buffer,
                page,
            });
        }
        self.slots.len() - 1
    }

    fn room(&self) -> Result<()> {
        if self.slots.len() >= MAX_PAGES_PER_WRITE {
            Err(Error::TooManyPages {
                max: MAX_PAGES_PER_WRITE,
            })
        } else {
            Ok(())
        }
    }
}

impl WriteSet for PgWrite<'_> {
    fn lock(&mut self, block: BlockNumber) -> Result<usize> {
        self.room()?;
        self.rel.check_block(block)?;
        let buffer = self.rel.buffer(block, pg_sys::BUFFER_LOCK_EXCLUSIVE as i32);
        Ok(self.register(block, buffer, 0))
    }

    fn extend(&mut self) -> Result<(usize, BlockNumber)> {
        self.room()?;
        // SAFETY: the relation extension lock serialises extenders; P_NEW returns a new,
        // pinned, zeroed block, which we lock before anyone else can find it.
        let (buffer, block) = unsafe {
            pg_sys::LockRelationForExtension(self.rel.raw, pg_sys::ExclusiveLock as i32);
            let buffer = pg_sys::ReadBufferExtended(
                self.rel.raw,
                self.rel.fork,
                pg_sys::InvalidBlockNumber,
                pg_sys::ReadBufferMode::RBM_NORMAL,
                std::ptr::null_mut(),
            );
            pg_sys::LockBuffer(buffer, pg_sys::BUFFER_LOCK_EXCLUSIVE as i32);
            pg_sys::UnlockRelationForExtension(self.rel.raw, pg_sys::ExclusiveLock as i32);
            (buffer, pg_sys::BufferGetBlockNumber(buffer))
        };
        self.rel
            .known_blocks
            .set(self.rel.known_blocks.get().max(block + 1));
        let slot = self.register(block, buffer, pg_sys::GENERIC_XLOG_FULL_IMAGE as i32);
        Ok((slot, block))
    }

    fn block(&self, slot: usize) -> BlockNumber {
        self.slots[slot].block
    }

    fn page(&self, slot: usize) -> &Page {
        // SAFETY: the working copy lives until this write set is dropped.
        unsafe { &*self.slots[slot].page }
    }

    fn page_mut(&mut self, slot: usize) -> &mut Page {
        // SAFETY: as above, and `&mut self` makes the borrow unique.
        unsafe { &mut *self.slots[slot].page }
    }
}

impl Drop for PgWrite<'_> {
    fn drop(&mut self) {
        // SAFETY: `state` and the slots were set up by `register`; during an unwinding ERROR
        // the half-made change is discarded rather than logged.
        unsafe {
            if !self.state.is_null() {
                if std::thread::panicking() {
                    pg_sys::GenericXLogAbort(self.state);
                } else {
                    pg_sys::GenericXLogFinish(self.state);
                }
            }
            for slot in &self.slots {
                pg_sys::UnlockReleaseBuffer(slot.buffer);
            }
        }
    }
}
