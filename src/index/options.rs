//! The index's storage parameter: `WITH (lists = N)`.

use pgrx::pg_sys;
use std::sync::OnceLock;

/// Lists when `WITH (lists = ...)` is not given.
pub const DEFAULT_LISTS: i32 = 100;

/// Parsed reloptions, laid out as `build_reloptions` fills them.
#[repr(C)]
pub struct IvfOptions {
    vl_len_: i32,
    lists: i32,
}

static KIND: OnceLock<pg_sys::relopt_kind::Type> = OnceLock::new();

/// Registers the `lists` parameter; runs once per backend from `_PG_init`.
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
    let table = [pg_sys::relopt_parse_elt {
        optname: c"lists".as_ptr(),
        opttype: pg_sys::relopt_type::RELOPT_TYPE_INT,
        offset: std::mem::offset_of!(IvfOptions, lists) as i32,
    }];
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

/// The `lists` of an open index.
pub fn lists(index: pg_sys::Relation) -> u32 {
    // SAFETY: rd_options is null or the IvfOptions that amoptions built for this index.
    unsafe {
        let options = (*index).rd_options as *const IvfOptions;
        if options.is_null() {
            DEFAULT_LISTS as u32
        } else {
            (*options).lists.max(1) as u32
        }
    }
}
