//! Inserting one row: into the list of its nearest centroid, on the first page with room; in
//! an index with codes, its code into the list's code chain in the same atomic change.
//!
//! Safe beside concurrent inserts and scans: the pages that get the items are locked
//! exclusively while they change, and a chain grows only by linking a new, already initialised
//! page from the chain's last page in the change that fills it, while that last page is
//! locked, so two inserts cannot both extend the same chain and a scan never meets a
//! half-linked page. The vector and its code are committed together (at most four pages: a
//! list page, a new list page, a code page, a new code page), so a crash never leaves a row
//! without its code, which a scan would miss, nor a code without its row.
//!
//! In an index with list summaries the row is counted in its list's summary first, in a change
//! of its own (see [`crate::summary`]).
//!
//! Locks follow the crate's order: the list page (walked from the insert hint, one exclusive
//! lock at a time until one has room or is the last), then the code page (found by a walk
//! under shared locks, then locked), then the new pages. Inserts into one list take the list
//! page first, so none waits for a list page while holding a code page.

use crate::block::{BlockNumber, INVALID_BLOCK};
use crate::build::{check_attributes, stored_row};
use crate::centroids::{code_head, nearest_list, update_insert_block, Chained, ListHead};
use crate::chain::Chain;
use crate::error::{Error, Result};
use crate::item::{CodeItem, ItemHeader, RowItem, Tid};
use crate::meta::Meta;
use crate::page::{Element, Layout, PageKind};
use crate::quantizer::{CodeTerms, Quantizer};
use crate::storage::{Relation, WriteSet};
use crate::summary::{self, Change};

/// Adds the row `tid` with `vector` to an index without attributes.
pub fn insert<R: Relation>(rel: &R, tid: Tid, vector: &[f32]) -> Result<()> {
    insert_with_attributes(rel, tid, vector, &[])
}

/// Adds the row `tid` with `vector` and its attributes (`None` is NULL, as many as the index
/// stores) to the index.
pub fn insert_with_attributes<R: Relation>(
    rel: &R,
    tid: Tid,
    vector: &[f32],
    attributes: &[Option<u64>],
) -> Result<()> {
    let meta = Meta::read(rel)?;
    check_attributes(&meta, attributes)?;
    let mut stored = Vec::new();
    crate::attributes::encode(attributes, &mut stored);
    let mut prepared = Vec::with_capacity(meta.dims as usize);
    let nonzero = meta.prepare(vector, &mut prepared)?;
    let row = RowItem::new(tid, !nonzero);
    let (list, head) = nearest_list(rel, &meta, &prepared)?;
    // Counted first, in its own change: a crash before the row is stored leaves the summary
    // claiming a row too many, never one too few (see `crate::summary`).
    if let Some(region) = &meta.summaries {
        summary::apply(rel, region, list, &stored, stored.len(), Change::Add)?;
    }
    let mut values = Vec::new();
    stored_row(&mut values, &prepared, &stored);
    let code = match meta.codes {
        Some(region) => {
            let mut code = Vec::with_capacity(meta.dims as usize);
            let terms = Quantizer::read(rel, &meta)?.encode(&prepared, &mut code);
            code.extend_from_slice(&stored);
            Some(NewCode {
                code,
                terms,
                head: code_head(rel, &meta, list)?,
                layout: region.layout,
            })
        }
        None => None,
    };
    loop {
        let (mut ws, vectors) = lock_list_page(rel, &meta, head)?;
        let codes = match &code {
            Some(new) => match lock_code_page(rel, &mut ws, &new.layout, new.head)? {
                Some(target) => Some(target),
                // Filled and extended by another insert meanwhile: start again (nothing was
                // changed).
                None => continue,
            },
            None => None,
        };
        // Every page is locked and has room or is a last page to extend: from here on nothing
        // fails but extending, which comes before any change.
        let vectors = vectors.place(&mut ws)?;
        let codes = codes.map(|target| target.place(&mut ws)).transpose()?;
        vectors.add(&mut ws, &meta.layout, PageKind::List, row, &values);
        if let (Some(place), Some(new)) = (&codes, &code) {
            let item = CodeItem {
                row,
                vector_block: vectors.block,
                terms: new.terms,
            };
            place.add(&mut ws, &new.layout, PageKind::Code, item, &new.code);
        }
        ws.commit();
        advance_hint(
            rel,
            &meta,
            list,
            Chained::Vectors,
            head.insert,
            vectors.block,
        )?;
        if let (Some(place), Some(new)) = (codes, &code) {
            advance_hint(
                rel,
                &meta,
                list,
                Chained::Codes,
                new.head.insert,
                place.block,
            )?;
        }
        return Ok(());
    }
}

/// A row's code, ready for its list's code chain.
struct NewCode {
    code: Vec<u8>,
    terms: CodeTerms,
    /// The code chain's head when the insert began.
    head: ListHead,
    layout: Layout<CodeItem, u8>,
}

/// Where an item goes: a locked page with room, or a chain's locked last page, full.
enum Target {
    Room(usize),
    Extend(usize),
}

impl Target {
    /// Extends the relation if the item needs a new page.
    fn place<W: WriteSet>(self, ws: &mut W) -> Result<Place> {
        Ok(match self {
            Target::Room(slot) => Place {
                slot,
                block: ws.block(slot),
                after: None,
            },
            Target::Extend(last) => {
                let (slot, block) = ws.extend()?;
                Place {
                    slot,
                    block,
                    after: Some(last),
                }
            }
        })
    }
}

/// The page an item goes to, and for a new page, the last page it is linked from.
struct Place {
    slot: usize,
    block: BlockNumber,
    after: Option<usize>,
}

impl Place {
    /// Puts the item on its page. The page was checked to have room and `values` has the
    /// layout's length, so this cannot fail.
    fn add<W: WriteSet, H: ItemHeader, T: Element>(
        &self,
        ws: &mut W,
        layout: &Layout<H, T>,
        kind: PageKind,
        header: H,
        values: &[T],
    ) {
        let page = ws.page_mut(self.slot);
        if let Some(last) = self.after {
            page.init(kind);
            page.push_item(layout, header, values);
            ws.page_mut(last).set_next(self.block);
        } else {
            page.push_item(layout, header, values);
        }
    }
}

/// Walks the list chain from the insert hint, locking one page at a time, to the first page
/// with room or the last page; returns the change holding it.
fn lock_list_page<'r, R: Relation>(
    rel: &'r R,
    meta: &Meta,
    head: ListHead,
) -> Result<(R::Write<'r>, Target)> {
    let mut chain = Chain::new(start_of(head));
    while let Some(block) = chain.step(rel)? {
        let mut ws = rel.begin();
        let slot = ws.lock(block)?;
        let page = ws.page(slot);
        page.expect_kind(PageKind::List, block)?;
        if page.has_room(&meta.layout) {
            return Ok((ws, Target::Room(slot)));
        }
        let next = page.next();
        if next == INVALID_BLOCK {
            return Ok((ws, Target::Extend(slot)));
        }
        chain.follow(next);
    }
    Err(Error::corrupt(head.first, "list has no pages"))
}

/// Finds the code chain's first page with room (or its last page) under shared locks, then
/// locks it in `ws`; `None` if it filled up and gained a next page meanwhile.
fn lock_code_page<R: Relation, W: WriteSet>(
    rel: &R,
    ws: &mut W,
    layout: &Layout<CodeItem, u8>,
    head: ListHead,
) -> Result<Option<Target>> {
    let mut chain = Chain::new(start_of(head));
    let mut found = None;
    while let Some((block, page)) = chain.next_page(rel, PageKind::Code)? {
        if page.has_room(layout) || page.next() == INVALID_BLOCK {
            found = Some(block);
            break;
        }
    }
    let Some(block) = found else {
        return Err(Error::corrupt(head.first, "code chain has no pages"));
    };
    let slot = ws.lock(block)?;
    let page = ws.page(slot);
    page.expect_kind(PageKind::Code, block)?;
    Ok(if page.has_room(layout) {
        Some(Target::Room(slot))
    } else if page.next() == INVALID_BLOCK {
        Some(Target::Extend(slot))
    } else {
        None
    })
}

/// Where a walk for room starts: the insert hint, or the first page before the build set it.
fn start_of(head: ListHead) -> BlockNumber {
    if head.insert == INVALID_BLOCK {
        head.first
    } else {
        head.insert
    }
}

/// Points a chain's insert block at `block` if the item went past the hint and no one moved
/// the hint meanwhile (a vacuum moving it back to free space wins).
fn advance_hint<R: Relation>(
    rel: &R,
    meta: &Meta,
    list: u32,
    chain: Chained,
    seen: BlockNumber,
    block: BlockNumber,
) -> Result<()> {
    if block == seen {
        return Ok(());
    }
    update_insert_block(rel, meta, list, chain, |head| {
        (head.insert == seen).then_some(block)
    })
}
