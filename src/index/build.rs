//! CREATE INDEX: sample the table for k-means (pass 1), write centroids, assign every row to
//! its nearest list (pass 2). Worker threads inside the crate only compute; every page is
//! written from this backend's thread.

use super::attributes::Columns;
use super::storage::PgRelation;
use super::{metric_of, options, vector_of};
use crate::error::raise_ivf;
use fashrec_ivf::{BuildOptions, BuildProgress, Builder, Loader, Tid};
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;

/// Sub-phases shown in pg_stat_progress_create_index.
const PHASE_SAMPLING: i64 = 2;
const PHASE_CLUSTERING: i64 = 3;
const PHASE_LOADING: i64 = 4;

/// What the heap-scan callback of each pass works on.
// One per CREATE INDEX, on the stack of the build: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Pass<'r> {
    Sample(Option<Builder>),
    Load(Loader<'r, PgRelation>),
}

struct BuildState<'r> {
    pass: Pass<'r>,
    options: BuildOptions,
    /// The vector's column and the filter columns, stored as attributes.
    columns: Columns,
    dims: Option<usize>,
    rows: f64,
    /// Reset after every row: detoasted copies would otherwise pile up for the whole build.
    tuple_context: PgMemoryContexts,
}

fn progress(phase: i64) {
    // SAFETY: plain progress reporting from the backend's thread.
    unsafe {
        pg_sys::pgstat_progress_update_param(pg_sys::PROGRESS_CREATEIDX_SUBPHASE as i32, phase)
    };
}

fn report_progress(event: BuildProgress) {
    pgrx::check_for_interrupts!();
    if let BuildProgress::Loading { rows } = event {
        // SAFETY: as above.
        unsafe {
            pg_sys::pgstat_progress_update_param(
                pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE as i32,
                rows as i64,
            )
        };
    }
}

/// The dimensions the index's `vector(n)` column declares, if it declares them.
fn declared_dims(index: pg_sys::Relation, column: usize) -> Option<usize> {
    // SAFETY: an index relation's tuple descriptor holds its key columns.
    let typmod = unsafe { (*(*index).rd_att).attrs.as_slice(column + 1)[column].atttypmod };
    usize::try_from(typmod).ok().filter(|&n| n > 0)
}

/// Names the phases for pg_stat_progress_create_index.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambuildphasename(phase: i64) -> *mut std::ffi::c_char {
    let name: &'static std::ffi::CStr = match phase {
        PHASE_SAMPLING => c"sampling rows",
        PHASE_CLUSTERING => c"clustering (k-means)",
        PHASE_LOADING => c"assigning rows to lists",
        _ => return std::ptr::null_mut(),
    };
    name.as_ptr().cast_mut()
}

#[pg_guard]
unsafe extern "C-unwind" fn build_callback(
    _index: pg_sys::Relation,
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _alive: bool,
    state: *mut std::ffi::c_void,
) {
    // SAFETY: `state` is the BuildState that ambuild passed to the scan; values/isnull hold
    // the indexed columns; `tid` is a valid heap pointer.
    unsafe {
        let state = &mut *(state as *mut BuildState);
        if *isnull.add(state.columns.vector) {
            return;
        }
        let (block, offset) = pgrx::itemptr::item_pointer_get_both(*tid);
        let tid = Tid::new(block, offset);
        let datum = *values.add(state.columns.vector);
        let BuildState {
            pass,
            options,
            columns,
            dims,
            rows,
            tuple_context,
        } = state;
        tuple_context.switch_to(|_| {
            let vector = vector_of(datum);
            let result = match pass {
                Pass::Sample(builder) => {
                    if builder.is_none() {
                        let n = dims.unwrap_or(vector.len());
                        *dims = Some(n);
                        *builder =
                            Some(Builder::new(n, options.clone()).unwrap_or_else(|e| raise_ivf(e)));
                    }
                    builder.as_mut().map_or(Ok(()), |b| b.sample(vector))
                }
                Pass::Load(loader) => {
                    loader.add_with_attributes(tid, vector, &columns.row_keys(values, isnull))
                }
            };
            result.unwrap_or_else(|e| raise_ivf(e));
        });
        tuple_context.reset();
        *rows += 1.0;
    }
}

/// Runs one heap pass over the table with `state`.
unsafe fn scan_heap(
    heap: pg_sys::Relation,
    index: pg_sys::Relation,
    info: *mut pg_sys::IndexInfo,
    state: &mut BuildState,
) {
    // SAFETY: the relations and IndexInfo come from the ambuild call; the callback matches.
    unsafe {
        pg_sys::table_index_build_scan(
            heap,
            index,
            info,
            true,
            true,
            Some(build_callback),
            (state as *mut BuildState).cast(),
            std::ptr::null_mut(),
        );
    }
}

/// Builds the whole index into `rel` (the main fork, or the init fork when `heap` is None).
unsafe fn build_into(
    heap: Option<pg_sys::Relation>,
    index: pg_sys::Relation,
    info: *mut pg_sys::IndexInfo,
    rel: &PgRelation,
) -> (f64, u64) {
    // SAFETY: maintenance_work_mem is a plain int GUC, in kB.
    let memory_budget = unsafe { pg_sys::maintenance_work_mem } as usize * 1024;
    let columns = Columns::of(index);
    let options = BuildOptions {
        lists: options::lists(index),
        metric: metric_of(index, columns.vector),
        memory_budget,
        attributes: columns.filters() as u32,
        ..Default::default()
    };
    let mut state = BuildState {
        pass: Pass::Sample(None),
        options: options.clone(),
        dims: declared_dims(index, columns.vector),
        columns,
        rows: 0.0,
        tuple_context: PgMemoryContexts::new("fashrec_ivf build row"),
    };
    progress(PHASE_SAMPLING);
    if let Some(heap) = heap {
        // SAFETY: as in scan_heap.
        unsafe { scan_heap(heap, index, info, &mut state) };
    }
    let Pass::Sample(builder) = std::mem::replace(&mut state.pass, Pass::Sample(None)) else {
        unreachable!("the first pass samples")
    };
    let builder = match (builder, state.dims) {
        (Some(builder), _) => builder,
        (None, Some(dims)) => Builder::new(dims, options).unwrap_or_else(|e| raise_ivf(e)),
        (None, None) => crate::sql_error!(
            ERRCODE_INVALID_OBJECT_DEFINITION,
            "cannot build a fashrec_ivf index on an empty column without declared dimensions; \
             declare the column as vector(n), or create the index after loading rows"
        ),
    };
    progress(PHASE_CLUSTERING);
    let loader = builder
        .train(rel, &mut report_progress)
        .unwrap_or_else(|e| raise_ivf(e));
    state.pass = Pass::Load(loader);
    state.rows = 0.0;
    progress(PHASE_LOADING);
    if let Some(heap) = heap {
        // SAFETY: as in scan_heap.
        unsafe { scan_heap(heap, index, info, &mut state) };
    }
    let Pass::Load(loader) = std::mem::replace(&mut state.pass, Pass::Sample(None)) else {
        unreachable!("the second pass loads")
    };
    let report = loader
        .finish(&mut report_progress)
        .unwrap_or_else(|e| raise_ivf(e));
    if report.low_data && heap.is_some() {
        pg_sys::panic::ErrorReport::new(
            PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            format!(
                "fashrec_ivf index built from only {} rows for {} lists: recall will be poor until REINDEX",
                report.samples, report.lists
            ),
            pgrx::function_name!(),
        )
        .set_hint("Create the index after loading the data, or use fewer lists (about sqrt(rows)).")
        .report(PgLogLevel::NOTICE);
    }
    (state.rows, report.rows)
}

/// `ambuild`: builds the index from the table's rows.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambuild(
    heap: pg_sys::Relation,
    index: pg_sys::Relation,
    info: *mut pg_sys::IndexInfo,
) -> *mut pg_sys::IndexBuildResult {
    let rel = PgRelation::new(index);
    // SAFETY: arguments come straight from PostgreSQL's index build.
    let (heap_tuples, index_tuples) = unsafe { build_into(Some(heap), index, info, &rel) };
    let mut result = unsafe { PgBox::<pg_sys::IndexBuildResult>::alloc0() };
    result.heap_tuples = heap_tuples;
    result.index_tuples = index_tuples as f64;
    result.into_pg()
}

/// `ambuildempty`: the init fork of an unlogged index, an index with no rows.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambuildempty(index: pg_sys::Relation) {
    let rel = PgRelation::with_fork(index, pg_sys::ForkNumber::INIT_FORKNUM);
    // SAFETY: the index is open; generic WAL skips unlogged relations, so the init fork is
    // logged as whole pages here, as PostgreSQL requires for crash recovery.
    unsafe {
        build_into(None, index, std::ptr::null_mut(), &rel);
        let blocks =
            pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::INIT_FORKNUM);
        pg_sys::log_newpage_range(index, pg_sys::ForkNumber::INIT_FORKNUM, 0, blocks, true);
    }
}
