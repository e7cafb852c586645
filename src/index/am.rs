//! The access method's handler: which callback does what.

use super::{build, cost, insert, options, scan, vacuum};
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
    // Filter columns after the vector: btree's strategy numbers (1 <, 2 <=, 3 =, 4 >=, 5 >),
    // and `= ANY(array)`.
    am.amstrategies = 5;
    am.amsupport = 1;
    am.amcanorderbyop = true;
    am.amcanmulticol = true;
    am.amsearcharray = true;
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
    am.amcostestimate = Some(cost::amcostestimate);
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
