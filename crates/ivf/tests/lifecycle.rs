//! Inserts, vacuum, crash safety, concurrency and build limits, end to end on memory pages.

mod common;

use std::collections::HashSet;

use common::{build_memory, options, tid, Lcg, BOTH};
use fashrec_ivf::{
    bulk_delete, check, collect_rows, insert, inspect, search, BuildOptions, Builder, Codes, Error,
    MemoryRelation, Metric, Relation, Scan, ScanOptions, Tid,
};

#[test]
fn inserts_extend_chains_and_stay_findable() {
    for codes in BOTH {
        inserts_extend_chains_and_stay_findable_with(codes);
    }
}

fn inserts_extend_chains_and_stay_findable_with(codes: Codes) {
    let mut lcg = Lcg(1);
    let rows = lcg.clustered(200, 32, 4);
    let rel = build_memory(&rows, 32, options(4, Metric::L2, codes));
    let extra = lcg.clustered(500, 32, 4);
    for (i, v) in extra.iter().enumerate() {
        insert(&rel, tid(1000 + i), v).unwrap();
    }
    let info = inspect(&rel).unwrap();
    assert_eq!(info.rows, 700);
    assert!(info.list_pages.iter().all(|&p| p >= 1));
    assert!(info.imbalance >= 1.0);
    let report = check(&rel).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.unreachable_blocks, 0);
    // Each inserted vector is its own nearest neighbour.
    for (i, v) in extra.iter().enumerate().step_by(37) {
        let hit = search(&rel, v, 1, 4).unwrap();
        assert_eq!(hit[0].score, 0.0);
        assert!(
            hit[0].tid == tid(1000 + i)
                || extra.iter().chain(&rows).filter(|w| *w == v).count() > 1
        );
    }
}

#[test]
fn vacuum_removes_dead_rows_and_inserts_reuse_the_room() {
    for codes in BOTH {
        vacuum_removes_dead_rows_and_inserts_reuse_the_room_with(codes);
    }
}

fn vacuum_removes_dead_rows_and_inserts_reuse_the_room_with(codes: Codes) {
    let mut lcg = Lcg(2);
    let rows = lcg.clustered(3000, 16, 8);
    let rel = build_memory(&rows, 16, options(8, Metric::L2, codes));
    let blocks = rel.nblocks();
    let dead = |t: Tid| (t.block + t.offset as u32).is_multiple_of(2);
    let stats = bulk_delete(&rel, &mut |t: Tid| dead(t)).unwrap();
    let dead_count = (0..rows.len()).filter(|&i| dead(tid(i))).count() as u64;
    assert_eq!(stats.removed, dead_count);
    assert_eq!(stats.remaining, rows.len() as u64 - dead_count);
    let tids = tids_of(&rel);
    assert!(tids.iter().all(|&t| !dead(t)));
    assert_eq!(tids.len() as u64, stats.remaining);

    // As many rows again, from the same distribution, fit in the room vacuum made: at most
    // one more page per chain of each of the 8 lists (their shares differ a little).
    let again = lcg.clustered(dead_count as usize, 16, 8);
    for (i, v) in again.iter().enumerate() {
        insert(&rel, tid(100_000 + i), v).unwrap();
    }
    let grown = rel.nblocks() - blocks;
    let chains = if codes == Codes::Always { 2 } else { 1 };
    assert!(grown <= 8 * chains, "grew by {grown} blocks of {blocks}");
    let report = check(&rel).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.rows, rows.len() as u64);

    // A second vacuum with nothing dead changes nothing.
    let before = rel.commits();
    let stats = bulk_delete(&rel, &mut |_| false).unwrap();
    assert_eq!(stats.removed, 0);
    assert_eq!(rel.commits(), before);
}

#[test]
fn vacuum_can_empty_everything_and_search_still_works() {
    for codes in BOTH {
        vacuum_can_empty_everything_and_search_still_works_with(codes);
    }
}

fn vacuum_can_empty_everything_and_search_still_works_with(codes: Codes) {
    let mut lcg = Lcg(3);
    let rows = lcg.clustered(400, 8, 3);
    let rel = build_memory(&rows, 8, options(3, Metric::Cosine, codes));
    let mut pauses = 0;
    struct All<'a>(&'a mut u32);
    impl fashrec_ivf::BulkDelete for All<'_> {
        fn is_dead(&mut self, _: Tid) -> bool {
            true
        }
        fn between_pages(&mut self) {
            *self.0 += 1;
        }
    }
    let stats = bulk_delete(&rel, &mut All(&mut pauses)).unwrap();
    assert_eq!(stats.removed, 400);
    assert_eq!(pauses as u64, stats.pages);
    assert!(search(&rel, &rows[0], 10, 3).unwrap().is_empty());
    insert(&rel, tid(9), &rows[9]).unwrap();
    assert_eq!(search(&rel, &rows[0], 10, 3).unwrap().len(), 1);
}

#[test]
fn a_crash_after_any_record_leaves_a_consistent_index() {
    for codes in BOTH {
        a_crash_after_any_record_leaves_a_consistent_index_with(codes);
    }
}

fn a_crash_after_any_record_leaves_a_consistent_index_with(codes: Codes) {
    let mut lcg = Lcg(4);
    let dims = 300; // 6 items a page: chains grow fast
    let rows = lcg.clustered(40, dims, 2);
    let rel = MemoryRelation::with_wal();
    fashrec_ivf::build(
        &rel,
        dims,
        options(2, Metric::L2, codes),
        || rows.iter().enumerate().map(|(i, v)| (tid(i), v.as_slice())),
        &mut |_| {},
    )
    .unwrap();
    let built = rel.wal().len();
    let extra = lcg.clustered(40, dims, 2);
    for (i, v) in extra.iter().enumerate() {
        insert(&rel, tid(500 + i), v).unwrap();
    }
    bulk_delete(&rel, &mut |t: Tid| t.offset.is_multiple_of(3)).unwrap();
    for (i, v) in extra.iter().enumerate().take(20) {
        insert(&rel, tid(900 + i), v).unwrap();
    }
    let wal = rel.wal();
    assert!(wal
        .iter()
        .all(|record| record.len() <= fashrec_ivf::MAX_PAGES_PER_WRITE));
    assert!(
        wal.iter().any(|record| record.len() == 2),
        "no chain link was logged"
    );
    // With codes, a crash between vacuum's passes over a list's vectors and its codes leaves
    // codes of removed rows: harmless, but they must have been met here.
    let mut orphan_codes_met = false;
    for end in built..=wal.len() {
        let crashed = MemoryRelation::replay(&wal[..end]).unwrap();
        let report = check(&crashed).unwrap_or_else(|e| panic!("after record {end}: {e}"));
        assert!(report.is_clean(), "after record {end}: {report:?}");
        orphan_codes_met |= report.orphan_codes > 0;
        // Every row of the crashed state is found by an exact scan, once.
        let mut scan = Scan::new(&crashed, &rows[0], ScanOptions::new(2)).unwrap();
        let mut seen = HashSet::new();
        while let Some(n) = scan.next(&crashed).unwrap() {
            assert!(seen.insert(n.tid));
        }
        assert_eq!(seen.len() as u64, report.rows);
    }
    assert_eq!(orphan_codes_met, codes == Codes::Always);
}

#[test]
fn concurrent_inserts_and_scans() {
    for codes in BOTH {
        concurrent_inserts_and_scans_with(codes);
    }
}

fn concurrent_inserts_and_scans_with(codes: Codes) {
    let mut lcg = Lcg(5);
    let dims = 64;
    let rows = lcg.clustered(500, dims, 4);
    let rel = build_memory(&rows, dims, options(4, Metric::L2, codes));
    let extra = lcg.clustered(1200, dims, 4);
    std::thread::scope(|scope| {
        for worker in 0..3 {
            let (rel, extra) = (&rel, &extra);
            scope.spawn(move || {
                for i in (worker..extra.len()).step_by(3) {
                    insert(rel, tid(10_000 + i), &extra[i]).unwrap();
                }
            });
        }
        for _ in 0..2 {
            let (rel, rows) = (&rel, &rows);
            scope.spawn(move || {
                for q in rows.iter().step_by(25) {
                    let mut scan = Scan::new(rel, q, ScanOptions::new(4)).unwrap();
                    let mut seen = HashSet::new();
                    while let Some(n) = scan.next(rel).unwrap() {
                        assert!(seen.insert(n.tid), "a row came back twice");
                    }
                    // Rows present before the scan began are all there.
                    assert!(seen.len() >= 500);
                }
            });
        }
    });
    let tids = tids_of(&rel);
    assert_eq!(tids.len(), 1700);
    let report = check(&rel).unwrap();
    assert!(report.is_clean(), "{report:?}");
}

#[test]
fn build_reports_low_data_and_respects_the_memory_budget() {
    let rows: Vec<Vec<f32>> = (0..30).map(|i| vec![i as f32; 4]).collect();
    let rel = MemoryRelation::new();
    let report = fashrec_ivf::build(
        &rel,
        4,
        options(10, Metric::L2, Codes::Auto),
        || rows.iter().enumerate().map(|(i, v)| (tid(i), v.as_slice())),
        &mut |_| {},
    )
    .unwrap();
    assert!(report.low_data);
    assert_eq!(report.rows, 30);

    let tight = BuildOptions {
        lists: 1000,
        memory_budget: 1 << 20,
        ..BuildOptions::default()
    };
    match Builder::new(128, tight) {
        Err(Error::MemoryBudget { required, budget }) => assert!(required > budget),
        other => panic!("expected a memory error, got {:?}", other.err()),
    }
    // A budget between the floor and the target shrinks the sample instead.
    let roomy = BuildOptions {
        lists: 100,
        memory_budget: 64 << 20,
        ..BuildOptions::default()
    };
    let builder = Builder::new(784, roomy).unwrap();
    assert!(builder.sample_capacity() < 100 * 256);
    assert!(builder.sample_capacity() >= 100 * 32);

    assert!(Builder::new(0, BuildOptions::default()).is_err());
    assert!(Builder::new(
        4,
        BuildOptions {
            lists: 0,
            ..BuildOptions::default()
        }
    )
    .is_err());
    assert!(matches!(
        fashrec_ivf::build(
            &rel,
            4,
            options(2, Metric::L2, Codes::Auto),
            || rows.iter().map(|v| (tid(0), v.as_slice())),
            &mut |_| {}
        ),
        Err(Error::InvalidOption(_))
    ));
}

#[test]
fn bad_vectors_are_refused_with_errors() {
    for codes in BOTH {
        bad_vectors_are_refused_with_errors_with(codes);
    }
}

fn bad_vectors_are_refused_with_errors_with(codes: Codes) {
    let rows: Vec<Vec<f32>> = (0..50).map(|i| vec![i as f32, 1.0]).collect();
    let rel = build_memory(&rows, 2, options(3, Metric::L2, codes));
    assert!(matches!(
        insert(&rel, tid(1), &[1.0]),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        insert(&rel, tid(1), &[1.0, f32::INFINITY]),
        Err(Error::NotFinite { index: 1 })
    ));
    assert!(search(&rel, &[1.0, 2.0, 3.0], 5, 1).is_err());
    assert!(search(&MemoryRelation::new(), &[1.0, 2.0], 5, 1).is_err());
}

#[test]
fn progress_reports_on_the_calling_thread() {
    for codes in BOTH {
        progress_reports_on_the_calling_thread_with(codes);
    }
}

fn progress_reports_on_the_calling_thread_with(codes: Codes) {
    let mut lcg = Lcg(6);
    let rows = lcg.clustered(2000, 8, 10);
    let rel = MemoryRelation::new();
    let caller = std::thread::current().id();
    let mut events = Vec::new();
    fashrec_ivf::build(
        &rel,
        8,
        options(10, Metric::L2, codes),
        || rows.iter().enumerate().map(|(i, v)| (tid(i), v.as_slice())),
        &mut |event| {
            assert_eq!(std::thread::current().id(), caller);
            events.push(event);
        },
    )
    .unwrap();
    assert!(matches!(
        events[0],
        fashrec_ivf::BuildProgress::KMeans { iteration: 1, .. }
    ));
    assert_eq!(
        events.last(),
        Some(&fashrec_ivf::BuildProgress::Loading { rows: 2000 })
    );
}

/// Every tid in the index, sorted, duplicates kept.
fn tids_of(rel: &MemoryRelation) -> Vec<Tid> {
    collect_rows(rel)
        .unwrap()
        .into_iter()
        .map(|(tid, _)| tid)
        .collect()
}
