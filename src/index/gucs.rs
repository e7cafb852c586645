//! Search settings: `fashrec_ivf.probes` and `fashrec_ivf.max_probes`.

use pgrx::{pg_sys, GucContext, GucFlags, GucRegistry, GucSetting};

/// Lists scanned before the first row is returned.
pub static PROBES: GucSetting<i32> = GucSetting::<i32>::new(10);

/// Most lists scanned in all when filters keep rejecting rows (-1: every list).
pub static MAX_PROBES: GucSetting<i32> = GucSetting::<i32>::new(-1);

/// Registers the settings; runs once per backend from `_PG_init`.
pub fn register() {
    GucRegistry::define_int_guc(
        c"fashrec_ivf.probes",
        c"Lists of a fashrec_ivf index scanned for each query",
        c"More probes give better recall and slower queries; probes equal to the index's lists give exact results.",
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

/// The scan options the current settings ask for.
pub fn scan_options() -> fashrec_ivf::ScanOptions {
    let probes = PROBES.get().max(1) as u32;
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
