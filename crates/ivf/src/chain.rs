//! The one way to walk a list's chain of pages, with the one cycle check.
//!
//! A chain is followed by its pages' `next` links from the list's first block (or, for an
//! insert, from its insert hint). Damage could link a page back into its own chain, so a walk
//! that has visited more pages than the relation has blocks stops with an error instead of
//! looping. The block count is asked for only when a walk passes the count the relation last
//! knew (`Relation::known_blocks`), since an insert may extend the chain while a scan walks it.

use crate::block::{BlockNumber, INVALID_BLOCK};
use crate::error::{Error, Result};
use crate::page::PageKind;
use crate::storage::Relation;

/// A walk along one chain: which block comes next and how many were visited.
pub(crate) struct Chain {
    start: BlockNumber,
    next: BlockNumber,
    visited: BlockNumber,
    /// The relation's size when last asked; a walk longer than it has a cycle.
    limit: BlockNumber,
}

impl Chain {
    /// A walk starting at `start`.
    pub(crate) fn new(start: BlockNumber) -> Chain {
        Chain {
            start,
            next: start,
            visited: 0,
            limit: 0,
        }
    }

    /// The block the walk goes to next, `INVALID_BLOCK` at the end (for prefetching).
    pub(crate) fn peek(&self) -> BlockNumber {
        self.next
    }

    /// How many pages the walk has visited; the current page is number `visited() - 1`.
    pub(crate) fn visited(&self) -> usize {
        self.visited as usize
    }

    /// Steps onto the next block, or `None` at the end of the chain; the caller reads or
    /// locks it, checks its kind and then tells where it links with [`Chain::follow`].
    pub(crate) fn step<R: Relation>(&mut self, rel: &R) -> Result<Option<BlockNumber>> {
        if self.next == INVALID_BLOCK {
            return Ok(None);
        }
        self.visited += 1;
        if self.visited > self.limit {
            self.limit = rel.known_blocks();
        }
        if self.visited > self.limit {
            self.limit = rel.nblocks();
            if self.visited > self.limit {
                return Err(Error::corrupt(self.start, "list chain has a cycle"));
            }
        }
        let block = self.next;
        self.next = INVALID_BLOCK;
        Ok(Some(block))
    }

    /// Records where the current page links to.
    pub(crate) fn follow(&mut self, next: BlockNumber) {
        self.next = next;
    }

    /// Steps onto the next page and reads it under a shared lock, checked to be of `kind`.
    pub(crate) fn next_page<'r, R: Relation>(
        &mut self,
        rel: &'r R,
        kind: PageKind,
    ) -> Result<Option<(BlockNumber, R::ReadGuard<'r>)>> {
        let Some(block) = self.step(rel)? else {
            return Ok(None);
        };
        let page = rel.read(block)?;
        page.expect_kind(kind, block)?;
        self.follow(page.next());
        Ok(Some((block, page)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryRelation;
    use crate::storage::WriteSet;

    /// A relation of list pages, page `i` linking to `links[i]`.
    fn linked(links: &[BlockNumber]) -> MemoryRelation {
        let rel = MemoryRelation::new();
        for &next in links {
            let mut ws = rel.begin();
            let (slot, _) = ws.extend().unwrap();
            let page = ws.page_mut(slot);
            page.init(PageKind::List);
            page.set_next(next);
        }
        rel
    }

    fn walk(rel: &MemoryRelation, start: BlockNumber) -> Result<Vec<BlockNumber>> {
        let mut chain = Chain::new(start);
        let mut seen = Vec::new();
        while let Some((block, _)) = chain.next_page(rel, PageKind::List)? {
            seen.push(block);
        }
        Ok(seen)
    }

    #[test]
    fn walks_a_chain_to_its_end() {
        let rel = linked(&[2, INVALID_BLOCK, 1]);
        assert_eq!(walk(&rel, 0), Ok(vec![0, 2, 1]));
        assert_eq!(walk(&rel, 2), Ok(vec![2, 1]));
    }

    #[test]
    fn a_cycle_is_an_error_not_a_loop() {
        let rel = linked(&[1, 2, 1]);
        let err = walk(&rel, 0).unwrap_err();
        assert_eq!(err, Error::corrupt(0, "list chain has a cycle"));
        let rel = linked(&[0]);
        assert!(walk(&rel, 0).is_err());
    }

    /// A relation that knows its block count, as PostgreSQL's does after its first
    /// `nblocks`, and counts how often it is asked again.
    struct Counted {
        rel: MemoryRelation,
        known: BlockNumber,
        asked: std::cell::Cell<usize>,
    }

    impl Relation for Counted {
        type ReadGuard<'a> = <MemoryRelation as Relation>::ReadGuard<'a>;
        type Write<'a> = <MemoryRelation as Relation>::Write<'a>;
        fn read(&self, block: BlockNumber) -> Result<Self::ReadGuard<'_>> {
            self.rel.read(block)
        }
        fn begin(&self) -> Self::Write<'_> {
            self.rel.begin()
        }
        fn nblocks(&self) -> BlockNumber {
            self.asked.set(self.asked.get() + 1);
            self.rel.nblocks()
        }
        fn known_blocks(&self) -> BlockNumber {
            self.known
        }
    }

    fn counted(links: &[BlockNumber]) -> Counted {
        let rel = linked(links);
        let known = rel.nblocks();
        Counted {
            rel,
            known,
            asked: Default::default(),
        }
    }

    fn walk_counted(rel: &Counted, start: BlockNumber) -> Result<usize> {
        let mut chain = Chain::new(start);
        while chain.next_page(rel, PageKind::List)?.is_some() {}
        Ok(chain.visited())
    }

    #[test]
    fn a_walk_within_the_known_blocks_asks_no_block_count() {
        let rel = counted(&[2, INVALID_BLOCK, 1]);
        assert_eq!(walk_counted(&rel, 0), Ok(3));
        assert_eq!(rel.asked.get(), 0);
        // A cycle still ends: past the known count the relation is asked, once.
        let rel = counted(&[1, 2, 1]);
        assert_eq!(
            walk_counted(&rel, 0),
            Err(Error::corrupt(0, "list chain has a cycle"))
        );
        assert_eq!(rel.asked.get(), 1);
    }

    #[test]
    fn a_page_of_another_kind_is_corruption() {
        let rel = linked(&[1, INVALID_BLOCK]);
        {
            let mut ws = rel.begin();
            let slot = ws.lock(1).unwrap();
            ws.page_mut(slot).init(PageKind::Centroid);
        }
        assert!(matches!(
            walk(&rel, 0),
            Err(Error::Corrupt { block: 1, .. })
        ));
    }
}
