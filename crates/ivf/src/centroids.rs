//! Centroid pages: one item per list, holding the list's entry points ([`ListHead`]) and its
//! centroid; and, in an index with codes, the code heads pages: one [`ListHead`] per list for
//! its code chain.

use crate::block::BlockNumber;
use crate::error::{Error, Result};
pub(crate) use crate::item::ListHead;
use crate::meta::Meta;
use crate::metric::Scorer;
use crate::page::{Element, Layout, PageKind};
use crate::storage::{Relation, WriteSet};

/// One of a list's two chains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chained {
    /// The rows with their full vectors (list pages).
    Vectors,
    /// The rows' codes (code pages).
    Codes,
}

impl Chained {
    /// The kind of the chain's pages.
    pub(crate) fn page_kind(self) -> PageKind {
        match self {
            Chained::Vectors => PageKind::List,
            Chained::Codes => PageKind::Code,
        }
    }
}

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
        for (head, centroid) in page.items(&meta.centroid_layout, block)?.iter() {
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

/// Every list's code chain head, in list order (an empty vector without codes).
pub(crate) fn code_heads<R: Relation>(rel: &R, meta: &Meta) -> Result<Vec<ListHead>> {
    let Some(region) = meta.codes else {
        return Ok(Vec::new());
    };
    let mut heads = Vec::with_capacity(meta.lists as usize);
    for index in 0..region.head_pages {
        let block = region.heads + index;
        let page = rel.read(block)?;
        page.expect_kind(PageKind::CodeHeads, block)?;
        let expected = (meta.lists as usize - heads.len()).min(region.head_layout.capacity());
        let items = page.items(&region.head_layout, block)?;
        if items.len() != expected {
            return Err(Error::corrupt(block, "wrong number of code heads"));
        }
        heads.extend_from_slice(items.headers);
    }
    Ok(heads)
}

/// One list's code chain head.
pub(crate) fn code_head<R: Relation>(rel: &R, meta: &Meta, list: u32) -> Result<ListHead> {
    let Some(region) = meta.codes else {
        return Err(Error::corrupt(0, "the index has no codes"));
    };
    let (block, index) = region.head_slot(list);
    let page = rel.read(block)?;
    page.expect_kind(PageKind::CodeHeads, block)?;
    let items = page.items(&region.head_layout, block)?;
    items
        .headers
        .get(index)
        .copied()
        .ok_or_else(|| Error::corrupt(block, "code head missing"))
}

/// Changes the insert block of one of a list's chains in its own atomic change, if `decide`
/// (given the current head) returns a new value. Locks only the head's page, after the caller
/// released the rest.
pub(crate) fn update_insert_block<R: Relation>(
    rel: &R,
    meta: &Meta,
    list: u32,
    chain: Chained,
    decide: impl FnOnce(ListHead) -> Option<BlockNumber>,
) -> Result<()> {
    match (chain, meta.codes) {
        (Chained::Vectors, _) => update_head(
            rel,
            meta.centroid_slot(list),
            PageKind::Centroid,
            &meta.centroid_layout,
            decide,
        ),
        (Chained::Codes, Some(region)) => update_head(
            rel,
            region.head_slot(list),
            PageKind::CodeHeads,
            &region.head_layout,
            decide,
        ),
        (Chained::Codes, None) => Err(Error::corrupt(0, "the index has no codes")),
    }
}

fn update_head<R: Relation, T: Element>(
    rel: &R,
    (block, index): (BlockNumber, usize),
    kind: PageKind,
    layout: &Layout<ListHead, T>,
    decide: impl FnOnce(ListHead) -> Option<BlockNumber>,
) -> Result<()> {
    let mut ws = rel.begin();
    let slot = ws.lock(block)?;
    let page = ws.page(slot);
    page.expect_kind(kind, block)?;
    let Some(&head) = page.items(layout, block)?.headers.get(index) else {
        return Err(Error::corrupt(block, "list head missing"));
    };
    if let Some(insert) = decide(head) {
        if insert != head.insert {
            ws.page_mut(slot)
                .set_item_header(layout, index, ListHead { insert, ..head });
        }
    }
    Ok(())
}
