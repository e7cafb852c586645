//! INSERT and UPDATE: the new row goes into the list of its nearest centroid.

use super::attributes::Columns;
use super::storage::PgRelation;
use super::vector_of;
use crate::error::raise_ivf;
use fashrec_ivf::Tid;
use pgrx::pg_sys;
use pgrx::prelude::*;

/// `aminsert`: adds one row; rows with a NULL vector are not indexed.
#[pg_guard]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C-unwind" fn aminsert(
    index: pg_sys::Relation,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    heap_tid: pg_sys::ItemPointer,
    _heap: pg_sys::Relation,
    _check_unique: pg_sys::IndexUniqueCheck::Type,
    _index_unchanged: bool,
    _info: *mut pg_sys::IndexInfo,
) -> bool {
    // SAFETY: PostgreSQL passes every indexed column and a valid heap tid.
    unsafe {
        let columns = Columns::of(index);
        if *isnull.add(columns.vector) {
            return false;
        }
        let (block, offset) = pgrx::itemptr::item_pointer_get_both(*heap_tid);
        // Detoasted copies go to a short-lived context: an INSERT ... SELECT may add many rows.
        let mut context = pgrx::PgMemoryContexts::new("fashrec_ivf insert");
        context.switch_to(|_| {
            let vector = vector_of(*values.add(columns.vector));
            let keys = columns.row_keys(values, isnull);
            let tid = Tid::new(block, offset);
            fashrec_ivf::insert_with_attributes(&PgRelation::new(index), tid, vector, &keys)
                .unwrap_or_else(|e| raise_ivf(e));
        });
    }
    false
}
