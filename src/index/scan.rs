//! Index scans: rank the lists by their centroid's distance to the query, read the nearest
//! `probes` lists, and return rows nearest first; when WHERE clauses keep rejecting rows, read
//! the next-nearest lists until `max_probes`. Clauses on the index's columns after the vector
//! are checked on the index's own copy of their values, before a row is scored.

use super::attributes::Columns;
use super::storage::{table_counts, PgRelation};
use super::{options, searchers, vector_of};
use crate::error::raise_ivf;
use fashrec_ivf::{Filter, Metric, Scan, Searcher};
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;
use std::sync::Arc;

/// What one scan remembers between amgettuple calls.
struct ScanState {
    /// The centroids, from the backend's cache on the first query and kept across rescans: a
    /// nested loop rescans once per outer row, and the index cannot be rebuilt while the scan
    /// holds its lock.
    searcher: Option<Arc<Searcher>>,
    scan: Option<Scan>,
    metric: Metric,
    /// The WHERE clauses on the columns after the vector, as the crate checks them.
    filter: Filter,
    /// The index's pages, kept for the whole scan so that the block count it learnt carries
    /// over from one amgettuple to the next; its buffer hints are the backend's (searchers.rs).
    rel: PgRelation,
}

/// `ambeginscan`: sets up an ordered scan.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambeginscan(
    index: pg_sys::Relation,
    nkeys: i32,
    norderbys: i32,
) -> pg_sys::IndexScanDesc {
    // SAFETY: RelationGetIndexScan allocates the descriptor; the order-by arrays must be
    // allocated by the access method (a second query on the connection crashed without them).
    unsafe {
        let scan = pg_sys::RelationGetIndexScan(index, nkeys, norderbys);
        let n = norderbys.max(1) as usize;
        (*scan).xs_orderbyvals = pg_sys::palloc0(n * size_of::<pg_sys::Datum>()).cast();
        (*scan).xs_orderbynulls = pg_sys::palloc(n * size_of::<bool>()).cast();
        std::ptr::write_bytes((*scan).xs_orderbynulls, 1, n);
        // The state lives in the scan's memory context and is dropped with it, also when the
        // query ends in an ERROR and amendscan is never called.
        let state = PgMemoryContexts::CurrentMemoryContext.leak_and_drop_on_delete(ScanState {
            searcher: None,
            scan: None,
            metric: Metric::L2,
            filter: Filter::new(),
            rel: PgRelation::new(index),
        });
        (*scan).opaque = state.cast();
        scan
    }
}

/// `amrescan`: takes the (new) query vector and WHERE clauses; the lists are read on the first
/// amgettuple.
#[pg_guard]
pub unsafe extern "C-unwind" fn amrescan(
    scan: pg_sys::IndexScanDesc,
    keys: pg_sys::ScanKey,
    nkeys: i32,
    orderbys: pg_sys::ScanKey,
    norderbys: i32,
) {
    // SAFETY: `orderbys` holds `norderbys` keys and `keys` `nkeys`, and the descriptor has
    // room for them (RelationGetIndexScan sized it).
    unsafe {
        if !orderbys.is_null() && norderbys > 0 {
            std::ptr::copy(orderbys, (*scan).orderByData, norderbys as usize);
        }
        if !keys.is_null() && nkeys > 0 {
            std::ptr::copy(keys, (*scan).keyData, nkeys as usize);
        }
        let state = &mut *((*scan).opaque as *mut ScanState);
        let columns = Columns::of((*scan).indexRelation);
        state.filter = columns.filter((*scan).keyData, (*scan).numberOfKeys);
        report(state.scan.take());
    }
}

/// What a finished scan read, at DEBUG1 (`SET client_min_messages = debug1` shows it).
fn report(scan: Option<Scan>) {
    if let Some(scan) = scan {
        pgrx::debug1!(
            "fashrec_ivf scan: {} lists probed ({} ruled out by their summaries, unread), {} pages of them ruled out by their key ranges, {} rows rescored",
            scan.lists_probed(),
            scan.lists_skipped(),
            scan.pages_skipped(),
            scan.rows_rescored()
        );
    }
}

/// Counts one scan of the index for pg_stat_user_indexes.idx_scan (PostgreSQL's
/// `pgstat_count_index_scan`).
unsafe fn count_index_scan(index: pg_sys::Relation) {
    // SAFETY: `index` is an open relation.
    if let Some(counts) = unsafe { table_counts(index) } {
        counts.t_numscans += 1;
    }
}

/// `amgettuple`: the next row, nearest first.
#[pg_guard]
pub unsafe extern "C-unwind" fn amgettuple(
    scan: pg_sys::IndexScanDesc,
    _direction: pg_sys::ScanDirection::Type,
) -> bool {
    // SAFETY: `scan` was set up by ambeginscan/amrescan; its opaque is our ScanState.
    unsafe {
        if (*scan).numberOfOrderBys == 0 {
            crate::sql_error!(ERRCODE_FEATURE_NOT_SUPPORTED, "a fashrec_ivf index can only be scanned with ORDER BY column <-> vector (or <=>, <#>)");
        }
        let state = &mut *((*scan).opaque as *mut ScanState);
        if state.scan.is_none() {
            let index = (*scan).indexRelation;
            let searcher = match state.searcher.clone() {
                Some(searcher) => searcher,
                None => {
                    let (searcher, hints) = searchers::searcher(index, &state.rel);
                    state.rel.use_hints(hints);
                    state.searcher = Some(searcher.clone());
                    searcher
                }
            };
            state.metric = searcher.meta().metric;
            let key = &*(*scan).orderByData;
            // `<-> NULL` orders every row by NULL: any order will do, so the zero vector.
            let zeros;
            let query = if key.sk_flags & pg_sys::SK_ISNULL as i32 != 0 {
                zeros = vec![0.0; searcher.meta().dims as usize];
                &zeros[..]
            } else {
                vector_of(key.sk_argument)
            };
            state.scan = Some(
                Scan::with_searcher(searcher, query, options::scan_options(index))
                    .and_then(|s| s.with_filter(state.filter.clone()))
                    .unwrap_or_else(|e| raise_ivf(e)),
            );
            count_index_scan(index);
        }
        let Some(active) = state.scan.as_mut() else {
            return false;
        };
        match active.next(&state.rel).unwrap_or_else(|e| raise_ivf(e)) {
            Some(neighbor) => {
                pgrx::itemptr::item_pointer_set_all(
                    &mut (*scan).xs_heaptid,
                    neighbor.tid.block,
                    neighbor.tid.offset,
                );
                // Keys only rule rows out (see attributes.rs): PostgreSQL checks the clauses.
                (*scan).xs_recheck = (*scan).numberOfKeys > 0;
                (*scan).xs_recheckorderby = false;
                *(*scan).xs_orderbyvals =
                    pg_sys::Datum::from(state.metric.distance(neighbor.score).to_bits());
                *(*scan).xs_orderbynulls = false;
                true
            }
            None => false,
        }
    }
}

/// `amendscan`: nothing to free by hand; the state goes with the scan's memory context.
#[pg_guard]
pub unsafe extern "C-unwind" fn amendscan(scan: pg_sys::IndexScanDesc) {
    // SAFETY: opaque is our ScanState until the memory context is deleted.
    report(unsafe { (*((*scan).opaque as *mut ScanState)).scan.take() });
}
