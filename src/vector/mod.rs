//! The `vector` SQL type: pgvector's storage, text and binary formats, operators and aggregates.

mod aggregates;
mod arith;
mod casts;
mod datum;
mod distance;
mod io;

pub use datum::{Vector, VectorArg};

pgrx::extension_sql!("CREATE TYPE vector;", name = "vector_shell", bootstrap);

pgrx::extension_sql_file!(
    "../../sql/vector_type.sql",
    name = "vector_type",
    requires = [
        io::vector_in,
        io::vector_out,
        io::vector_typmod_in,
        io::vector_recv,
        io::vector_send
    ]
);

pgrx::extension_sql_file!(
    "../../sql/vector_operators.sql",
    name = "vector_operators",
    requires = [
        "vector_type",
        io::vector_typmod_coerce,
        distance::l2_distance,
        distance::cosine_distance,
        distance::inner_product,
        distance::vector_negative_inner_product,
        arith::vector_add,
        arith::vector_sub,
        arith::vector_mul,
        arith::vector_dims,
        arith::vector_norm,
        arith::l2_normalize,
        arith::vector_lt,
        arith::vector_le,
        arith::vector_eq,
        arith::vector_ne,
        arith::vector_ge,
        arith::vector_gt,
        arith::vector_cmp,
        casts::real_array_to_vector,
        casts::double_array_to_vector,
        casts::integer_array_to_vector,
        casts::numeric_array_to_vector,
        casts::vector_to_float4,
        casts::vector_to_float8,
        casts::vector_to_int4,
        aggregates::vector_accum,
        aggregates::vector_combine,
        aggregates::vector_avg,
    ]
);
