//! Centroid pages: one item per list, holding the list's entry points ([`ListHead`]) and its
//! centroid.

use crate::block::BlockNumber;
use crate::error::{Error, Result};
pub(crate) use crate::item::ListHead;
use crate::meta::Meta;
use crate::metric::Scorer;
use crate::page::PageKind;
use crate::storage::{Relation, WriteSet};

/// Calls `visit(list, head, centroid)` for every list in order, holding one page at a time.
pub(crate) fn for_each_centroid<R: Relation>(
    rel: &R,
    meta: &Meta,
    mut visit: impl FnMut(u32, ListHead, &[f32]),
) -> Result<()> {
    let mut list = 0u32;
    for page_index in 0..meta.centroid_pages {
        let block = meta.centroid_slot(0).0 + page_index;
        let page = rel.read(block)?;
        page.expect_kind(PageKind::Centroid, block)?;
        let expected = (meta.lists - list).min(meta.per_page() as u32) as usize;
        if page.count() != expected {
            return Err(Error::corrupt(block, "wrong number of centroids"));
        }
        for (head, centroid) in page.items::<ListHead>(&meta.layout, block)?.iter() {
            visit(list, head, centroid);
            list += 1;
        }
    }
    Ok(())
}

/// The list whose centroid scores lowest against a prepared vector (ties: the lower list).
pub(crate) fn nearest_list<R: Relation>(
    rel: &R,
    meta: &Meta,
    vector: &[f32],
) -> Result<(u32, ListHead)> {
    let scorer = meta.metric.scorer();
    let mut best: Option<(f32, u32, ListHead)> = None;
    for_each_centroid(rel, meta, |list, head, centroid| {
        let bound = best.map_or(f32::INFINITY, |(s, _, _)| s);
        let score = scorer(vector, centroid, bound);
        if best.is_none_or(|(s, _, _)| score.total_cmp(&s).is_lt()) {
            best = Some((score, list, head));
        }
    })?;
    best.map(|(_, list, head)| (list, head))
        .ok_or_else(|| Error::corrupt(meta.centroid_slot(0).0, "index has no lists"))
}

/// Index of the lowest-scoring centroid in a flat array (ties: the lower index).
pub(crate) fn nearest_in(centroids: &[f32], dims: usize, scorer: Scorer, vector: &[f32]) -> u32 {
    let mut best = (f32::INFINITY, 0u32);
    for (list, centroid) in centroids.chunks_exact(dims).enumerate() {
        let score = scorer(vector, centroid, best.0);
        if score.total_cmp(&best.0).is_lt() {
            best = (score, list as u32);
        }
    }
    best.1
}

/// Changes one list's insert block in its own atomic change, if `decide` (given the current
/// head) returns a new value. Locks only the centroid page, after the caller released the rest.
pub(crate) fn update_insert_block<R: Relation>(
    rel: &R,
    meta: &Meta,
    list: u32,
    decide: impl FnOnce(ListHead) -> Option<BlockNumber>,
) -> Result<()> {
    let (block, index) = meta.centroid_slot(list);
    let mut ws = rel.begin();
    let slot = ws.lock(block)?;
    let page = ws.page(slot);
    page.expect_kind(PageKind::Centroid, block)?;
    let Some(&head) = page
        .items::<ListHead>(&meta.layout, block)?
        .headers
        .get(index)
    else {
        return Err(Error::corrupt(block, "centroid missing"));
    };
    if let Some(insert) = decide(head) {
        if insert != head.insert {
            ws.page_mut(slot)
                .set_item_header(&meta.layout, index, ListHead { insert, ..head });
        }
    }
    Ok(())
}
