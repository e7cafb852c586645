//! A product's page (GET /product/{id}: description, like button, similar products from
//! recommend_similar) and its picture (GET /image/{id}, the catalog's image bytes).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::db::{self, Product, PRODUCT_COLUMNS};
use crate::filters::{FilterForm, Filters};
use crate::ranking::{ranked, Ranker};
use crate::session;
use crate::views::{message, render, status_of, Detail, ProductPage};
use crate::web::Shop;

pub async fn page(
    State(shop): State<Arc<Shop>>,
    Path(id): Path<String>,
    Query(form): Query<FilterForm>,
    headers: HeaderMap,
) -> Response {
    let Ok(id) = id.parse::<i32>() else {
        return no_product(id);
    };
    let filters = Filters::from_form(&form);
    let mut page = ProductPage {
        notice: filters.problem().map(String::from),
        detail: None,
        results: None,
        link_query: filters.query_string(),
    };
    let session = session::from_headers(&headers);
    let rows = db::query(
        &shop.pool,
        &format!(
            "SELECT {PRODUCT_COLUMNS}, description, liked FROM (
               SELECT p.*, NULL::float8 AS score, EXISTS (SELECT FROM shop_likes l
                 WHERE l.session = $2::text::uuid AND l.product_id = p.id) AS liked
               FROM products p WHERE p.id = $1) product"
        ),
        &[&id, &session],
    )
    .await;
    let row = match rows {
        Ok(rows) => match rows.into_iter().next() {
            Some(row) => row,
            None => return no_product(id),
        },
        Err(e) => return message(status_of(&e), Some(e.explain())),
    };
    let detail = (|| -> Result<Detail, tokio_postgres::Error> {
        Ok(Detail {
            product: Product::from_row(&row)?,
            description: row.try_get(6)?,
            liked: row.try_get(7)?,
        })
    })();
    match detail {
        Ok(detail) => page.detail = Some(detail),
        Err(e) => return message(StatusCode::INTERNAL_SERVER_ERROR, Some(e.to_string())),
    }
    let heading = "Similar products".to_string();
    match ranked(&shop.pool, Ranker::Similar, &id, &filters, heading).await {
        Ok(results) => page.results = Some(results),
        Err(e) => page.notice = Some(e.explain()),
    }
    render(StatusCode::OK, &page)
}

fn no_product(id: impl std::fmt::Display) -> Response {
    message(
        StatusCode::NOT_FOUND,
        Some(format!("There is no product {id}.")),
    )
}

/// The product's picture as stored (the catalog's 28x28 PNG); the page scales it up, pixelated.
pub async fn image(State(shop): State<Arc<Shop>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i32>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match db::query(
        &shop.pool,
        "SELECT image FROM products WHERE id = $1",
        &[&id],
    )
    .await
    {
        Ok(rows) => match rows.first().map(|r| r.try_get::<_, Vec<u8>>(0)) {
            Some(Ok(bytes)) => (
                [
                    (CONTENT_TYPE, content_type(&bytes)),
                    (CACHE_CONTROL, "public, max-age=3600"),
                ],
                bytes,
            )
                .into_response(),
            Some(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        Err(e) => (status_of(&e), e.explain()).into_response(),
    }
}

/// The image type by its first bytes (the catalog stores PNG; a loader may store JPEG).
fn content_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else {
        "application/octet-stream"
    }
}
