//! Search settings: `fashrec_ivf.probes` and `fashrec_ivf.max_probes`.

use pgrx::{pg_sys, GucContext, GucFlags, GucRegistry, GucSetting};
use std::ffi::CStr;
use std::sync::atomic::{AtomicPtr, Ordering};

/// Lists scanned before the first row when neither the setting nor the index says.
pub const DEFAULT_PROBES: i32 = 10;

/// Lists scanned before the first row is returned.
pub static PROBES: GucSetting<i32> = GucSetting::<i32>::new(DEFAULT_PROBES);

/// Most lists scanned in all when filters keep rejecting rows (-1: every list).
pub static MAX_PROBES: GucSetting<i32> = GucSetting::<i32>::new(-1);

const PROBES_NAME: &CStr = c"fashrec_ivf.probes";

/// Registers the settings; runs once per backend from `_PG_init`.
pub fn register() {
    GucRegistry::define_int_guc(
        PROBES_NAME,
        c"Lists of a fashrec_ivf index scanned for each query",
        c"More probes give better recall and slower queries; probes equal to the index's lists give exact results. When set (in the session, the role, the database or the server's configuration) it overrides the index's own WITH (probes = ...).",
        &PROBES,
        1,
        fashrec_ivf::MAX_LISTS as i32,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"fashrec_ivf.max_probes",
        c"Most lists a fashrec_ivf scan reads when WHERE clauses keep rejecting rows",
        c"When a filter rejects the candidates of the first probes lists, the scan goes on to the next-nearest lists until the LIMIT is filled or this many lists were read; -1 means every list, so a selective filter never returns fewer rows than exist.",
        &MAX_PROBES,
        -1,
        fashrec_ivf::MAX_LISTS as i32,
        GucContext::Userset,
        GucFlags::default(),
    );
    // A misspelt name (SET fashrec_ivf.probe = 3) is then an ERROR, not a silent placeholder.
    // SAFETY: a NUL-terminated static string; PostgreSQL keeps its own copy.
    unsafe { pg_sys::MarkGUCPrefixReserved(c"fashrec_ivf".as_ptr()) };
}

/// PostgreSQL's record of `fashrec_ivf.probes`, found once per backend: it stays where it is
/// once the setting is defined.
static PROBES_RECORD: AtomicPtr<pg_sys::config_generic> = AtomicPtr::new(std::ptr::null_mut());

/// Whether `fashrec_ivf.probes` was set anywhere (session, function, role, database, server
/// configuration, client options) rather than left at its built-in default. PostgreSQL's
/// `find_option` is static in 15, so the record is looked up in the settings array.
fn probes_is_set() -> bool {
    let mut record = PROBES_RECORD.load(Ordering::Relaxed);
    if record.is_null() {
        // SAFETY: the settings array holds GetNumConfigOptions valid records, each with a
        // NUL-terminated name; we only read them, in the backend's main thread.
        unsafe {
            let all = pg_sys::get_guc_variables();
            for i in 0..pg_sys::GetNumConfigOptions() as usize {
                let candidate = *all.add(i);
                if CStr::from_ptr((*candidate).name) == PROBES_NAME {
                    record = candidate;
                    break;
                }
            }
        }
        if record.is_null() {
            return false;
        }
        PROBES_RECORD.store(record, Ordering::Relaxed);
    }
    // SAFETY: a record PostgreSQL keeps for the life of the backend.
    unsafe { (*record).source > pg_sys::GucSource::PGC_S_DYNAMIC_DEFAULT }
}

/// The scan options for an index whose own `probes` option is `index_probes`: the setting when
/// it was set, else the index's option.
pub fn scan_options(index_probes: i32) -> fashrec_ivf::ScanOptions {
    let probes = if probes_is_set() {
        PROBES.get()
    } else {
        index_probes
    }
    .max(1) as u32;
    let max = MAX_PROBES.get();
    fashrec_ivf::ScanOptions {
        probes,
        max_probes: if max < 0 {
            u32::MAX
        } else {
            (max as u32).max(probes)
        },
    }
}
