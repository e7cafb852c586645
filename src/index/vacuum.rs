//! VACUUM: remove the items of dead rows; their space is reused by later inserts.

use super::storage::PgRelation;
use crate::error::raise_ivf;
use fashrec_ivf::{BulkDelete, Tid};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Asks PostgreSQL's callback which rows are dead.
struct DeadRows {
    callback: pg_sys::IndexBulkDeleteCallback,
    state: *mut std::ffi::c_void,
}

impl BulkDelete for DeadRows {
    fn is_dead(&mut self, tid: Tid) -> bool {
        let mut pointer = pg_sys::ItemPointerData::default();
        pgrx::itemptr::item_pointer_set_all(&mut pointer, tid.block, tid.offset);
        // SAFETY: the callback and its state come from the ambulkdelete call in progress.
        self.callback
            .is_some_and(|callback| unsafe { callback(&mut pointer, self.state) })
    }

    fn between_pages(&mut self) {
        // SAFETY: called with no buffer locked, as vacuum_delay_point requires.
        unsafe { pg_sys::vacuum_delay_point() };
    }
}

fn stats_or_new(stats: *mut pg_sys::IndexBulkDeleteResult) -> *mut pg_sys::IndexBulkDeleteResult {
    if stats.is_null() {
        // SAFETY: palloc0 of a plain struct.
        unsafe { PgBox::<pg_sys::IndexBulkDeleteResult>::alloc0().into_pg() }
    } else {
        stats
    }
}

/// `ambulkdelete`: removes the items whose rows the callback reports dead.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambulkdelete(
    info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
    callback: pg_sys::IndexBulkDeleteCallback,
    callback_state: *mut std::ffi::c_void,
) -> *mut pg_sys::IndexBulkDeleteResult {
    let stats = stats_or_new(stats);
    // SAFETY: `info` describes the index being vacuumed; `stats` is ours to fill.
    unsafe {
        let rel = PgRelation::new((*info).index);
        let mut dead = DeadRows {
            callback,
            state: callback_state,
        };
        let done = fashrec_ivf::bulk_delete(&rel, &mut dead).unwrap_or_else(|e| raise_ivf(e));
        (*stats).tuples_removed += done.removed as f64;
        (*stats).num_index_tuples = done.remaining as f64;
        (*stats).num_pages = pg_sys::RelationGetNumberOfBlocksInFork(
            (*info).index,
            pg_sys::ForkNumber::MAIN_FORKNUM,
        );
    }
    stats
}

/// `amvacuumcleanup`: reports the index's size after a vacuum.
#[pg_guard]
pub unsafe extern "C-unwind" fn amvacuumcleanup(
    info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
) -> *mut pg_sys::IndexBulkDeleteResult {
    // SAFETY: as in ambulkdelete.
    unsafe {
        if (*info).analyze_only {
            return stats;
        }
        let stats = if stats.is_null() {
            // No bulk delete ran (nothing was dead): count the rows ourselves.
            let stats = stats_or_new(stats);
            let info = fashrec_ivf::inspect(&PgRelation::new((*info).index))
                .unwrap_or_else(|e| raise_ivf(e));
            (*stats).num_index_tuples = info.rows as f64;
            stats
        } else {
            stats
        };
        (*stats).num_pages = pg_sys::RelationGetNumberOfBlocksInFork(
            (*info).index,
            pg_sys::ForkNumber::MAIN_FORKNUM,
        );
        stats
    }
}
