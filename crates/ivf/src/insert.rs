//! Inserting one row: into the list of its nearest centroid, on the first page with room.
//!
//! Safe beside concurrent inserts and scans: the page that gets the item is locked exclusively
//! while it changes, and a chain grows only by linking a new, already initialised page from
//! the chain's last page in one atomic change, while that last page is locked, so two inserts
//! cannot both extend the same chain and a scan never meets a half-linked page.

use crate::block::{BlockNumber, INVALID_BLOCK};
use crate::centroids::{nearest_list, update_insert_block};
use crate::chain::Chain;
use crate::error::{Error, Result};
use crate::item::{RowItem, Tid};
use crate::meta::Meta;
use crate::page::PageKind;
use crate::storage::{Relation, WriteSet};

/// Adds the row `tid` with `vector` to the index.
pub fn insert<R: Relation>(rel: &R, tid: Tid, vector: &[f32]) -> Result<()> {
    let meta = Meta::read(rel)?;
    let mut prepared = Vec::with_capacity(meta.dims as usize);
    let nonzero = meta.prepare(vector, &mut prepared)?;
    let header = RowItem::new(tid, !nonzero);
    let (list, head) = nearest_list(rel, &meta, &prepared)?;

    // Walk from the insert hint to the first page with room; the last page may extend.
    let mut chain = Chain::new(if head.insert == INVALID_BLOCK {
        head.first
    } else {
        head.insert
    });
    while let Some(block) = chain.step(rel)? {
        let mut ws = rel.begin();
        let slot = ws.lock(block)?;
        let page = ws.page(slot);
        page.expect_kind(PageKind::List, block)?;
        if page.count() < meta.per_page() {
            if !ws.page_mut(slot).push_item(&meta.layout, header, &prepared) {
                return Err(Error::corrupt(
                    block,
                    "item does not fit although the count allows it",
                ));
            }
            ws.commit();
            return advance_hint(rel, &meta, list, head.insert, block);
        }
        let next = page.next();
        if next != INVALID_BLOCK {
            chain.follow(next);
            continue;
        }
        // Last page and full: extend while it stays locked, link in the same change.
        let (fresh, new_block) = ws.extend()?;
        let page = ws.page_mut(fresh);
        page.init(PageKind::List);
        if !page.push_item(&meta.layout, header, &prepared) {
            return Err(Error::corrupt(
                new_block,
                "one item does not fit on an empty page",
            ));
        }
        ws.page_mut(slot).set_next(new_block);
        ws.commit();
        return advance_hint(rel, &meta, list, head.insert, new_block);
    }
    Err(Error::corrupt(head.first, "list has no pages"))
}

/// Points the list's insert block at `block` if the item went past the hint and no one moved
/// the hint meanwhile (a vacuum moving it back to free space wins).
fn advance_hint<R: Relation>(
    rel: &R,
    meta: &Meta,
    list: u32,
    seen: BlockNumber,
    block: BlockNumber,
) -> Result<()> {
    if block == seen {
        return Ok(());
    }
    update_insert_block(rel, meta, list, |head| {
        (head.insert == seen).then_some(block)
    })
}
