//! Rows with attributes: a filtered scan returns exactly the rows whose attributes pass, in the
//! order of an exact filtered search when every list is probed; a scan reads on past lists
//! without a passing row; inserts, vacuum and check keep the attributes with their rows (vectors
//! and codes alike).

mod common;

use std::collections::HashSet;

use common::{brute_force, options, tid, Lcg, BOTH};
use fashrec_ivf::attributes::{bytes_key, int_key};
use fashrec_ivf::{
    bulk_delete, check, insert_with_attributes, BuildOptions, Builder, Filter, MemoryRelation,
    Metric, Scan, ScanOptions, Searcher, Test, Tid,
};

const DIMS: usize = 160;
const GENDERS: [&str; 3] = ["men", "women", "unisex"];

/// Row `i`'s attributes: a gender, a price in cents, and a category that is NULL for every
/// 13th row.
fn attributes_of(i: usize) -> [Option<u64>; 3] {
    [
        Some(bytes_key(GENDERS[i % 3].as_bytes())),
        Some(int_key((i * 37 % 1000) as i64)),
        (!i.is_multiple_of(13)).then(|| int_key((i % 10) as i64)),
    ]
}

fn passes(i: usize, genders: &[&str], most_cents: i64, category: Option<i64>) -> bool {
    genders.contains(&GENDERS[i % 3])
        && (i * 37 % 1000) as i64 <= most_cents
        && category.is_none_or(|c| !i.is_multiple_of(13) && (i % 10) as i64 == c)
}

fn filter(genders: &[&str], most_cents: i64, category: Option<i64>) -> Filter {
    let keys = genders.iter().map(|g| bytes_key(g.as_bytes())).collect();
    let f = Filter::new()
        .and(0, Test::AnyOf(keys))
        .and(1, Test::AtMost(int_key(most_cents)));
    match category {
        Some(c) => f.and(2, Test::AnyOf(vec![int_key(c)])),
        None => f,
    }
}

fn build_with_attributes(rows: &[Vec<f32>], options: BuildOptions) -> MemoryRelation {
    build_with(rows, options, |i| attributes_of(i).to_vec())
}

/// `rows` rows in `clusters` clusters, then as many again moved `shift` away in every
/// dimension: the near rows come first.
fn near_and_far(seed: u64, rows: usize, clusters: usize, shift: f32) -> Vec<Vec<f32>> {
    let mut lcg = Lcg(seed);
    let near = lcg.clustered(rows, DIMS, clusters);
    let far = lcg
        .clustered(rows, DIMS, clusters)
        .into_iter()
        .map(|v| v.into_iter().map(|x| x + shift).collect());
    near.into_iter().chain(far).collect()
}

/// An index of `rows`, row `i` with the attributes `attributes(i)`.
fn build_with(
    rows: &[Vec<f32>],
    options: BuildOptions,
    attributes: impl Fn(usize) -> Vec<Option<u64>>,
) -> MemoryRelation {
    let rel = MemoryRelation::new();
    let mut builder = Builder::new(DIMS, options).expect("builder");
    for row in rows {
        builder.sample(row).expect("sample");
    }
    let mut loader = builder.train(&rel, &mut |_| {}).expect("train");
    for (i, row) in rows.iter().enumerate() {
        loader
            .add_with_attributes(tid(i), row, &attributes(i))
            .expect("add");
    }
    loader.finish(&mut |_| {}).expect("finish");
    rel
}

fn scan_all(rel: &MemoryRelation, query: &[f32], probes: u32, filter: Filter) -> Vec<(Tid, f32)> {
    let searcher = std::sync::Arc::new(Searcher::open(rel).expect("searcher"));
    let mut scan = Scan::with_searcher(searcher, query, ScanOptions::new(probes))
        .expect("scan")
        .with_filter(filter)
        .expect("filter");
    let mut out = Vec::new();
    while let Some(n) = scan.next(rel).expect("next") {
        out.push((n.tid, n.score));
    }
    out
}

#[test]
fn filtered_scans_return_exactly_the_passing_rows() {
    let mut lcg = Lcg(11);
    let mut rows = lcg.clustered(1500, DIMS, 12);
    let lists = 24;
    for codes in BOTH {
        // Dimensions in the given order, so that scores are bit for bit the brute force's.
        let opts = BuildOptions {
            attributes: 3,
            reorder_dimensions: false,
            ..options(lists, Metric::L2, codes)
        };
        let rel = build_with_attributes(&rows[..1200], opts);
        // Inserts after the build store their attributes too.
        for (i, row) in rows.iter().enumerate().skip(1200) {
            insert_with_attributes(&rel, tid(i), row, &attributes_of(i)).expect("insert");
        }
        // A vacuum removes every 7th row.
        let gone = |t: Tid| (0..rows.len()).any(|i| i % 7 == 3 && tid(i) == t);
        bulk_delete(&rel, &mut |t: Tid| gone(t)).expect("vacuum");
        let report = check(&rel).expect("check");
        assert!(report.is_clean(), "{codes:?}: {report:?}");

        let live: Vec<usize> = (0..rows.len()).filter(|i| i % 7 != 3).collect();
        let query: Vec<f32> = rows[5].iter().map(|x| x + lcg.next_f32() * 0.3).collect();
        for (genders, cents, category) in [
            (&["men", "unisex"][..], 1000, None),
            (&["women"][..], 500, Some(4)),
            (&["men"][..], 120, Some(2)),
            (&["nobody"][..], 1000, None),
        ] {
            let expected: Vec<(Tid, Vec<f32>)> = live
                .iter()
                .filter(|&&i| passes(i, genders, cents, category))
                .map(|&i| (tid(i), rows[i].clone()))
                .collect();
            // Every list probed: exactly the filtered brute force, in order.
            let found = scan_all(&rel, &query, lists, filter(genders, cents, category));
            let exact = brute_force(&expected, DIMS, Metric::L2, &query);
            assert_eq!(
                found.len(),
                exact.len(),
                "{codes:?} {genders:?} {cents} {category:?}"
            );
            for (f, e) in found.iter().zip(&exact) {
                assert_eq!(f.1.to_bits(), e.score.to_bits(), "{codes:?} {genders:?}");
            }
            // Few probes: only passing rows, each once, and all of them in the end (the scan
            // probes on until the candidates run out).
            let few = scan_all(&rel, &query, 2, filter(genders, cents, category));
            let tids: HashSet<Tid> = few.iter().map(|f| f.0).collect();
            let want: HashSet<Tid> = expected.iter().map(|e| e.0).collect();
            assert_eq!(tids.len(), few.len(), "a row returned twice");
            assert_eq!(tids, want, "{codes:?} {genders:?} {cents} {category:?}");
        }
    }
    rows.clear();
}

#[test]
fn a_filter_reads_on_past_lists_without_a_passing_row() {
    // Two far-apart clusters; only the far one holds "women". One probe of a query in the near
    // cluster must still reach the women's rows before it gives up the first ten.
    let rows = near_and_far(5, 300, 1, 50.0);
    let opts = BuildOptions {
        attributes: 1,
        ..options(8, Metric::L2, fashrec_ivf::Codes::Never)
    };
    let rel = build_with(&rows, opts, |i| {
        let gender = if i < 300 { "men" } else { "women" };
        vec![Some(bytes_key(gender.as_bytes()))]
    });
    let women = Filter::new().and(0, Test::AnyOf(vec![bytes_key(b"women")]));
    let searcher = std::sync::Arc::new(Searcher::open(&rel).expect("searcher"));
    let mut scan = Scan::with_searcher(searcher.clone(), &rows[0], ScanOptions::new(1))
        .expect("scan")
        .with_filter(women)
        .expect("filter");
    let first = scan.next(&rel).expect("next").expect("a row");
    assert!(first.tid >= tid(300), "{first:?}");
    // The men's lists were read and rejected before the women's.
    let probed = scan.lists_probed();
    assert!(probed >= 2, "{probed}");
    // A filter on an attribute the index does not store is an error, not a silent pass.
    let wrong = Filter::new().and(1, Test::AtLeast(0));
    assert!(Scan::with_searcher(searcher, &rows[0], ScanOptions::new(1))
        .expect("scan")
        .with_filter(wrong)
        .is_err());
}

#[test]
fn rows_must_come_with_every_attribute() {
    let mut lcg = Lcg(3);
    let rows = lcg.clustered(50, DIMS, 2);
    let opts = BuildOptions {
        attributes: 2,
        ..options(2, Metric::L2, fashrec_ivf::Codes::Always)
    };
    let rel = build_with_attributes_of_two(&rows, opts);
    assert!(insert_with_attributes(&rel, tid(99), &rows[0], &[Some(1)]).is_err());
    assert!(fashrec_ivf::insert(&rel, tid(99), &rows[0]).is_err());
    insert_with_attributes(&rel, tid(99), &rows[0], &[None, Some(2)]).expect("insert");
    assert!(check(&rel).expect("check").is_clean());
}

fn build_with_attributes_of_two(rows: &[Vec<f32>], options: BuildOptions) -> MemoryRelation {
    let rel = MemoryRelation::new();
    let mut builder = Builder::new(DIMS, options).expect("builder");
    rows.iter().for_each(|r| builder.sample(r).expect("sample"));
    let mut loader = builder.train(&rel, &mut |_| {}).expect("train");
    assert!(loader.add(tid(0), &rows[0]).is_err());
    for (i, row) in rows.iter().enumerate() {
        loader
            .add_with_attributes(tid(i), row, &[Some(i as u64), None])
            .expect("add");
    }
    loader.finish(&mut |_| {}).expect("finish");
    rel
}

#[test]
fn lists_without_a_passing_row_do_not_count_as_probes() {
    // Eight far-apart clusters, one list each, in order of distance from the query; only the
    // rows of the last four pass. With probes 3 the scan reads the four barren lists and then
    // three that hold passing rows before it returns the first row: the recall probes 3 gives
    // without a filter.
    for codes in BOTH {
        let mut lcg = Lcg(11);
        let rows: Vec<Vec<f32>> = (0..8)
            .flat_map(|c| {
                lcg.clustered(60, DIMS, 1)
                    .into_iter()
                    .map(move |v| v.into_iter().map(|x| x + 40.0 * c as f32).collect())
            })
            .collect();
        let opts = BuildOptions {
            attributes: 1,
            ..options(8, Metric::L2, codes)
        };
        let rel = build_with(&rows, opts, |i| vec![Some(int_key((i / 60 >= 4) as i64))]);
        let far = Filter::new().and(0, Test::AnyOf(vec![int_key(1)]));
        let mut scan = Scan::new(&rel, &rows[0], ScanOptions::new(3))
            .expect("scan")
            .with_filter(far)
            .expect("filter");
        let first = scan.next(&rel).expect("next").expect("a row");
        assert!(first.tid >= tid(240), "{codes:?}: {first:?}");
        assert_eq!(scan.lists_probed(), 7, "{codes:?}");
        // The lists' summaries ruled the barren ones out before they were read.
        assert_eq!(scan.lists_skipped(), 4, "{codes:?}");
    }
}

#[test]
fn summaries_follow_inserts_and_vacuum() {
    // Two far-apart clusters of four lists each: men near the query, women far from it.
    for codes in BOTH {
        let rows = near_and_far(17, 200, 4, 60.0);
        let opts = BuildOptions {
            attributes: 1,
            ..options(8, Metric::L2, codes)
        };
        let rel = build_with(&rows, opts, |i| {
            let gender = if i < 200 { "men" } else { "women" };
            vec![Some(bytes_key(gender.as_bytes()))]
        });
        let searcher = std::sync::Arc::new(Searcher::open(&rel).expect("searcher"));
        let first_woman = |skipped: &mut usize| {
            let women = Filter::new().and(0, Test::AnyOf(vec![bytes_key(b"women")]));
            let mut scan = Scan::with_searcher(searcher.clone(), &rows[0], ScanOptions::new(1))
                .expect("scan")
                .with_filter(women)
                .expect("filter");
            let first = scan.next(&rel).expect("next");
            *skipped = scan.lists_skipped();
            first
        };
        let mut skipped = 0;
        let first = first_woman(&mut skipped).expect("a woman");
        assert!(first.tid >= tid(200), "{codes:?}: {first:?}");
        assert!(skipped >= 1, "{codes:?}: the men's lists are skipped");
        // A woman inserted beside the query: her list is counted again, and she comes first.
        let woman = tid(1000);
        insert_with_attributes(&rel, woman, &rows[0], &[Some(bytes_key(b"women"))])
            .expect("insert");
        assert_eq!(
            first_woman(&mut skipped).map(|n| n.tid),
            Some(woman),
            "{codes:?}"
        );
        // Vacuum removes every woman: every list is ruled out without being read.
        let removed = bulk_delete(&rel, &mut |t: Tid| t >= tid(200)).expect("vacuum");
        assert_eq!(removed.removed, 201);
        assert!(first_woman(&mut skipped).is_none(), "{codes:?}");
        assert_eq!(skipped, 8, "{codes:?}");
        let report = check(&rel).expect("check");
        assert!(report.is_clean(), "{codes:?}: {report:?}");
        assert_eq!(report.overcounted_lists, 0, "{codes:?}");
    }
}

#[test]
fn a_filtered_scan_returns_its_first_ten_rows_in_order() {
    // The scan reads the lists that ten passing rows need before it returns the first one, so
    // the first ten come out nearest first (a merge of several shards' scans relies on it).
    // Rows spread evenly, not in clusters: the nearest passing rows may lie in any near list.
    let mut lcg = Lcg(23);
    let rows: Vec<Vec<f32>> = (0..3000)
        .map(|_| (0..DIMS).map(|_| lcg.next_f32()).collect())
        .collect();
    for codes in BOTH {
        let opts = BuildOptions {
            attributes: 3,
            ..options(40, Metric::L2, codes)
        };
        let rel = build_with_attributes(&rows, opts);
        let searcher = std::sync::Arc::new(Searcher::open(&rel).expect("searcher"));
        let mut unordered = 0;
        for q in 0..40 {
            let query: Vec<f32> = rows[q * 70].iter().map(|x| x + lcg.next_f32()).collect();
            let mut scan = Scan::with_searcher(searcher.clone(), &query, ScanOptions::new(2))
                .expect("scan")
                .with_filter(filter(&["women"], 1000, Some((q % 10) as i64)))
                .expect("filter");
            let first: Vec<f32> = (0..10)
                .map_while(|_| scan.next(&rel).expect("next").map(|n| n.score))
                .collect();
            unordered += first.windows(2).any(|w| w[0] > w[1]) as usize;
        }
        assert_eq!(
            unordered, 0,
            "{codes:?}: queries with their first ten out of order"
        );
    }
}

/// The pages a scan of every list reads: the code chains' with codes, else the lists'.
fn scanned_pages(rel: &MemoryRelation) -> usize {
    let report = check(rel).expect("check");
    if report.code_pages > 0 {
        report.code_pages as usize
    } else {
        report.list_pages as usize
    }
}

#[test]
fn a_filtered_scan_skips_the_pages_of_a_list_without_a_passing_row() {
    // One list of 600 rows, the categories interleaved: the build orders the list's rows by
    // category, so a page holds one or two categories and a scan for one of five reads about a
    // fifth of the pages. An insert widens its page's ranges; a vacuum narrows them.
    for codes in BOTH {
        let mut lcg = Lcg(5);
        let rows = lcg.clustered(600, DIMS, 1);
        let opts = BuildOptions {
            attributes: 1,
            ..options(1, Metric::L2, codes)
        };
        let category = |i: usize| int_key((i % 5) as i64);
        let rel = build_with(&rows, opts, |i| vec![Some(category(i))]);
        let scan_of = |query: &[f32], categories: &[i64]| {
            let keys = categories.iter().map(|&c| int_key(c)).collect();
            let mut scan = Scan::new(&rel, query, ScanOptions::new(1))
                .expect("scan")
                .with_filter(Filter::new().and(0, Test::AnyOf(keys)))
                .expect("filter");
            let mut found = Vec::new();
            while let Some(n) = scan.next(&rel).expect("next") {
                found.push(n.tid);
            }
            (found, scan.pages_skipped())
        };
        let (found, skipped) = scan_of(&rows[0], &[2]);
        let expected: HashSet<Tid> = (0..600).filter(|i| i % 5 == 2).map(tid).collect();
        assert_eq!(
            found.iter().copied().collect::<HashSet<_>>(),
            expected,
            "{codes:?}"
        );
        let pages = scanned_pages(&rel);
        assert!(
            skipped * 10 >= pages * 7,
            "{codes:?}: {skipped} of {pages} pages skipped"
        );
        let new = tid(5000);
        insert_with_attributes(&rel, new, &rows[0], &[Some(int_key(2))]).expect("insert");
        let (found, _) = scan_of(&rows[0], &[2]);
        assert_eq!(found.len(), 121, "{codes:?}: the insert widened its page");
        assert!(check(&rel).expect("check").is_clean(), "{codes:?}");
        let (_, twos_and_threes) = scan_of(&rows[0], &[2, 3]);
        bulk_delete(&rel, &mut |t: Tid| t == new || expected.contains(&t)).expect("vacuum");
        let (found, skipped) = scan_of(&rows[0], &[2, 3]);
        let threes: HashSet<Tid> = (0..600).filter(|i| i % 5 == 3).map(tid).collect();
        assert_eq!(
            found.into_iter().collect::<HashSet<_>>(),
            threes,
            "{codes:?}"
        );
        assert!(
            skipped > twos_and_threes,
            "{codes:?}: the pages of twos narrowed ({twos_and_threes} then {skipped} skipped)"
        );
        assert!(check(&rel).expect("check").is_clean(), "{codes:?}");
    }
}

#[test]
fn the_build_orders_rows_by_the_attribute_with_most_keys_first() {
    // Declared first, a gender of 4 values; then a category of 10. Ordered by gender first, a
    // category's rows would lie in four runs, each with pages of its own at its ends; ordered
    // by category first (most keys), a scan for one category reads a tenth of the pages and
    // at most two more.
    for codes in BOTH {
        let mut lcg = Lcg(9);
        let rows = lcg.clustered(600, DIMS, 1);
        let opts = BuildOptions {
            attributes: 2,
            ..options(1, Metric::L2, codes)
        };
        let rel = build_with(&rows, opts, |i| {
            vec![
                Some(int_key((i % 4) as i64)),
                Some(int_key((i / 4 % 10) as i64)),
            ]
        });
        let mut scan = Scan::new(&rel, &rows[0], ScanOptions::new(1))
            .expect("scan")
            .with_filter(Filter::new().and(1, Test::AnyOf(vec![int_key(2)])))
            .expect("filter");
        let mut found = 0;
        while scan.next(&rel).expect("next").is_some() {
            found += 1;
        }
        assert_eq!(found, 60, "{codes:?}");
        let pages = scanned_pages(&rel);
        let read = pages - scan.pages_skipped();
        assert!(
            read * 10 <= pages + 20,
            "{codes:?}: {read} of {pages} pages read"
        );
    }
}
