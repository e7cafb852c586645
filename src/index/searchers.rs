//! Each backend keeps the searchers (meta page, centroids, list heads) of the indexes it has
//! scanned, so a query does not read and copy every centroid page again: at 784-d and 245
//! lists that is 123 pages and 750 KiB per query. Beside each it keeps the buffers the index's
//! pages were last found in, so that the next scan pins them without a buffer-table lookup.
//!
//! A searcher is valid for as long as its index's file stays the same: only a build writes
//! the meta and centroid pages, and every build (CREATE INDEX, REINDEX, TRUNCATE, VACUUM
//! FULL) writes a new relfilenode. So an entry is keyed by the index's OID and relfilenode,
//! and each scan also compares the meta page, one buffer read, with the entry's: a stale entry
//! (a relfilenode number reused after a DROP) can never be used. No invalidation callback is
//! needed; entries of dropped indexes age out.

use super::storage::{BufferHints, PgRelation};
use crate::error::raise_ivf;
use fashrec_ivf::{Meta, Searcher};
use pgrx::pg_sys;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Most bytes of centroids one backend keeps; a larger index's searcher is used for its scan
/// only. Generous next to the models a backend holds (about 100 MiB).
const BUDGET_BYTES: usize = 64 << 20;

struct Entry {
    index: pg_sys::Oid,
    relfilenode: pg_sys::Oid,
    bytes: usize,
    searcher: Arc<Searcher>,
    hints: Rc<BufferHints>,
}

thread_local! {
    /// Most recently used first. A backend has one thread; PostgreSQL is never called from
    /// another.
    static CACHE: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// The searcher of an open index and its buffer hints: the cached ones if the index is
/// unchanged, else read anew.
pub fn searcher(index: pg_sys::Relation, rel: &PgRelation) -> (Arc<Searcher>, Rc<BufferHints>) {
    // SAFETY: `index` is an open relation; rd_id and rd_node are plain fields.
    let (oid, relfilenode) = unsafe { ((*index).rd_id, (*index).rd_node.relNode) };
    let meta = Meta::read(rel).unwrap_or_else(|e| raise_ivf(e));
    CACHE.with_borrow_mut(|cache| {
        if let Some(at) = cache
            .iter()
            .position(|e| e.index == oid && e.relfilenode == relfilenode)
        {
            let entry = cache.remove(at);
            if *entry.searcher.meta() == meta {
                let found = (entry.searcher.clone(), entry.hints.clone());
                cache.insert(0, entry);
                return found;
            }
        }
        let searcher = Arc::new(Searcher::open_with(rel, meta).unwrap_or_else(|e| raise_ivf(e)));
        // Only the centroids count toward the budget: an index's hints stay under 4 MiB
        // (MAX_HINTED_BLOCKS in storage.rs).
        let bytes = searcher.memory_bytes();
        let hints = Rc::new(BufferHints::default());
        if bytes <= BUDGET_BYTES {
            cache.insert(
                0,
                Entry {
                    index: oid,
                    relfilenode,
                    bytes,
                    searcher: searcher.clone(),
                    hints: hints.clone(),
                },
            );
            let mut total = 0;
            cache.retain(|e| {
                total += e.bytes;
                total <= BUDGET_BYTES
            });
        }
        (searcher, hints)
    })
}
