//! The access method's handler: which callback does what, and the planner's cost estimate.

use super::{build, insert, options, scan, vacuum};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Hands PostgreSQL the callback table of the `fashrec_ivf` access method.
#[pg_extern(sql = "
CREATE FUNCTION fashrec_ivf_amhandler(internal) RETURNS index_am_handler
    STRICT LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
")]
fn fashrec_ivf_amhandler(_fcinfo: pg_sys::FunctionCallInfo) -> PgBox<pg_sys::IndexAmRoutine> {
    let mut am =
        unsafe { PgBox::<pg_sys::IndexAmRoutine>::alloc_node(pg_sys::NodeTag::T_IndexAmRoutine) };
    am.amstrategies = 0;
    am.amsupport = 1;
    am.amcanorderbyop = true;
    // The planner builds index paths for ORDER BY alone only when keys are optional; rows
    // with a NULL vector are simply not indexed.
    am.amoptionalkey = true;
    am.amkeytype = pg_sys::InvalidOid;
    am.amparallelvacuumoptions = pg_sys::VACUUM_OPTION_PARALLEL_BULKDEL as u8;

    am.ambuild = Some(build::ambuild);
    am.ambuildempty = Some(build::ambuildempty);
    am.ambuildphasename = Some(build::ambuildphasename);
    am.aminsert = Some(insert::aminsert);
    am.ambulkdelete = Some(vacuum::ambulkdelete);
    am.amvacuumcleanup = Some(vacuum::amvacuumcleanup);
    am.amcostestimate = Some(amcostestimate);
    am.amoptions = Some(options::amoptions);
    am.amvalidate = Some(amvalidate);
    am.ambeginscan = Some(scan::ambeginscan);
    am.amrescan = Some(scan::amrescan);
    am.amgettuple = Some(scan::amgettuple);
    am.amendscan = Some(scan::amendscan);
    am.into_pg_boxed()
}

/// Operator classes are created by the extension's own SQL, so there is nothing to check.
#[pg_guard]
unsafe extern "C-unwind" fn amvalidate(_opclassoid: pg_sys::Oid) -> bool {
    true
}

/// Cost of an index scan: reading the centroids and `probes` lists before the first row.
/// Without ORDER BY the index is useless (it cannot answer WHERE clauses), so such paths
/// get a prohibitive cost.
#[pg_guard]
#[allow(clippy::too_many_arguments)] // the signature PostgreSQL calls
unsafe extern "C-unwind" fn amcostestimate(
    root: *mut pg_sys::PlannerInfo,
    path: *mut pg_sys::IndexPath,
    loop_count: f64,
    startup: *mut pg_sys::Cost,
    total: *mut pg_sys::Cost,
    selectivity: *mut pg_sys::Selectivity,
    correlation: *mut f64,
    pages: *mut f64,
) {
    // SAFETY: the planner passes valid pointers for every argument.
    unsafe {
        if (*path).indexorderbys.is_null() {
            *startup = f64::MAX;
            *total = f64::MAX;
            *selectivity = 0.0;
            *correlation = 0.0;
            *pages = 0.0;
            return;
        }
        let info = (*path).indexinfo;
        let index = pg_sys::index_open((*info).indexoid, pg_sys::NoLock as pg_sys::LOCKMODE);
        let lists = f64::from(options::lists(index).max(1));
        pg_sys::index_close(index, pg_sys::NoLock as pg_sys::LOCKMODE);
        let probes = f64::from(super::gucs::PROBES.get().max(1)).min(lists);
        let ratio = probes / lists;

        let mut costs = pg_sys::GenericCosts {
            numIndexTuples: (*info).tuples * ratio,
            ..Default::default()
        };
        pg_sys::genericcostestimate(root, path, loop_count, &mut costs);
        // Every probed list is read before the first row comes out.
        costs.indexStartupCost = costs.indexTotalCost;
        *startup = costs.indexStartupCost;
        *total = costs.indexTotalCost;
        *selectivity = costs.indexSelectivity;
        *correlation = 0.0;
        *pages = costs.numIndexPages;
    }
}
