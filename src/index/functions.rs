//! SQL functions to look inside an index: its lists and their balance, and a consistency check.

use super::storage::PgRelation;
use crate::error::raise_ivf;
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
            pgrx::error!("relation {index:?} is not a fashrec_ivf index");
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
    ))
}

/// Every list of a fashrec_ivf index with its row and page count.
#[pg_extern(strict, parallel_safe)]
fn fashrec_ivf_lists(index: pgrx::PgRelation) -> TableIterator<'static, (name!(list, i32), name!(rows, i64), name!(pages, i32))> {
    let open = OpenIndex::open(index.oid());
    let info = fashrec_ivf::inspect(&PgRelation::new(open.0)).unwrap_or_else(|e| raise_ivf(e));
    let rows: Vec<_> = info
        .list_sizes
        .iter()
        .zip(&info.list_pages)
        .enumerate()
        .map(|(i, (&size, &pages))| (i as i32, size as i64, pages as i32))
        .collect();
    TableIterator::new(rows)
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
    let rel = PgRelation::new(open.0);
    let report = fashrec_ivf::check(&rel).unwrap_or_else(|e| raise_ivf(e));
    let mut indexed = fashrec_ivf::collect_tids(&rel).unwrap_or_else(|e| raise_ivf(e));
    drop(open);
    indexed.sort_unstable();
    let total = indexed.len();
    indexed.dedup();
    let duplicated = total - indexed.len();

    let (table, column): (String, String) = Spi::connect(|client| {
        let row = client
            .select(
                "SELECT i.indrelid::regclass::text, quote_ident(a.attname::text)
                 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                 WHERE i.indexrelid = $1",
                Some(1),
                &[index.oid().into()],
            )?
            .first();
        Ok::<_, pgrx::spi::Error>((row.get(1)?.unwrap_or_default(), row.get(2)?.unwrap_or_default()))
    })
    .unwrap_or_else(|e| pgrx::error!("cannot find the table of index {}: {e}", index.name()));
    let mut live: Vec<Tid> = Spi::connect(|client| {
        let rows = client.select(&format!("SELECT ctid FROM {table} WHERE {column} IS NOT NULL"), None, &[])?;
        let mut tids = Vec::new();
        for row in rows {
            if let Some(ctid) = row.get::<pg_sys::ItemPointerData>(1)? {
                let (block, offset) = pgrx::itemptr::item_pointer_get_both(ctid);
                tids.push(Tid::new(block, offset));
            }
        }
        Ok::<_, pgrx::spi::Error>(tids)
    })
    .unwrap_or_else(|e| pgrx::error!("cannot read the rows of {table}: {e}"));
    live.sort_unstable();
    let missing = live.iter().filter(|t| indexed.binary_search(t).is_err()).count();
    let extra = indexed.len() - (live.len() - missing);
    let mut problems = Vec::new();
    if report.unreachable_initialised > 0 {
        problems.push(format!("{} initialised pages are on no list chain", report.unreachable_initialised));
    }
    if report.misplaced > 0 {
        problems.push(format!("{} items are not in the list of their nearest centroid", report.misplaced));
    }
    if missing > 0 {
        problems.push(format!("{missing} rows of {table} are not in the index"));
    }
    if duplicated > 0 {
        problems.push(format!("{duplicated} rows are in the index more than once"));
    }
    TableIterator::once((
        problems.is_empty(),
        live.len() as i64,
        total as i64,
        missing as i64,
        duplicated as i64,
        extra as i64,
        problems,
    ))
}
