//! One ranked list from one of the extension's recommendation functions, with the shopper's
//! filters: gender mode and category as the function's arguments, the price range on its best
//! matches (the functions take no price).

use deadpool_postgres::Pool;
use tokio_postgres::types::ToSql;

use crate::db::{self, DbError, PRODUCT_COLUMNS};
use crate::filters::{Filters, PAGE};
use crate::views::Results;

/// The extension's functions that rank products, each `f(input, k, for_gender, in_category)`,
/// with the SQL type of its input.
#[derive(Clone, Copy)]
pub enum Ranker {
    Text,
    Image,
    Similar,
    Profile,
}

impl Ranker {
    fn call(self) -> &'static str {
        match self {
            Ranker::Text => "recommend_for_text($1::text",
            Ranker::Image => "recommend_for_image($1::bytea",
            Ranker::Similar => "recommend_similar($1::int",
            Ranker::Profile => "recommend_for_profile($1::int[]",
        }
    }
}

/// The ranked products for `input`, best first, at most a page; an empty list carries the
/// reason (see Filters::why_empty).
pub async fn ranked(
    pool: &Pool,
    ranker: Ranker,
    input: &(dyn ToSql + Sync),
    filters: &Filters,
    heading: String,
) -> Result<Results, DbError> {
    // WITH ORDINALITY keeps the function's order through the price filter.
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM {}, $2::int, $3::text, $4::text) WITH ORDINALITY AS r
         WHERE ($5::float8 IS NULL OR r.price >= $5) AND ($6::float8 IS NULL OR r.price <= $6)
         ORDER BY r.ordinality LIMIT {PAGE}",
        ranker.call()
    );
    let params: [&(dyn ToSql + Sync); 6] = [
        input,
        &filters.depth(),
        &filters.preference(),
        &filters.in_category(),
        &filters.min_price(),
        &filters.max_price(),
    ];
    let products = db::query_products(pool, &sql, &params).await?;
    let empty_reason = if products.is_empty() {
        filters.why_empty(pool).await?
    } else {
        String::new()
    };
    Ok(Results {
        heading,
        products,
        empty_reason,
    })
}
