//! Everything that can go wrong in the index, as values the extension turns into SQL errors.

use crate::block::BlockNumber;

/// An index operation failed; nothing here is a bug in the caller's data flow except `Corrupt`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A vector's length differs from the index's.
    #[error("expected {expected} dimensions, not {actual}")]
    DimensionMismatch { expected: u32, actual: usize },

    /// A vector holds NaN or infinity, which no distance can order.
    #[error("vector element {index} is not finite")]
    NotFinite { index: usize },

    /// A vector is too long for one item to fit on a page.
    #[error("vectors of {dims} dimensions do not fit on a page; at most {max} are supported")]
    TooManyDimensions { dims: usize, max: usize },

    /// A build or scan option is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),

    /// The build would need more memory than it was given.
    #[error("building needs {required} bytes of memory but only {budget} are allowed")]
    MemoryBudget { required: usize, budget: usize },

    /// A page does not hold what the index expects there.
    #[error("index block {block} is corrupt: {reason}")]
    Corrupt { block: BlockNumber, reason: String },

    /// A block number past the end of the relation.
    #[error("block {block} is past the end of the index ({nblocks} blocks)")]
    BlockOutOfRange {
        block: BlockNumber,
        nblocks: BlockNumber,
    },

    /// A write set asked for more pages than one WAL record may hold.
    #[error("one atomic change may touch at most {max} pages")]
    TooManyPages { max: usize },

    /// The relation cannot grow any further.
    #[error("the index cannot hold more than {max} blocks")]
    RelationFull { max: BlockNumber },
}

impl Error {
    /// A `Corrupt` error for `block`.
    pub(crate) fn corrupt(block: BlockNumber, reason: impl Into<String>) -> Self {
        Error::Corrupt {
            block,
            reason: reason.into(),
        }
    }
}

/// Result with this crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
