//! In-server tests (`cargo pgrx test pg15`). The fresh-backend SQL tests are in tests/sql.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    fn one<T: IntoDatum + FromDatum>(sql: &str) -> Option<T> {
        Spi::get_one::<T>(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    #[pg_test]
    fn l2_distance_matches_pgvector() {
        assert_eq!(
            one::<f64>("SELECT '[1,2,3]'::vector <-> '[3,2,1]'"),
            Some(2.8284271247461903)
        );
    }

    #[pg_test]
    fn text_round_trip() {
        assert_eq!(
            one::<String>("SELECT ' [ 1, 2.5 ,-3e-5 ] '::vector::text").as_deref(),
            Some("[1,2.5,-3e-05]")
        );
    }

    #[pg_test]
    fn typmod_enforced_on_columns() {
        Spi::run("CREATE TABLE t (v vector(3))").unwrap();
        Spi::run("INSERT INTO t VALUES ('[1,2,3]')").unwrap();
        assert_eq!(one::<i32>("SELECT vector_dims(v) FROM t"), Some(3));
    }

    #[pg_test(error = "expected 3 dimensions, not 2")]
    fn typmod_rejects_wrong_dims() {
        Spi::run("SELECT '[1,2]'::vector(3)").unwrap();
    }

    #[pg_test(error = "different vector dimensions 2 and 3")]
    fn distance_rejects_mixed_dims() {
        Spi::run("SELECT '[1,2]'::vector <-> '[1,2,3]'").unwrap();
    }

    #[pg_test]
    fn aggregates() {
        assert_eq!(
            one::<String>("SELECT avg(v)::text FROM (VALUES ('[1,2]'::vector), ('[3,6]')) t(v)")
                .as_deref(),
            Some("[2,4]")
        );
        assert_eq!(
            one::<String>("SELECT sum(v)::text FROM (VALUES ('[1,2]'::vector), ('[3,6]')) t(v)")
                .as_deref(),
            Some("[4,8]")
        );
    }
}
