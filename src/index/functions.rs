//! SQL functions to look inside an index: its lists and their balance, and a consistency check.

use super::attributes::Columns;
use super::storage::PgRelation;
use crate::error::raise_ivf;
use fashrec_ivf::attributes::encode;
use fashrec_ivf::{Metric, Tid};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// An open fashrec_ivf index, closed on drop.
struct OpenIndex(pg_sys::Relation);

impl OpenIndex {
    fn open(index: pg_sys::Oid) -> Self {
        // SAFETY: index_open raises an ERROR for an oid that is not an index.
        let rel = unsafe { pg_sys::index_open(index, pg_sys::AccessShareLock as pg_sys::LOCKMODE) };
        // SAFETY: an open relation has its pg_class row; get_am_name returns NULL or a C string.
        let ours = unsafe {
            let name = pg_sys::get_am_name((*(*rel).rd_rel).relam);
            !name.is_null() && std::ffi::CStr::from_ptr(name) == c"fashrec_ivf"
        };
        let opened = OpenIndex(rel);
        if !ours {
            crate::sql_error!(
                ERRCODE_WRONG_OBJECT_TYPE,
                "relation {index:?} is not a fashrec_ivf index"
            );
        }
        opened
    }
}

impl Drop for OpenIndex {
    fn drop(&mut self) {
        // SAFETY: opened in `open` with this lock mode.
        unsafe { pg_sys::index_close(self.0, pg_sys::AccessShareLock as pg_sys::LOCKMODE) }
    }
}

fn metric_name(metric: Metric) -> &'static str {
    match metric {
        Metric::L2 => "l2",
        Metric::Cosine => "cosine",
        Metric::InnerProduct => "inner_product",
    }
}

/// The shape of a fashrec_ivf index: when `imbalance` (largest list over the mean) grows far
/// above 1 after many inserts, a REINDEX rebalances the lists.
#[pg_extern(strict, parallel_safe)]
#[allow(clippy::type_complexity)] // pgrx spells the SQL result columns in the type
fn fashrec_ivf_info(
    index: pgrx::PgRelation,
) -> TableIterator<
    'static,
    (
        name!(lists, i32),
        name!(dims, i32),
        name!(metric, &'static str),
        name!(rows, i64),
        name!(blocks, i64),
        name!(empty_lists, i32),
        name!(imbalance, f64),
        name!(coefficient_of_variation, f64),
        name!(codes, bool),
        name!(code_pages, i64),
        name!(filter_columns, i32),
        name!(summary_pages, i64),
    ),
> {
    let open = OpenIndex::open(index.oid());
    let info = fashrec_ivf::inspect(&PgRelation::new(open.0)).unwrap_or_else(|e| raise_ivf(e));
    TableIterator::once((
        info.meta.lists as i32,
        info.meta.dims as i32,
        metric_name(info.meta.metric),
        info.rows as i64,
        i64::from(info.blocks),
        info.empty_lists as i32,
        info.imbalance,
        info.coefficient_of_variation,
        info.meta.has_codes(),
        info.code_pages.iter().map(|&p| i64::from(p)).sum(),
        info.meta.attributes as i32,
        i64::from(info.meta.summary_pages()),
    ))
}

/// Every list of a fashrec_ivf index with its row count, its pages and its code pages (0
/// without codes).
#[pg_extern(strict, parallel_safe)]
#[allow(clippy::type_complexity)] // pgrx spells the SQL result columns in the type
fn fashrec_ivf_lists(
    index: pgrx::PgRelation,
) -> TableIterator<
    'static,
    (
        name!(list, i32),
        name!(rows, i64),
        name!(pages, i32),
        name!(code_pages, i32),
    ),
> {
    let open = OpenIndex::open(index.oid());
    let info = fashrec_ivf::inspect(&PgRelation::new(open.0)).unwrap_or_else(|e| raise_ivf(e));
    let rows: Vec<_> = info
        .list_sizes
        .iter()
        .zip(&info.list_pages)
        .enumerate()
        .map(|(i, (&size, &pages))| {
            let codes = info.code_pages.get(i).copied().unwrap_or(0);
            (i as i32, size as i64, pages as i32, codes as i32)
        })
        .collect();
    TableIterator::new(rows)
}

/// The rows the index must hold, with their filter columns' values as the index stores them:
/// the table as an index build sees it under `snapshot`, one entry per visible row whose vector
/// is not NULL. After a HOT update that tid is the root of the row's HOT chain, where its index
/// entry rightly points, not the ctid of the row's new version (and a HOT update changed no
/// indexed column).
///
/// # Safety
/// `heap` is the table of `index`, both open and locked; `snapshot` is a registered MVCC snapshot.
unsafe fn expected_rows(
    heap: pg_sys::Relation,
    index: pg_sys::Relation,
    snapshot: pg_sys::Snapshot,
) -> Vec<(Tid, Vec<u8>)> {
    struct State {
        columns: Columns,
        rows: Vec<(Tid, Vec<u8>)>,
    }
    #[pg_guard]
    unsafe extern "C-unwind" fn collect(
        _index: pg_sys::Relation,
        tid: pg_sys::ItemPointer,
        values: *mut pg_sys::Datum,
        isnull: *mut bool,
        _alive: bool,
        state: *mut std::ffi::c_void,
    ) {
        // SAFETY: `state` is the State passed below; `values` and `isnull` hold the index's
        // columns; `tid` is a valid heap pointer.
        unsafe {
            let state = &mut *state.cast::<State>();
            if !*isnull.add(state.columns.vector) {
                let (block, offset) = pgrx::itemptr::item_pointer_get_both(*tid);
                let mut stored = Vec::new();
                encode(&state.columns.row_keys(values, isnull), &mut stored);
                state.rows.push((Tid::new(block, offset), stored));
            }
        }
    }
    let mut state = State {
        columns: Columns::of(index),
        rows: Vec::new(),
    };
    // SAFETY: as the caller promises. In the concurrent mode of a build (CREATE INDEX
    // CONCURRENTLY's) the scan sees only rows visible to `snapshot`, so dead versions and other
    // transactions' uncommitted rows do not count; the build scan ends `scan` itself.
    unsafe {
        let info = pg_sys::BuildIndexInfo(index);
        (*info).ii_Concurrent = true;
        let scan =
            pg_sys::table_beginscan_strat(heap, snapshot, 0, std::ptr::null_mut(), true, true);
        pg_sys::table_index_build_scan(
            heap,
            index,
            info,
            true,
            false,
            Some(collect),
            std::ptr::addr_of_mut!(state).cast(),
            scan,
        );
    }
    state.rows
}

/// Verifies a fashrec_ivf index: its pages are well formed, every row of the table with a
/// non-NULL vector is in it exactly once, and it holds nothing else but rows that are dead
/// and not yet vacuumed. `ok` is false when a row is missing or indexed twice.
#[pg_extern(strict)]
#[allow(clippy::type_complexity)] // pgrx spells the SQL result columns in the type
fn fashrec_ivf_check(
    index: pgrx::PgRelation,
) -> TableIterator<
    'static,
    (
        name!(ok, bool),
        name!(table_rows, i64),
        name!(index_rows, i64),
        name!(missing, i64),
        name!(duplicated, i64),
        name!(dead_or_unknown, i64),
        name!(problems, Vec<String>),
    ),
> {
    let open = OpenIndex::open(index.oid());
    // SAFETY: an open index has its pg_index row in rd_index.
    let heap_oid = unsafe { (*(*open.0).rd_index).indrelid };
    // SAFETY: the table of an index we hold a lock on; AccessShareLock as for any reader.
    let heap = unsafe {
        pgrx::PgRelation::with_lock(heap_oid, pg_sys::AccessShareLock as pg_sys::LOCKMODE)
    };
    // The snapshot is taken before the index is read: a row it sees was committed, and so
    // indexed, before that. Rows committed later are in the index but not expected, and count
    // only as dead_or_unknown.
    // SAFETY: registered here and unregistered below (or by the resource owner on an ERROR).
    let snapshot = unsafe { pg_sys::RegisterSnapshot(pg_sys::GetTransactionSnapshot()) };
    let rel = PgRelation::new(open.0);
    let report = fashrec_ivf::check(&rel).unwrap_or_else(|e| raise_ivf(e));
    let rows = fashrec_ivf::collect_rows(&rel).unwrap_or_else(|e| raise_ivf(e));
    // SAFETY: both relations are open and locked; the snapshot is registered MVCC.
    let mut expected = unsafe { expected_rows(heap.as_ptr(), open.0, snapshot) };
    // SAFETY: registered above.
    unsafe { pg_sys::UnregisterSnapshot(snapshot) };
    let table = heap.name().to_owned();
    drop(heap);
    drop(open);
    let mut indexed: Vec<Tid> = rows.iter().map(|(tid, _)| *tid).collect();
    let total = indexed.len();
    indexed.dedup();
    let duplicated = total - indexed.len();
    expected.sort_unstable();
    let missing = expected
        .iter()
        .filter(|(t, _)| indexed.binary_search(t).is_err())
        .count();
    // A row's filter values in the index must be the table's (an indexed column's update is
    // never HOT: it gets a new entry).
    let stale = expected
        .iter()
        .filter(|(tid, values)| {
            let at = rows.partition_point(|(t, _)| t < tid);
            let entries = rows[at..].iter().take_while(|(t, _)| t == tid);
            let mut entries = entries.peekable();
            entries.peek().is_some() && !entries.any(|(_, stored)| stored == values)
        })
        .count();
    let extra = indexed.len().saturating_sub(expected.len() - missing);
    let mut problems = Vec::new();
    if report.unreachable_initialised > 0 {
        problems.push(format!(
            "{} initialised pages are on no list chain",
            report.unreachable_initialised
        ));
    }
    if report.misplaced > 0 {
        problems.push(format!(
            "{} items are not in the list of their nearest centroid",
            report.misplaced
        ));
    }
    if report.undercounted_lists > 0 {
        problems.push(format!(
            "{} lists have filter summaries that miss some of their rows (filtered scans could skip them): REINDEX",
            report.undercounted_lists
        ));
    }
    if missing > 0 {
        problems.push(format!("{missing} rows of {table} are not in the index"));
    }
    if duplicated > 0 {
        problems.push(format!("{duplicated} rows are in the index more than once"));
    }
    if stale > 0 {
        problems.push(format!(
            "{stale} rows of {table} have other filter column values in the index"
        ));
    }
    TableIterator::once((
        problems.is_empty(),
        expected.len() as i64,
        total as i64,
        missing as i64,
        duplicated as i64,
        extra as i64,
        problems,
    ))
}
