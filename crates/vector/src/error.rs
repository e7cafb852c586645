use std::fmt;

/// Everything that can be wrong with a vector; messages follow pgvector's wording.
#[derive(Debug, Clone, PartialEq)]
pub enum VectorError {
    /// Text that is not `[x, y, ...]`; carries the input and an optional detail.
    Syntax {
        input: String,
        detail: Option<&'static str>,
    },
    /// A number too large for a 4-byte float; carries the token.
    OutOfRange(String),
    NaN,
    Infinite,
    Empty,
    TooManyDims(usize),
    DimsMismatch {
        expected: usize,
        got: usize,
    },
    DifferentDims(usize, usize),
    Overflow,
    Underflow,
    TypmodTooSmall,
    TypmodTooLarge,
    /// A binary value whose length does not match its header.
    BinaryLength {
        dims: usize,
        bytes: usize,
    },
    BinaryUnused(i16),
}

impl fmt::Display for VectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax { input, .. } => write!(f, "invalid input syntax for type vector: \"{input}\""),
            Self::OutOfRange(token) => write!(f, "\"{token}\" is out of range for type vector"),
            Self::NaN => write!(f, "NaN not allowed in vector"),
            Self::Infinite => write!(f, "infinite value not allowed in vector"),
            Self::Empty => write!(f, "vector must have at least 1 dimension"),
            Self::TooManyDims(n) => {
                write!(f, "vector cannot have more than {} dimensions (got {n})", crate::MAX_DIM)
            }
            Self::DimsMismatch { expected, got } => write!(f, "expected {expected} dimensions, not {got}"),
            Self::DifferentDims(a, b) => write!(f, "different vector dimensions {a} and {b}"),
            Self::Overflow => write!(f, "value out of range: overflow"),
            Self::Underflow => write!(f, "value out of range: underflow"),
            Self::TypmodTooSmall => write!(f, "dimensions for type vector must be at least 1"),
            Self::TypmodTooLarge => {
                write!(f, "dimensions for type vector cannot exceed {}", crate::MAX_DIM)
            }
            Self::BinaryLength { dims, bytes } => write!(
                f,
                "invalid binary vector: header says {dims} dimensions ({} bytes) but {bytes} bytes follow",
                dims * 4
            ),
            Self::BinaryUnused(n) => write!(f, "expected unused to be 0, not {n}"),
        }
    }
}

impl VectorError {
    /// Extra detail for the ERROR, where one helps the user fix the input.
    pub fn detail(&self) -> Option<&'static str> {
        match self {
            Self::Syntax { detail, .. } => *detail,
            _ => None,
        }
    }

    /// Whether this is a complaint about the input's form (SQLSTATE 22P02) rather than its values.
    pub fn is_syntax(&self) -> bool {
        matches!(self, Self::Syntax { .. })
    }
}

impl std::error::Error for VectorError {}
