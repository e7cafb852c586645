//! The index's storage parameters: `WITH (lists = N, probes = P)`. `probes` is the scans'
//! default for this index, used when `fashrec_ivf.probes` is not set: settings do not travel
//! through postgres_fdw, so a shard's index carries its own.

use super::gucs;
use pgrx::pg_sys;
use std::sync::OnceLock;

/// Lists when `WITH (lists = ...)` is not given.
pub const DEFAULT_LISTS: i32 = 100;

/// Parsed reloptions, laid out as `build_reloptions` fills them.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IvfOptions {
    vl_len_: i32,
    lists: i32,
    probes: i32,
}

static KIND: OnceLock<pg_sys::relopt_kind::Type> = OnceLock::new();

/// Registers the parameters; runs once per backend from `_PG_init`.
pub fn register() {
    KIND.get_or_init(|| {
        // SAFETY: called from _PG_init in the backend's main thread; PostgreSQL copies the
        // strings it is given.
        unsafe {
            let kind = pg_sys::add_reloption_kind();
            pg_sys::add_int_reloption(
                kind,
                c"lists".as_ptr(),
                c"Number of inverted lists (k-means clusters); about sqrt(rows) is a good start"
                    .as_ptr(),
                DEFAULT_LISTS,
                1,
                fashrec_ivf::MAX_LISTS as i32,
                pg_sys::AccessExclusiveLock as pg_sys::LOCKMODE,
            );
            // ALTER INDEX ... SET (probes = ...) changes no page, so searches need not wait.
            pg_sys::add_int_reloption(
                kind,
                c"probes".as_ptr(),
                c"Lists a scan reads when the setting fashrec_ivf.probes is not set".as_ptr(),
                gucs::DEFAULT_PROBES,
                1,
                fashrec_ivf::MAX_LISTS as i32,
                pg_sys::ShareUpdateExclusiveLock as pg_sys::LOCKMODE,
            );
            kind
        }
    });
}

/// `amoptions`: parses and validates `WITH (...)`.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amoptions(
    reloptions: pg_sys::Datum,
    validate: bool,
) -> *mut pg_sys::bytea {
    let table = [
        pg_sys::relopt_parse_elt {
            optname: c"lists".as_ptr(),
            opttype: pg_sys::relopt_type::RELOPT_TYPE_INT,
            offset: std::mem::offset_of!(IvfOptions, lists) as i32,
        },
        pg_sys::relopt_parse_elt {
            optname: c"probes".as_ptr(),
            opttype: pg_sys::relopt_type::RELOPT_TYPE_INT,
            offset: std::mem::offset_of!(IvfOptions, probes) as i32,
        },
    ];
    let Some(&kind) = KIND.get() else {
        crate::sql_error!(
            ERRCODE_INTERNAL_ERROR,
            "fashrec index options are not registered: the library was not initialised"
        );
    };
    // SAFETY: the table describes IvfOptions, whose size we pass.
    unsafe {
        pg_sys::build_reloptions(
            reloptions,
            validate,
            kind,
            size_of::<IvfOptions>(),
            table.as_ptr(),
            table.len() as i32,
        ) as *mut pg_sys::bytea
    }
}

/// The options of an open index, or None when it was created without `WITH (...)`.
fn of(index: pg_sys::Relation) -> Option<IvfOptions> {
    // SAFETY: rd_options is null or the IvfOptions that amoptions built for this index.
    unsafe { ((*index).rd_options as *const IvfOptions).as_ref().copied() }
}

/// The `lists` of an open index.
pub fn lists(index: pg_sys::Relation) -> u32 {
    of(index).map_or(DEFAULT_LISTS, |o| o.lists).max(1) as u32
}

/// The scan options for an open index: its `probes`, unless `fashrec_ivf.probes` is set.
pub fn scan_options(index: pg_sys::Relation) -> fashrec_ivf::ScanOptions {
    gucs::scan_options(of(index).map_or(gucs::DEFAULT_PROBES, |o| o.probes))
}
