//! Vacuum: remove the items of dead rows and let later inserts reuse the room.
//!
//! Each list page is first read under a shared lock; only a page with dead items is then
//! locked exclusively and compacted (the remaining items close up, so pages stay dense and a
//! scan never skips holes). Pages are never unlinked: a concurrent scan may be about to follow
//! a link to them, and an empty page in a chain costs little. Afterwards the list's insert
//! block moves back to the first page with room, so inserts fill that room before extending.
//!
//! In an index with codes the list's code chain is vacuumed the same way, after its vector
//! chain: a crash in between leaves codes of removed rows, which scans skip (the row is not on
//! its page any more) and the next vacuum removes, never a live row without its code.
//! Compacting moves items only within their page, so a code's vector block stays right.
//!
//! In an index with list summaries, the rows removed from a list's vector chain are then taken
//! out of its summary (after their removal, so a crash leaves them counted: see
//! [`crate::summary`]).

use std::collections::HashMap;

use crate::block::BlockNumber;
use crate::centroids::{code_heads, for_each_centroid, update_insert_block, Chained, ListHead};
use crate::chain::Chain;
use crate::error::Result;
use crate::item::{RowHeader, Tid};
use crate::meta::Meta;
use crate::page::{Element, Layout};
use crate::storage::{Relation, WriteSet};
use crate::summary::{self, Change};

/// What vacuum asks its caller.
pub trait BulkDelete {
    /// Whether the row `tid` is dead and its item should go (PostgreSQL's bulk-delete
    /// callback). Called while a page lock is held: it must not block.
    fn is_dead(&mut self, tid: Tid) -> bool;

    /// Called between pages with no lock held: the place for `vacuum_delay_point` and
    /// interrupt checks.
    fn between_pages(&mut self) {}
}

impl<F: FnMut(Tid) -> bool> BulkDelete for F {
    fn is_dead(&mut self, tid: Tid) -> bool {
        self(tid)
    }
}

/// What a bulk delete did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VacuumStats {
    /// Rows removed.
    pub removed: u64,
    /// Rows left.
    pub remaining: u64,
    /// List and code pages visited.
    pub pages: u64,
    /// Pages that were compacted.
    pub pages_changed: u64,
}

/// Removes every item whose row `callback` says is dead.
pub fn bulk_delete<R: Relation>(rel: &R, callback: &mut impl BulkDelete) -> Result<VacuumStats> {
    let meta = Meta::read(rel)?;
    let mut heads: Vec<ListHead> = Vec::with_capacity(meta.lists as usize);
    for_each_centroid(rel, &meta, |_, head, _| heads.push(head))?;
    let code_heads = code_heads(rel, &meta)?;
    let mut stats = VacuumStats::default();
    for (list, head) in heads.iter().enumerate() {
        let list = list as u32;
        let mut gone = Vec::new();
        let (removed, remaining) = vacuum_chain(
            rel,
            &meta,
            (list, Chained::Vectors, head.first),
            &meta.layout,
            callback,
            &mut stats,
            meta.summaries.is_some().then_some(&mut gone),
        )?;
        if let Some(region) = &meta.summaries {
            let stride = meta.attribute_bytes();
            summary::apply(rel, region, list, &gone, stride, Change::Remove)?;
        }
        stats.removed += removed;
        stats.remaining += remaining;
        if let (Some(region), Some(code_head)) = (meta.codes, code_heads.get(list as usize)) {
            vacuum_chain(
                rel,
                &meta,
                (list, Chained::Codes, code_head.first),
                &region.layout,
                callback,
                &mut stats,
                None,
            )?;
        }
    }
    Ok(stats)
}

/// Vacuums one chain of a list (given as list, which chain, first block), then moves the
/// chain's insert block back to its first page with room; returns the items removed and left.
/// With `gone`, appends each removed item's attributes (the bytes after its vector or code).
fn vacuum_chain<R: Relation, H: RowHeader, T: Element>(
    rel: &R,
    meta: &Meta,
    (list, chained, first): (u32, Chained, BlockNumber),
    layout: &Layout<H, T>,
    callback: &mut impl BulkDelete,
    stats: &mut VacuumStats,
    mut gone: Option<&mut Vec<u8>>,
) -> Result<(u64, u64)> {
    let vector_bytes = meta.dims as usize * size_of::<T>();
    let (mut removed, mut remaining) = (0, 0);
    // Chain position of each page seen, to tell which of two pages comes first.
    let mut position: HashMap<BlockNumber, usize> = HashMap::new();
    let mut first_with_room: Option<(BlockNumber, usize)> = None;
    let mut chain = Chain::new(first);
    loop {
        let (block, any_dead, mut count) = {
            let Some((block, page)) = chain.next_page(rel, chained.page_kind())? else {
                break;
            };
            let any_dead = page
                .items(layout, block)?
                .headers
                .iter()
                .any(|item| callback.is_dead(item.row().tid()));
            (block, any_dead, page.count())
        };
        callback.between_pages();
        position.insert(block, chain.visited() - 1);
        stats.pages += 1;
        if any_dead {
            // Inserts may have added items since; they are judged too.
            let mut ws = rel.begin();
            let slot = ws.lock(block)?;
            ws.page(slot).items(layout, block)?;
            let dropped = ws.page_mut(slot).retain_items(layout, |item: H, values| {
                let dead = callback.is_dead(item.row().tid());
                if let (true, Some(gone)) = (dead, gone.as_deref_mut()) {
                    let bytes: &[u8] = bytemuck::cast_slice(values);
                    gone.extend_from_slice(&bytes[vector_bytes.min(bytes.len())..]);
                }
                !dead
            });
            count = ws.page(slot).count();
            removed += dropped as u64;
            stats.pages_changed += (dropped > 0) as u64;
        }
        remaining += count as u64;
        if count < layout.capacity() && first_with_room.is_none() {
            first_with_room = Some((block, chain.visited() - 1));
        }
    }
    let Some((room, room_position)) = first_with_room else {
        return Ok((removed, remaining));
    };
    update_insert_block(rel, meta, list, chained, |head| {
        // A hint we never met lies past our walk (an insert extended the chain since).
        let current = position.get(&head.insert).copied().unwrap_or(usize::MAX);
        (room_position < current).then_some(room)
    })?;
    Ok((removed, remaining))
}
