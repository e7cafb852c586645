//! Block numbers: where a page lives in the relation, exactly as PostgreSQL numbers them.
//! The bottom of the crate: every other module may use it, it uses none.

/// A page address inside the relation.
pub type BlockNumber = u32;

/// "No block": the end of a chain, or a list head not set yet.
pub const INVALID_BLOCK: BlockNumber = u32::MAX;
