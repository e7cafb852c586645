//! The type's input/output functions: text, binary, typmod, and the `vector(n)` length check.

use super::{Vector, VectorArg};
use crate::error::{raise, OrRaise};
use fashrec_vector::{
    check_typmod, check_typmod_value, decode_binary, encode_binary, format_text, parse_text,
};
use pgrx::datum::Internal;
use pgrx::pg_sys;
use pgrx::prelude::*;
use std::ffi::{CStr, CString};

/// Text input: `[1,2,3]`.
#[pg_extern(immutable, strict, parallel_safe)]
fn vector_in(input: &CStr, _oid: pg_sys::Oid, typmod: i32) -> Vector {
    let text = input.to_str().unwrap_or_else(|_| {
        crate::sql_error!(
            ERRCODE_INVALID_TEXT_REPRESENTATION,
            "invalid input syntax for type vector: not valid UTF-8"
        )
    });
    Vector(parse_text(text, typmod).or_raise())
}

/// Text output, shortest round-tripping floats.
#[pg_extern(immutable, strict, parallel_safe)]
fn vector_out(v: VectorArg) -> CString {
    // Formatted numbers never contain a NUL byte.
    CString::new(format_text(v.as_slice())).unwrap_or_default()
}

/// Parses the `n` of `vector(n)`.
#[pg_extern(immutable, strict, parallel_safe)]
fn vector_typmod_in(list: Array<&CStr>) -> i32 {
    let mods: Vec<Option<&CStr>> = list.iter().collect();
    let [Some(only)] = mods.as_slice() else {
        crate::sql_error!(
            ERRCODE_INVALID_PARAMETER_VALUE,
            "invalid type modifier: vector takes one dimension count, as in vector(64)"
        )
    };
    let n: i32 = only
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            crate::sql_error!(
                ERRCODE_INVALID_PARAMETER_VALUE,
                "invalid type modifier: {only:?} is not an integer"
            )
        });
    check_typmod_value(n).or_raise()
}

/// Binary input (pgvector's wire format).
#[pg_extern(immutable, strict, parallel_safe)]
fn vector_recv(mut buf: Internal, _oid: pg_sys::Oid, typmod: i32) -> Vector {
    // SAFETY: PostgreSQL passes a StringInfo holding the message as this function's first argument.
    let Some(buf) = (unsafe { buf.get_mut::<pg_sys::StringInfoData>() }) else {
        crate::sql_error!(
            ERRCODE_INTERNAL_ERROR,
            "vector_recv called without a message buffer"
        )
    };
    let (start, end) = (buf.cursor.max(0) as usize, buf.len.max(0) as usize);
    // SAFETY: `data` holds `len` bytes and `cursor` lies within them.
    let bytes = unsafe {
        std::slice::from_raw_parts(buf.data.cast::<u8>().add(start), end.saturating_sub(start))
    };
    let values = decode_binary(bytes, typmod).or_raise();
    buf.cursor = buf.len;
    Vector(values)
}

/// Binary output.
#[pg_extern(immutable, strict, parallel_safe)]
fn vector_send(v: VectorArg) -> Vec<u8> {
    encode_binary(v.as_slice())
}

/// The cast that enforces a column's `vector(n)`.
#[pg_extern(immutable, strict, parallel_safe, name = "vector", requires = ["vector_type"])]
fn vector_typmod_coerce(v: VectorArg, typmod: i32, _explicit: bool) -> Vector {
    if let Err(err) = check_typmod(typmod, v.as_slice().len()) {
        raise(err)
    }
    Vector(v.as_slice().to_vec())
}
