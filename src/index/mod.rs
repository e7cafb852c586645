//! The `fashrec_ivf` index access method: the ivf crate's IVF-flat index on PostgreSQL pages.
//! One file per life-cycle step; `storage.rs` is the only one that touches buffers.

mod am;
mod attributes;
mod build;
mod cost;
mod functions;
pub mod gucs;
mod insert;
pub mod options;
mod scan;
mod searchers;
mod storage;
mod vacuum;

use crate::vector::VectorArg;
use fashrec_ivf::Metric;
use pgrx::datum::FromDatum;
use pgrx::pg_sys;

pgrx::extension_sql_file!(
    "../../sql/index.sql",
    name = "index_am",
    requires = [
        "vector_operators",
        am::fashrec_ivf_amhandler,
        functions::fashrec_ivf_info,
        functions::fashrec_ivf_lists,
        functions::fashrec_ivf_check
    ]
);

/// The elements of a non-null vector datum (detoasted into the current memory context).
fn vector_of<'a>(datum: pg_sys::Datum) -> &'a [f32] {
    // SAFETY: the index's only column is a vector, and callers skip NULLs.
    match unsafe { VectorArg::from_polymorphic_datum(datum, false, pg_sys::InvalidOid) } {
        Some(v) => v.as_slice(),
        None => crate::sql_error!(
            ERRCODE_INTERNAL_ERROR,
            "fashrec_ivf: unexpected NULL vector"
        ),
    }
}

/// The metric an index orders by, from its vector column's operator class's distance function.
fn metric_of(index: pg_sys::Relation, column: usize) -> Metric {
    // SAFETY: the vector column of an index of this access method has support function 1.
    let name = unsafe {
        let proc = pg_sys::index_getprocid(index, column as i16 + 1, 1);
        let name = pg_sys::get_func_name(proc);
        if name.is_null() {
            crate::sql_error!(
                ERRCODE_INVALID_OBJECT_DEFINITION,
                "a fashrec_ivf index needs a vector column to order by"
            )
        }
        std::ffi::CStr::from_ptr(name)
            .to_string_lossy()
            .into_owned()
    };
    match name.as_str() {
        "l2_distance" => Metric::L2,
        "cosine_distance" => Metric::Cosine,
        "vector_negative_inner_product" => Metric::InnerProduct,
        other => crate::sql_error!(
            ERRCODE_INVALID_OBJECT_DEFINITION,
            "fashrec_ivf: unsupported distance function {other}"
        ),
    }
}
