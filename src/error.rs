//! Turns the crates' errors into SQL ERRORs with the right SQLSTATE.

use fashrec_vector::VectorError;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

/// Raises `err` as an ERROR; the transaction aborts and the connection lives on.
pub fn raise(err: VectorError) -> ! {
    let code = match err {
        VectorError::Syntax { .. } => PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
        VectorError::OutOfRange(_) | VectorError::Overflow | VectorError::Underflow => {
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE
        }
        VectorError::TooManyDims(_) => PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        VectorError::TypmodTooSmall | VectorError::TypmodTooLarge => {
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE
        }
        VectorError::BinaryLength { .. } | VectorError::BinaryUnused(_) => {
            PgSqlErrorCode::ERRCODE_INVALID_BINARY_REPRESENTATION
        }
        VectorError::NaN
        | VectorError::Infinite
        | VectorError::Empty
        | VectorError::DimsMismatch { .. }
        | VectorError::DifferentDims(..) => PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
    };
    raise_error(code, err.to_string(), err.detail(), None)
}

/// Raises an ERROR with an optional detail and hint; the transaction aborts and the connection
/// lives on.
pub fn raise_error(
    code: PgSqlErrorCode,
    message: String,
    detail: Option<&str>,
    hint: Option<&str>,
) -> ! {
    let mut report = ErrorReport::new(code, message, pgrx::function_name!());
    if let Some(detail) = detail {
        report = report.set_detail(detail);
    }
    if let Some(hint) = hint {
        report = report.set_hint(hint);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("an ERROR report does not return")
}

/// `result.or_raise()`: the value, or an ERROR.
pub trait OrRaise<T> {
    fn or_raise(self) -> T;
}

impl<T> OrRaise<T> for Result<T, VectorError> {
    fn or_raise(self) -> T {
        self.unwrap_or_else(|err| raise(err))
    }
}

/// Raises an index error as an ERROR, with a hint where the user can fix it.
pub fn raise_ivf(err: fashrec_ivf::Error) -> ! {
    use fashrec_ivf::Error as E;
    let (code, hint) = match &err {
        E::DimensionMismatch { .. } | E::NotFinite { .. } => (PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, None),
        E::TooManyDimensions { .. } | E::RelationFull { .. } => (PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED, None),
        E::InvalidOption(_) => (PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, None),
        E::MemoryBudget { .. } => (
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            Some("Raise maintenance_work_mem (SET maintenance_work_mem = '1GB'), or use fewer lists."),
        ),
        E::Corrupt { .. } | E::BlockOutOfRange { .. } | E::TooManyPages { .. } => {
            (PgSqlErrorCode::ERRCODE_INDEX_CORRUPTED, Some("REINDEX the index."))
        }
    };
    raise_error(code, format!("fashrec_ivf: {err}"), None, hint)
}

/// Raises an embedding failure as an ERROR naming what is wrong with the input.
pub fn raise_embed(err: fashrec_embed::EmbedError) -> ! {
    use fashrec_embed::EmbedError as E;
    let code = match err {
        E::Decode(_) | E::Preprocess(_) => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        E::Model(_) => PgSqlErrorCode::ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
    };
    raise_error(code, err.to_string(), None, None)
}

/// `sql_error!(ERRCODE_..., "format {args}")`: raises an ERROR with that SQLSTATE.
#[macro_export]
macro_rules! sql_error {
    ($code:ident, $($message:tt)+) => {
        $crate::error::raise_error(pgrx::PgSqlErrorCode::$code, format!($($message)+), None, None)
    };
}
