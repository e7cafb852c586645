//! How many lists a streaming scan reads before it has returned a given number of rows: the
//! planner's cost estimate asks this so that it prices the scan the way `Scan` behaves.

use crate::scan::{lists_for_depth, ScanOptions};

/// Lists a [`crate::Scan`] reads to return `rows` rows to a consumer that keeps only
/// `selectivity` of them (its WHERE clause), when the index has `lists` lists holding
/// `tuples` rows. The scan probes more lists the deeper it is read (`rows / selectivity`
/// rows are pulled from it or rejected by its filter) and goes on while the probed lists hold
/// fewer candidates than that; it never reads fewer than `probes` or more than `max_probes`
/// lists. `in_index` is the share of rows passing the clauses the index itself checks (its
/// filter columns; 1 for none): a filtered scan counts only lists holding passing rows, and
/// needs fewer of them for a depth than an unfiltered scan does.
pub fn lists_read(
    options: ScanOptions,
    lists: usize,
    tuples: f64,
    rows: f64,
    selectivity: f64,
    in_index: f64,
) -> usize {
    if lists == 0 {
        return 0;
    }
    let probes = (options.probes.max(1) as usize).min(lists);
    let limit = (options.max_probes as usize).clamp(probes, lists);
    let pulled = (rows.max(1.0) / selectivity.clamp(f64::MIN_POSITIVE, 1.0)).min(tuples.max(1.0));
    let by_depth = lists_for_depth(probes, pulled.ceil() as usize, in_index < 1.0);
    let per_list = (tuples / lists as f64).max(1.0);
    let by_candidates = (pulled / per_list).ceil() as usize;
    by_depth.max(by_candidates).clamp(probes, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(probes: u32) -> ScanOptions {
        ScanOptions::new(probes)
    }

    #[test]
    fn ten_rows_unfiltered_read_probes_lists() {
        assert_eq!(lists_read(options(8), 245, 60_000.0, 10.0, 1.0, 1.0), 8);
        assert_eq!(lists_read(options(1), 245, 60_000.0, 10.0, 1.0, 1.0), 1);
    }

    #[test]
    fn a_selective_filter_reads_more_lists() {
        let tenth = lists_read(options(4), 245, 60_000.0, 10.0, 0.1, 1.0);
        let hundredth = lists_read(options(4), 245, 60_000.0, 10.0, 0.01, 1.0);
        assert!(tenth > 4, "{tenth}");
        assert!(hundredth > tenth, "{hundredth} {tenth}");
        // 1,000 rows pulled: probes * sqrt(100) lists
        assert_eq!(hundredth, 40);
    }

    #[test]
    fn a_filter_checked_in_the_index_reads_fewer_lists_than_one_on_the_table() {
        let on_table = lists_read(options(4), 245, 60_000.0, 10.0, 0.01, 1.0);
        let in_index = lists_read(options(4), 245, 60_000.0, 10.0, 0.01, 0.01);
        // 1,000 rows deep: 4 * 100^0.4 lists against 4 * sqrt(100)
        assert_eq!((in_index, on_table), (26, 40));
    }

    #[test]
    fn never_more_than_max_probes_or_every_list() {
        let capped = ScanOptions {
            probes: 4,
            max_probes: 6,
        };
        assert_eq!(lists_read(capped, 245, 60_000.0, 10.0, 0.0001, 1.0), 6);
        assert_eq!(lists_read(options(4), 245, 60_000.0, 10.0, 0.0, 1.0), 245);
        assert_eq!(lists_read(options(300), 245, 60_000.0, 10.0, 1.0, 1.0), 245);
        assert_eq!(lists_read(options(4), 0, 0.0, 10.0, 1.0, 1.0), 0);
    }

    #[test]
    fn small_lists_are_read_until_they_hold_the_rows() {
        // 100 lists of 2 rows: 10 rows need at least 5 lists whatever probes says
        assert_eq!(lists_read(options(1), 100, 200.0, 10.0, 1.0, 1.0), 5);
    }
}
