//! The index's columns besides the vector (`CREATE INDEX ... USING fashrec_ivf (embedding,
//! gender, category, price)`, or with a filter column first, see the README): their values
//! become the crate's attribute keys, and WHERE clauses on them (`=`, `= ANY(...)`, and `<`,
//! `<=`, `>=`, `>` on numbers) become its filter, checked before a row is scored or fetched. Keys may accept a row that does not match (a
//! text hash collision, a numeric rounded to a float), never reject one that does; the scan
//! asks PostgreSQL to recheck the clauses on every row it returns.

use crate::error::raise_error;
use fashrec_ivf::attributes::{bool_key, bytes_key, float_key, int_key};
use fashrec_ivf::{Filter, Test};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// How a column's values become keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Bool,
    Text,
}

impl Kind {
    fn of(type_oid: pg_sys::Oid) -> Option<Kind> {
        Some(match type_oid {
            pg_sys::INT2OID => Kind::Int2,
            pg_sys::INT4OID => Kind::Int4,
            pg_sys::INT8OID => Kind::Int8,
            pg_sys::FLOAT4OID => Kind::Float4,
            pg_sys::FLOAT8OID => Kind::Float8,
            pg_sys::NUMERICOID => Kind::Numeric,
            pg_sys::BOOLOID => Kind::Bool,
            pg_sys::TEXTOID | pg_sys::VARCHAROID => Kind::Text,
            _ => return None,
        })
    }

    /// The key of a non-NULL value of this kind.
    ///
    /// # Safety
    /// `datum` is a value of the column's type.
    unsafe fn key(self, datum: pg_sys::Datum) -> u64 {
        // SAFETY: the caller passes a datum of this kind's type.
        unsafe {
            match self {
                Kind::Int2 => int_key(i64::from(datum.value() as i16)),
                Kind::Int4 => int_key(i64::from(datum.value() as i32)),
                Kind::Int8 => int_key(datum.value() as i64),
                Kind::Float4 => float_key(f64::from(f32::from_bits(datum.value() as u32))),
                Kind::Float8 => float_key(f64::from_bits(datum.value() as u64)),
                Kind::Numeric => {
                    let float = pgrx::direct_function_call::<f64>(
                        pg_sys::numeric_float8_no_overflow,
                        &[Some(datum)],
                    );
                    float_key(float.unwrap_or(f64::NAN))
                }
                Kind::Bool => bool_key(datum.value() != 0),
                Kind::Text => {
                    let text = pg_sys::pg_detoast_datum_packed(datum.cast_mut_ptr());
                    let bytes = std::slice::from_raw_parts(
                        pgrx::varlena::vardata_any(text) as *const u8,
                        pgrx::varlena::varsize_any_exhdr(text),
                    );
                    bytes_key(bytes)
                }
            }
        }
    }
}

/// Which of an index's columns is the vector, and how the others (its filter columns, in
/// order) become keys.
pub struct Columns {
    /// The vector's column, 0-based.
    pub vector: usize,
    /// Each filter column's position among the index's columns and its kind.
    filters: Vec<(usize, Kind)>,
}

impl Columns {
    /// The columns of an open index, checked: ERROR unless exactly one is a vector (the column
    /// whose operator class has a distance function) and every other is of a kind this access
    /// method can filter on.
    pub fn of(index: pg_sys::Relation) -> Columns {
        // SAFETY: an open index has a tuple descriptor with its key columns, their collations
        // and their operator classes' support functions.
        unsafe {
            let natts = (*index).rd_index.as_ref().map_or(1, |i| i.indnkeyatts) as usize;
            let attrs = (*(*index).rd_att).attrs.as_slice(natts);
            let vectors: Vec<usize> = (0..natts)
                .filter(|&i| pg_sys::index_getprocid(index, i as i16 + 1, 1) != pg_sys::InvalidOid)
                .collect();
            let vector = match vectors[..] {
                [one] => one,
                [] => crate::sql_error!(
                    ERRCODE_INVALID_OBJECT_DEFINITION,
                    "a fashrec_ivf index needs a vector column to order by"
                ),
                [_, second, ..] => {
                    let name = std::ffi::CStr::from_ptr(attrs[second].attname.data.as_ptr());
                    crate::sql_error!(
                        ERRCODE_FEATURE_NOT_SUPPORTED,
                        "a fashrec_ivf index orders by one vector; \"{}\" is a second one",
                        name.to_string_lossy()
                    )
                }
            };
            let filters = attrs
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != vector)
                .map(|(i, attr)| (i, Self::kind(index, i, attr)))
                .collect();
            Columns { vector, filters }
        }
    }

    /// The kind of filter column `i`, checked.
    ///
    /// # Safety
    /// `index` is open and `i` is one of its key columns, described by `attr`.
    unsafe fn kind(
        index: pg_sys::Relation,
        i: usize,
        attr: &pg_sys::FormData_pg_attribute,
    ) -> Kind {
        // SAFETY: as documented.
        unsafe {
            let name = std::ffi::CStr::from_ptr(attr.attname.data.as_ptr()).to_string_lossy();
            let Some(kind) = Kind::of(attr.atttypid) else {
                raise_error(
                    PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                    format!("fashrec_ivf cannot filter on column \"{name}\" of this type"),
                    None,
                    Some("columns besides the vector may be text, varchar, smallint, integer, bigint, real, double precision, numeric or boolean"),
                );
            };
            let collation = *(*index).rd_indcollation.add(i);
            if kind == Kind::Text
                && collation != pg_sys::InvalidOid
                && !pg_sys::get_collation_isdeterministic(collation)
            {
                raise_error(
                    PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                    format!("fashrec_ivf cannot filter on column \"{name}\": its collation is nondeterministic"),
                    None,
                    Some("equal strings of a nondeterministic collation may differ in bytes; index the column with a deterministic collation"),
                );
            }
            kind
        }
    }

    /// How many filter columns: the crate's attributes.
    pub fn filters(&self) -> usize {
        self.filters.len()
    }

    /// The keys of one row's filter columns (`None` for NULL).
    ///
    /// # Safety
    /// `values` and `isnull` hold one entry per index column, as PostgreSQL passes them.
    pub unsafe fn row_keys(
        &self,
        values: *const pg_sys::Datum,
        isnull: *const bool,
    ) -> Vec<Option<u64>> {
        // SAFETY: as documented.
        unsafe {
            self.filters
                .iter()
                .map(|&(i, kind)| (!*isnull.add(i)).then(|| kind.key(*values.add(i))))
                .collect()
        }
    }

    /// The filter that the scan keys (WHERE clauses on the filter columns) ask for.
    ///
    /// # Safety
    /// `keys` holds `nkeys` scan keys of this index.
    pub unsafe fn filter(&self, keys: pg_sys::ScanKey, nkeys: i32) -> Filter {
        let mut filter = Filter::new();
        if keys.is_null() {
            return filter;
        }
        // SAFETY: as documented; an array key's argument is an array of the column's type.
        unsafe {
            for key in std::slice::from_raw_parts(keys, nkeys.max(0) as usize) {
                let column = (key.sk_attno as usize).wrapping_sub(1);
                let Some(attribute) = self.filters.iter().position(|&(i, _)| i == column) else {
                    continue;
                };
                // A cross-type operator (`int4_column = int8_value`) compares with a value of
                // its right-hand type: its key is the same number's.
                let column_kind = self.filters[attribute].1;
                let kind = Kind::of(key.sk_subtype).unwrap_or(column_kind);
                if key.sk_flags & pg_sys::SK_ISNULL as i32 != 0 {
                    // `column = NULL` and friends match nothing.
                    filter = filter.and(attribute, Test::AnyOf(Vec::new()));
                    continue;
                }
                let test = if key.sk_flags & pg_sys::SK_SEARCHARRAY as i32 != 0 {
                    Test::AnyOf(array_keys(column_kind, key.sk_argument))
                } else {
                    let at = kind.key(key.sk_argument);
                    // Strategies as btree numbers them; a strict bound is checked as the
                    // inclusive one (keys may round), and PostgreSQL's recheck does the rest.
                    match key.sk_strategy {
                        1 | 2 => Test::AtMost(at),
                        4 | 5 => Test::AtLeast(at),
                        _ => Test::AnyOf(vec![at]),
                    }
                };
                filter = filter.and(attribute, test);
            }
        }
        filter
    }
}

/// The keys of an array's non-NULL elements.
///
/// # Safety
/// `datum` is a non-NULL array of the column's type or of the right-hand type of a cross-type
/// operator of its family.
unsafe fn array_keys(kind: Kind, datum: pg_sys::Datum) -> Vec<u64> {
    // SAFETY: as documented; deconstruct_array palloc's the element arrays in the current
    // memory context, which the scan's outlives only until the filter is built.
    unsafe {
        let array = pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) as *mut pg_sys::ArrayType;
        let element = (*array).elemtype;
        let (mut len, mut byval, mut align) = (0i16, false, 0 as std::ffi::c_char);
        pg_sys::get_typlenbyvalalign(element, &mut len, &mut byval, &mut align);
        let (mut elements, mut nulls, mut n) = (std::ptr::null_mut(), std::ptr::null_mut(), 0);
        pg_sys::deconstruct_array(
            array,
            element,
            len.into(),
            byval,
            align,
            &mut elements,
            &mut nulls,
            &mut n,
        );
        let kind = Kind::of(element).unwrap_or(kind);
        (0..n.max(0) as usize)
            .filter(|&i| !*nulls.add(i))
            .map(|i| kind.key(*elements.add(i)))
            .collect()
    }
}
