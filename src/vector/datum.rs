//! How a vector lies in PostgreSQL memory: pgvector's layout, a 4-byte varlena header, int16
//! dimensions, int16 unused, then float4 elements.

use pgrx::callconv::{Arg, ArgAbi, BoxRet, FcInfo};
use pgrx::datum::{Datum, FromDatum, IntoDatum};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Bytes before the first element.
const HEADER: usize = 8;

/// A vector argument: a view of the detoasted value, valid for the current call.
pub struct VectorArg<'a>(&'a [f32]);

/// A vector to return, built in Rust.
pub struct Vector(pub Vec<f32>);

impl<'a> VectorArg<'a> {
    /// The elements.
    pub fn as_slice(&self) -> &'a [f32] {
        self.0
    }
}

impl FromDatum for VectorArg<'_> {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _: pg_sys::Oid,
    ) -> Option<Self> {
        if is_null {
            return None;
        }
        // SAFETY: a non-null datum of type vector points to a varlena; detoasting yields one with a
        // 4-byte header, int4-aligned (the type's alignment), allocated for at least this call.
        unsafe {
            let ptr = pg_sys::pg_detoast_datum(datum.cast_mut_ptr::<pg_sys::varlena>());
            let size = pgrx::varsize_any(ptr);
            let dims = ptr.cast::<u8>().add(4).cast::<i16>().read();
            if size < HEADER || usize::try_from(dims).ok() != Some((size - HEADER) / 4) {
                crate::sql_error!(
                    ERRCODE_DATA_CORRUPTED,
                    "corrupt vector value: header says {dims} dimensions in {size} bytes"
                );
            }
            let data = ptr.cast::<u8>().add(HEADER).cast::<f32>();
            Some(VectorArg(std::slice::from_raw_parts(
                data,
                (size - HEADER) / 4,
            )))
        }
    }
}

impl IntoDatum for Vector {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        let size = HEADER + 4 * self.0.len();
        // SAFETY: palloc0 returns `size` zeroed bytes in the current memory context (or raises an
        // ERROR); we write the header and elements inside them. Lengths are checked to be at most
        // MAX_DIM before a Vector is built, so the i16 and i32 casts cannot wrap.
        unsafe {
            let ptr = pg_sys::palloc0(size).cast::<u8>();
            pgrx::set_varsize_4b(ptr.cast(), size as i32);
            ptr.add(4).cast::<i16>().write(self.0.len() as i16);
            std::ptr::copy_nonoverlapping(
                self.0.as_ptr(),
                ptr.add(HEADER).cast::<f32>(),
                self.0.len(),
            );
            Some(pg_sys::Datum::from(ptr))
        }
    }

    fn type_oid() -> pg_sys::Oid {
        pgrx::wrappers::regtypein("vector")
    }
}

unsafe impl<'fcx> ArgAbi<'fcx> for VectorArg<'fcx> {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // SAFETY: pgrx calls this only for a vector argument, which strictness makes non-null.
        unsafe { arg.unbox_arg_using_from_datum() }.unwrap_or_else(|| {
            crate::sql_error!(
                ERRCODE_NULL_VALUE_NOT_ALLOWED,
                "argument {index} must not be null"
            )
        })
    }
}

unsafe impl BoxRet for Vector {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        match self.into_datum() {
            // SAFETY: the datum was just allocated in the function's memory context.
            Some(datum) => unsafe { fcinfo.return_raw_datum(datum) },
            None => fcinfo.return_null(),
        }
    }
}

impl_sql_translatable!(VectorArg<'_>, arg_only = "vector");
impl_sql_translatable!(Vector, "vector");
