//! Vacuum: remove the items of dead rows and let later inserts reuse the room.
//!
//! Each list page is first read under a shared lock; only a page with dead items is then
//! locked exclusively and compacted (the remaining items close up, so pages stay dense and a
//! scan never skips holes). Pages are never unlinked: a concurrent scan may be about to follow
//! a link to them, and an empty page in a chain costs little. Afterwards the list's insert
//! block moves back to the first page with room, so inserts fill that room before extending.

use std::collections::HashMap;

use crate::block::BlockNumber;
use crate::centroids::{for_each_centroid, update_insert_block, ListHead};
use crate::chain::Chain;
use crate::error::Result;
use crate::item::{RowItem, Tid};
use crate::meta::Meta;
use crate::storage::{Relation, WriteSet};

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
    /// Items removed.
    pub removed: u64,
    /// Items left.
    pub remaining: u64,
    /// List pages visited.
    pub pages: u64,
    /// Pages that were compacted.
    pub pages_changed: u64,
}

/// Removes every item whose row `callback` says is dead.
pub fn bulk_delete<R: Relation>(rel: &R, callback: &mut impl BulkDelete) -> Result<VacuumStats> {
    let meta = Meta::read(rel)?;
    let mut heads: Vec<ListHead> = Vec::with_capacity(meta.lists as usize);
    for_each_centroid(rel, &meta, |_, head, _| heads.push(head))?;
    let mut stats = VacuumStats::default();
    for (list, head) in heads.iter().enumerate() {
        vacuum_list(rel, &meta, list as u32, head.first, callback, &mut stats)?;
    }
    Ok(stats)
}

/// Vacuums one list chain, then moves its insert block back to the first page with room.
fn vacuum_list<R: Relation>(
    rel: &R,
    meta: &Meta,
    list: u32,
    first: BlockNumber,
    callback: &mut impl BulkDelete,
    stats: &mut VacuumStats,
) -> Result<()> {
    let layout = &meta.layout;
    // Chain position of each page seen, to tell which of two pages comes first.
    let mut position: HashMap<BlockNumber, usize> = HashMap::new();
    let mut first_with_room: Option<(BlockNumber, usize)> = None;
    let mut chain = Chain::new(first);
    loop {
        let (block, any_dead, mut count) = {
            let Some((block, page)) = chain.next_page(rel)? else {
                break;
            };
            let any_dead = page
                .items::<RowItem>(layout, block)?
                .headers
                .iter()
                .any(|item| callback.is_dead(item.tid()));
            (block, any_dead, page.count())
        };
        callback.between_pages();
        position.insert(block, chain.visited() - 1);
        stats.pages += 1;
        if any_dead {
            // Inserts may have added items since; they are judged too.
            let mut ws = rel.begin();
            let slot = ws.lock(block)?;
            ws.page(slot).items::<RowItem>(layout, block)?;
            let removed = ws
                .page_mut(slot)
                .retain_items(layout, |item: RowItem, _| !callback.is_dead(item.tid()));
            count = ws.page(slot).count();
            stats.removed += removed as u64;
            stats.pages_changed += (removed > 0) as u64;
        }
        stats.remaining += count as u64;
        if count < meta.per_page() && first_with_room.is_none() {
            first_with_room = Some((block, chain.visited() - 1));
        }
    }
    let Some((room, room_position)) = first_with_room else {
        return Ok(());
    };
    update_insert_block(rel, meta, list, |head| {
        // A hint we never met lies past our walk (an insert extended the chain since).
        let current = position.get(&head.insert).copied().unwrap_or(usize::MAX);
        (room_position < current).then_some(room)
    })
}
