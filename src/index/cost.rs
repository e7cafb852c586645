//! The planner's price of a fashrec_ivf scan, in the units of the plans it competes with (a
//! sequential or bitmap scan and a sort), so that EXPLAIN shows whichever is cheaper.
//!
//! A scan ranks the centroids, then reads the nearest lists: `probes` of them for ten rows,
//! more the deeper it is read. A WHERE clause the index cannot check makes it deeper: to
//! return `k` rows of which only `selectivity` pass, about `k / selectivity` rows are pulled.
//! The crate says how many lists that takes ([`fashrec_ivf::lists_read`]); each list costs its
//! rows (one distance each, charged as the operator the sort plan would call) and its pages
//! (sequential: a list is a chain of consecutive pages). The rows' heap fetches and the
//! WHERE clause are priced by PostgreSQL itself (cost_index), per row returned; clauses on the
//! index's filter columns are checked in the index, so only rows passing them are fetched.

use super::options;
use super::storage::PgRelation;
use crate::error::raise_ivf;
use fashrec_ivf::{lists_read, Meta, Relation};
use pgrx::pg_sys;

/// Rows a query is assumed to want when its LIMIT is unknown.
const DEFAULT_ROWS: f64 = 10.0;

/// Cost of an index scan. Without ORDER BY the index is useless (it cannot answer WHERE
/// clauses), so such paths get a prohibitive cost.
#[pgrx::pg_guard]
#[allow(clippy::too_many_arguments)] // the signature PostgreSQL calls
pub unsafe extern "C-unwind" fn amcostestimate(
    root: *mut pg_sys::PlannerInfo,
    path: *mut pg_sys::IndexPath,
    _loop_count: f64,
    startup: *mut pg_sys::Cost,
    total: *mut pg_sys::Cost,
    selectivity: *mut pg_sys::Selectivity,
    correlation: *mut f64,
    pages: *mut f64,
) {
    // SAFETY: the planner passes valid pointers for every argument; the index and its table
    // are locked by the planner for as long as it plans.
    unsafe {
        *correlation = 0.0;
        if (*path).indexorderbys.is_null() {
            *startup = f64::MAX;
            *total = f64::MAX;
            *selectivity = 0.0;
            *pages = 0.0;
            return;
        }
        let info = (*path).indexinfo;
        let table = (*info).rel;
        let shape = index_shape((*info).indexoid);
        let tuples = (*info).tuples.max(0.0);
        let kept = pg_sys::clauselist_selectivity(
            root,
            (*table).baserestrictinfo,
            (*table).relid as i32,
            pg_sys::JoinType::JOIN_INNER,
            std::ptr::null_mut(),
        );

        let (mut random_page, mut seq_page) = (0.0, 0.0);
        pg_sys::get_tablespace_page_costs((*info).reltablespace, &mut random_page, &mut seq_page);
        let rows_per_list = tuples / shape.lists.max(1) as f64;
        let per_list = rows_per_list * (pg_sys::cpu_index_tuple_cost + pg_sys::cpu_operator_cost)
            + rows_per_list / shape.rows_per_page * seq_page;
        let centroids = shape.lists as f64 * pg_sys::cpu_operator_cost;

        // Clauses on the index's filter columns are checked in the index: only the rows that
        // pass them are fetched from the table.
        let in_index = pg_sys::clauselist_selectivity(
            root,
            pg_sys::get_quals_from_indexclauses((*path).indexclauses),
            (*table).relid as i32,
            pg_sys::JoinType::JOIN_INNER,
            std::ptr::null_mut(),
        );
        let scan = shape.scan;
        let first = lists_read(scan, shape.lists, tuples, wanted_rows(root), kept, in_index);
        let every = lists_read(scan, shape.lists, tuples, tuples, 1.0, 1.0);

        // Every list of the first batch is read before the first row comes out.
        *startup = centroids + first as f64 * per_list;
        *total = centroids + every as f64 * per_list;
        *selectivity = in_index * every as f64 / shape.lists.max(1) as f64;
        *pages = f64::from((*info).pages) * first as f64 / shape.lists.max(1) as f64;
    }
}

/// What the estimate needs to know of an index.
struct Shape {
    lists: usize,
    scan: fashrec_ivf::ScanOptions,
    rows_per_page: f64,
}

/// Reads the index's meta page (one buffer, usually cached); an index that has not been
/// built (an unlogged index's empty main fork has no meta page) is priced by its options.
fn index_shape(oid: pg_sys::Oid) -> Shape {
    // SAFETY: the planner holds a lock on the index; NoLock only opens it.
    unsafe {
        let index = pg_sys::index_open(oid, pg_sys::NoLock as pg_sys::LOCKMODE);
        let rel = PgRelation::new(index);
        let shape = if rel.nblocks() == 0 {
            Shape {
                lists: options::lists(index).max(1) as usize,
                scan: options::scan_options(index),
                rows_per_page: 1.0,
            }
        } else {
            let meta = Meta::read(&rel).unwrap_or_else(|e| raise_ivf(e));
            Shape {
                lists: meta.lists as usize,
                scan: options::scan_options(index),
                rows_per_page: meta.rows_per_scanned_page().max(1) as f64,
            }
        };
        pg_sys::index_close(index, pg_sys::NoLock as pg_sys::LOCKMODE);
        shape
    }
}

/// The query's LIMIT when this table is all it reads, else [`DEFAULT_ROWS`].
fn wanted_rows(root: *mut pg_sys::PlannerInfo) -> f64 {
    // SAFETY: `root` is the planner's; all_baserels is set before paths are built.
    unsafe {
        let limit = (*root).limit_tuples;
        let single =
            pg_sys::bms_membership((*root).all_baserels) == pg_sys::BMS_Membership::BMS_SINGLETON;
        if limit > 0.0 && single {
            limit
        } else {
            DEFAULT_ROWS
        }
    }
}
