//! Looking inside an index: list sizes and balance, every stored tid, and a structural check.

use std::collections::{HashMap, HashSet};

use crate::block::BlockNumber;
use crate::centroids::{code_heads, for_each_centroid, nearest_in, ListHead};
use crate::chain::Chain;
use crate::error::{Error, Result};
use crate::item::{ItemHeader, RowItem, Tid};
use crate::meta::{Meta, META_BLOCK};
use crate::page::{Element, Items, Layout, PageKind};
use crate::quantizer::Quantizer;
use crate::storage::Relation;
use crate::summary;

/// An index's shape.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexInfo {
    /// The meta page.
    pub meta: Meta,
    /// Blocks in the relation.
    pub blocks: BlockNumber,
    /// Items in each list.
    pub list_sizes: Vec<u64>,
    /// Pages in each list's chain.
    pub list_pages: Vec<u32>,
    /// Pages in each list's code chain (empty without codes).
    pub code_pages: Vec<u32>,
    /// Items in all lists.
    pub rows: u64,
    /// Largest list over the mean list (1.0 is perfect balance; 0 for an empty index).
    pub imbalance: f64,
    /// Standard deviation of list sizes over their mean (0 for an empty index).
    pub coefficient_of_variation: f64,
    /// Lists without items.
    pub empty_lists: u32,
}

/// Reports the lists, their sizes and the imbalance.
pub fn inspect<R: Relation>(rel: &R) -> Result<IndexInfo> {
    let meta = Meta::read(rel)?;
    let heads = list_heads(rel, &meta)?;
    let mut list_sizes = Vec::with_capacity(heads.len());
    let mut list_pages = Vec::with_capacity(heads.len());
    for head in &heads {
        let (mut items, mut pages) = (0u64, 0u32);
        walk_chain(
            rel,
            &meta.layout,
            PageKind::List,
            head.first,
            |_, page_items| {
                items += page_items.len() as u64;
                pages += 1;
                Ok(())
            },
        )?;
        list_sizes.push(items);
        list_pages.push(pages);
    }
    let mut code_pages = Vec::new();
    if let Some(region) = meta.codes {
        for head in code_heads(rel, &meta)? {
            let mut pages = 0u32;
            walk_chain(rel, &region.layout, PageKind::Code, head.first, |_, _| {
                pages += 1;
                Ok(())
            })?;
            code_pages.push(pages);
        }
    }
    let rows: u64 = list_sizes.iter().sum();
    let mean = rows as f64 / list_sizes.len().max(1) as f64;
    let max = list_sizes.iter().copied().max().unwrap_or(0) as f64;
    let variance = list_sizes
        .iter()
        .map(|&s| (s as f64 - mean).powi(2))
        .sum::<f64>()
        / list_sizes.len().max(1) as f64;
    let (imbalance, coefficient_of_variation) = if mean > 0.0 {
        (max / mean, variance.sqrt() / mean)
    } else {
        (0.0, 0.0)
    };
    Ok(IndexInfo {
        empty_lists: list_sizes.iter().filter(|&&s| s == 0).count() as u32,
        meta,
        blocks: rel.nblocks(),
        list_sizes,
        list_pages,
        code_pages,
        rows,
        imbalance,
        coefficient_of_variation,
    })
}

/// Every row in the index with its stored attributes (empty without any), sorted by tid,
/// duplicates kept: the extension compares this with the heap to verify that every live row is
/// indexed exactly once, with the table's values.
pub fn collect_rows<R: Relation>(rel: &R) -> Result<Vec<(Tid, Vec<u8>)>> {
    let meta = Meta::read(rel)?;
    let mut rows = Vec::new();
    for head in list_heads(rel, &meta)? {
        walk_chain(rel, &meta.layout, PageKind::List, head.first, |_, items| {
            for (item, values) in items.iter() {
                rows.push((item.tid(), meta.split_row(values).1.to_vec()));
            }
            Ok(())
        })?;
    }
    rows.sort_unstable();
    Ok(rows)
}

/// What the structural check found besides hard corruption (which is an error).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Items in all lists.
    pub rows: u64,
    /// Pages in list chains.
    pub list_pages: u64,
    /// Blocks no chain reaches (all-zero pages a crash or an aborted extend left).
    pub unreachable_blocks: u64,
    /// Of those, blocks that are initialised (none are expected).
    pub unreachable_initialised: u64,
    /// Tids stored more than once.
    pub duplicate_tids: Vec<Tid>,
    /// Items not in the list of their nearest centroid (none are expected).
    pub misplaced: u64,
    /// Pages in code chains.
    pub code_pages: u64,
    /// Codes whose row is not on its list page (a crash between a vacuum's passes over a
    /// list's two chains leaves them; scans skip them and the next vacuum removes them).
    pub orphan_codes: u64,
    /// Lists whose summary claims fewer rows of some key, or a narrower key range, than the
    /// list holds (none are expected: a filtered scan could skip such a list's rows).
    pub undercounted_lists: u64,
    /// Lists whose summary counts more rows than the list holds (a crash between a row's count
    /// and its insert, or between a vacuum's removal and its uncount, leaves them; harmless).
    pub overcounted_lists: u64,
}

impl CheckReport {
    /// Whether nothing unexpected was found.
    pub fn is_clean(&self) -> bool {
        self.unreachable_initialised == 0
            && self.duplicate_tids.is_empty()
            && self.misplaced == 0
            && self.undercounted_lists == 0
    }
}

/// Verifies the structure: page kinds, chains without cycles or shared pages, insert blocks on
/// their chains, item counts, finite vectors, unique tids, every item in its nearest list;
/// with codes, that every row has exactly one code in its list's code chain, naming the page
/// that holds the row, and that each code and its bound's terms are what the row's vector
/// encodes to, and that each page's key ranges hold its rows' keys (any of these failing is an
/// error: scans would miss or misorder the row). Reads every page; meant
/// for tests and for a consistency-check SQL function.
pub fn check<R: Relation>(rel: &R) -> Result<CheckReport> {
    let meta = Meta::read(rel)?;
    let dims = meta.dims as usize;
    let mut centroids = Vec::with_capacity(meta.lists as usize * dims);
    let mut heads = Vec::with_capacity(meta.lists as usize);
    for_each_centroid(rel, &meta, |_, head, centroid| {
        heads.push(head);
        centroids.extend_from_slice(centroid);
    })?;
    let scorer = meta.metric.scorer();
    let mut report = CheckReport::default();
    let mut reached: HashSet<BlockNumber> = HashSet::new();
    reached.insert(META_BLOCK);
    reached.extend((0..meta.centroid_pages).map(|i| meta.centroid_slot(0).0 + i));
    let codes = match meta.codes {
        Some(region) => {
            reached.extend(region.quantizer..region.heads + region.head_pages);
            Some((
                region,
                Quantizer::read(rel, &meta)?,
                code_heads(rel, &meta)?,
            ))
        }
        None => None,
    };
    if let Some(region) = meta.summaries {
        reached.extend(region.first..region.first + region.pages);
    }
    let mut tids = Vec::new();
    for (list, head) in heads.iter().enumerate() {
        let mut counted = meta.summaries.map(|region| (region.empty(), 0u32));
        // With codes: each row's page and vector, until its code is found.
        let mut rows: HashMap<Tid, (BlockNumber, RowItem, Vec<f32>)> = HashMap::new();
        let mut attributes_of: HashMap<Tid, Vec<u8>> = HashMap::new();
        let mut insert_on_chain = false;
        walk_chain(
            rel,
            &meta.layout,
            PageKind::List,
            head.first,
            |block, items| {
                if !reached.insert(block) {
                    return Err(Error::corrupt(block, "page belongs to two chains"));
                }
                insert_on_chain |= block == head.insert;
                report.list_pages += 1;
                for (item, values) in items.iter() {
                    let (vector, attributes) = meta.split_row(values);
                    let tid = item.tid();
                    if vector.iter().any(|x| !x.is_finite()) {
                        return Err(Error::corrupt(block, "stored vector is not finite"));
                    }
                    tids.push(tid);
                    report.rows += 1;
                    if let (Some(region), Some((values, rows))) = (&meta.summaries, &mut counted) {
                        region.count(values, attributes, summary::Change::Add);
                        *rows += 1;
                    }
                    if !item.zero_norm()
                        && nearest_in(&centroids, dims, scorer, vector) != list as u32
                    {
                        report.misplaced += 1;
                    }
                    if codes.is_some() {
                        rows.insert(tid, (block, item, vector.to_vec()));
                        if !attributes.is_empty() {
                            attributes_of.insert(tid, attributes.to_vec());
                        }
                    }
                }
                Ok(())
            },
        )?;
        if !insert_on_chain {
            return Err(Error::corrupt(
                head.insert,
                "insert block is not on its list's chain",
            ));
        }
        if let (Some(region), Some((actual, rows))) = (&meta.summaries, &counted) {
            let (stored_rows, covered) =
                summary::with_summary(rel, region, list as u32, |item, stored| {
                    (item.rows, region.covers(stored, actual))
                })?;
            if !covered || stored_rows < *rows {
                report.undercounted_lists += 1;
            } else if stored_rows != *rows {
                report.overcounted_lists += 1;
            }
        }
        let Some((region, quantizer, code_heads)) = &codes else {
            continue;
        };
        let Some(code_head) = code_heads.get(list) else {
            return Err(Error::corrupt(region.heads, "code head missing"));
        };
        let mut coded = HashSet::new();
        let mut expected = Vec::with_capacity(dims);
        let mut insert_on_chain = false;
        walk_chain(
            rel,
            &region.layout,
            PageKind::Code,
            code_head.first,
            |block, items| {
                if !reached.insert(block) {
                    return Err(Error::corrupt(block, "page belongs to two chains"));
                }
                insert_on_chain |= block == code_head.insert;
                report.code_pages += 1;
                for (item, values) in items.iter() {
                    let (code, attributes) = meta.split_code(values);
                    if !coded.insert(item.row.tid()) {
                        return Err(Error::corrupt(block, "a row has two codes"));
                    }
                    let Some((vector_block, row, vector)) = rows.remove(&item.row.tid()) else {
                        report.orphan_codes += 1;
                        continue;
                    };
                    if (vector_block, row) != (item.vector_block, item.row)
                        || attributes_of.remove(&row.tid()).unwrap_or_default() != attributes
                    {
                        return Err(Error::corrupt(block, "a code does not match its row"));
                    }
                    // Encoding is deterministic: the code and its bound's terms (radius, sum,
                    // square) must be exactly what the vector encodes to.
                    if quantizer.encode(&vector, &mut expected) != item.terms
                        || code != &expected[..]
                    {
                        return Err(Error::corrupt(
                            block,
                            "a code does not match its row's vector",
                        ));
                    }
                }
                Ok(())
            },
        )?;
        if !insert_on_chain {
            return Err(Error::corrupt(
                code_head.insert,
                "insert block is not on its list's code chain",
            ));
        }
        if let Some((block, _, _)) = rows.values().next() {
            return Err(Error::corrupt(*block, "a row has no code"));
        }
    }
    for block in 0..rel.nblocks() {
        if !reached.contains(&block) {
            report.unreachable_blocks += 1;
            report.unreachable_initialised += !rel.read(block)?.is_new() as u64;
        }
    }
    tids.sort_unstable();
    report.duplicate_tids = tids
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    report.duplicate_tids.dedup();
    Ok(report)
}

/// Each list's first and insert blocks.
fn list_heads<R: Relation>(rel: &R, meta: &Meta) -> Result<Vec<ListHead>> {
    let mut heads = Vec::with_capacity(meta.lists as usize);
    for_each_centroid(rel, meta, |_, head, _| heads.push(head))?;
    Ok(heads)
}

/// Calls `visit(block, items)` for every page of a chain of `kind`.
fn walk_chain<R: Relation, H: ItemHeader, T: Element>(
    rel: &R,
    layout: &Layout<H, T>,
    kind: PageKind,
    first: BlockNumber,
    mut visit: impl FnMut(BlockNumber, Items<'_, H, T>) -> Result<()>,
) -> Result<()> {
    let mut chain = Chain::new(first);
    while let Some((block, page)) = chain.next_page(rel, kind)? {
        // A range that leaves out a row's key would let a filtered scan skip that row.
        if !page.key_ranges_hold(layout, block)? {
            return Err(Error::corrupt(
                block,
                "the page's key ranges leave out a row's key",
            ));
        }
        visit(block, page.items(layout, block)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::CodeItem;
    use crate::page::Page;
    use crate::storage::WriteSet;
    use crate::{build, BuildOptions, Codes, MemoryRelation};

    /// An index of 200 rows of 40 dimensions in 2 lists, with codes.
    fn index() -> MemoryRelation {
        let rows: Vec<Vec<f32>> = (0..200)
            .map(|i| {
                (0..40)
                    .map(|d| ((i * 13 + d * 7) % 29) as f32 * 0.37)
                    .collect()
            })
            .collect();
        let rel = MemoryRelation::new();
        let options = BuildOptions {
            lists: 2,
            codes: Codes::Always,
            ..BuildOptions::default()
        };
        let all = || {
            rows.iter()
                .enumerate()
                .map(|(i, v)| (Tid::new(i as u32, 1), v))
        };
        build(&rel, 40, options, all, &mut |_| {}).unwrap();
        rel
    }

    /// Changes the first code item of the first code page with `change`.
    fn change_first_code(
        rel: &MemoryRelation,
        change: impl FnOnce(&mut Page, &Layout<CodeItem, u8>),
    ) {
        let meta = Meta::read(rel).unwrap();
        let region = meta.codes.unwrap();
        let first = code_heads(rel, &meta).unwrap()[0].first;
        let mut ws = rel.begin();
        let slot = ws.lock(first).unwrap();
        change(ws.page_mut(slot), &region.layout);
    }

    fn first_code(page: &Page, layout: &Layout<CodeItem, u8>) -> CodeItem {
        page.items(layout, 0).unwrap().headers[0]
    }

    #[test]
    fn a_clean_index_with_codes_checks_clean() {
        let report = check(&index()).unwrap();
        assert!(report.is_clean(), "{report:?}");
        assert_eq!((report.rows, report.orphan_codes), (200, 0));
        assert!(report.code_pages >= 2);
    }

    #[test]
    fn codes_that_do_not_match_their_rows_are_errors() {
        let bumped_sum = |page: &mut Page, layout: &Layout<CodeItem, u8>| {
            let mut item = first_code(page, layout);
            item.terms.sum += 1;
            page.set_item_header(layout, 0, item);
        };
        let moved = |page: &mut Page, layout: &Layout<CodeItem, u8>| {
            let mut item = first_code(page, layout);
            item.vector_block += 1;
            page.set_item_header(layout, 0, item);
        };
        let smaller_radius = |page: &mut Page, layout: &Layout<CodeItem, u8>| {
            let mut item = first_code(page, layout);
            item.terms.radius = item.terms.radius.next_down();
            page.set_item_header(layout, 0, item);
        };
        let dropped = |page: &mut Page, layout: &Layout<CodeItem, u8>| {
            let gone = first_code(page, layout).row;
            page.retain_items(layout, |item: CodeItem, _| item.row != gone);
        };
        for change in [bumped_sum, moved, smaller_radius, dropped] {
            let rel = index();
            change_first_code(&rel, change);
            assert!(matches!(check(&rel), Err(Error::Corrupt { .. })));
        }
    }

    #[test]
    fn a_code_whose_row_is_gone_is_an_orphan_not_an_error() {
        let rel = index();
        let meta = Meta::read(&rel).unwrap();
        let mut gone = None;
        change_first_code(&rel, |page, layout| gone = Some(first_code(page, layout)));
        let gone = gone.unwrap();
        {
            let mut ws = rel.begin();
            let slot = ws.lock(gone.vector_block).unwrap();
            ws.page_mut(slot)
                .retain_items(&meta.layout, |item: RowItem, _| item != gone.row);
        }
        let report = check(&rel).unwrap();
        assert!(report.is_clean(), "{report:?}");
        assert_eq!((report.rows, report.orphan_codes), (199, 1));
        // A scan skips it.
        let all = crate::search(&rel, &[0.0; 40], 500, 2).unwrap();
        assert_eq!(all.len(), 199);
        assert!(all.iter().all(|n| n.tid != gone.row.tid()));
    }

    #[test]
    fn a_summary_claiming_too_few_rows_is_reported_and_too_many_is_not() {
        use crate::summary::{apply, Change};
        let rows: Vec<Vec<f32>> = (0..120)
            .map(|i| (0..8).map(|d| ((i * 5 + d * 3) % 17) as f32).collect())
            .collect();
        let rel = MemoryRelation::new();
        let options = BuildOptions {
            lists: 3,
            attributes: 1,
            ..BuildOptions::default()
        };
        let mut builder = crate::Builder::new(8, options).unwrap();
        rows.iter().for_each(|r| builder.sample(r).unwrap());
        let mut loader = builder.train(&rel, &mut |_| {}).unwrap();
        for (i, row) in rows.iter().enumerate() {
            let key = Some(crate::attributes::int_key((i % 4) as i64));
            loader
                .add_with_attributes(Tid::new(i as u32, 1), row, &[key])
                .unwrap();
        }
        loader.finish(&mut |_| {}).unwrap();
        let report = check(&rel).unwrap();
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(
            (report.undercounted_lists, report.overcounted_lists),
            (0, 0)
        );
        let meta = Meta::read(&rel).unwrap();
        let region = meta.summaries.unwrap();
        let mut stored = Vec::new();
        crate::attributes::encode(&[Some(crate::attributes::int_key(9))], &mut stored);
        apply(&rel, &region, 1, &stored, stored.len(), Change::Add).unwrap();
        let report = check(&rel).unwrap();
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.overcounted_lists, 1);
        let mut row = Vec::new();
        let list_row = collect_rows(&rel).unwrap();
        row.extend_from_slice(&list_row[0].1);
        for list in 0..3 {
            apply(&rel, &region, list, &row, row.len(), Change::Remove).unwrap();
        }
        let report = check(&rel).unwrap();
        assert!(!report.is_clean(), "{report:?}");
        assert!(report.undercounted_lists >= 1, "{report:?}");
    }
}
