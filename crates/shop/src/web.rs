//! The routes, the state they share and what every response carries.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use deadpool_postgres::Pool;

use crate::db::{self, DbError};
use crate::{likes, product, search, timing};

/// What the handlers share: the pool, and the catalog's categories once read.
pub struct Shop {
    pub pool: Pool,
    categories: OnceLock<Vec<String>>,
}

impl Shop {
    /// The categories for the filter select (empty while the database cannot be read).
    pub async fn categories(&self) -> Vec<String> {
        if let Some(c) = self.categories.get() {
            return c.clone();
        }
        match db::query(
            &self.pool,
            "SELECT DISTINCT category FROM products ORDER BY 1",
            &[],
        )
        .await
        {
            Ok(rows) => {
                let found: Vec<String> = rows.iter().filter_map(|r| r.try_get(0).ok()).collect();
                self.categories.get_or_init(|| found).clone()
            }
            Err(_) => Vec::new(),
        }
    }

    /// Why no connection can be had now, if so.
    pub async fn unreachable(&self) -> Option<DbError> {
        self.pool.get().await.err().map(DbError::from)
    }
}

pub fn router(pool: Pool) -> Router {
    let shop = Arc::new(Shop {
        pool,
        categories: OnceLock::new(),
    });
    Router::new()
        .route("/", get(search::words))
        .route(
            "/photo",
            // Room for the form's other fields; the photo itself is capped at MAX_PHOTO.
            post(search::photo).layer(DefaultBodyLimit::max(search::MAX_PHOTO + 64 * 1024)),
        )
        .route("/product/{id}", get(product::page))
        .route("/image/{id}", get(product::image))
        .route("/like", post(likes::like))
        .route("/for-you", get(likes::for_you))
        .route(
            "/static/shop.css",
            get(|| asset("text/css", include_str!("../static/shop.css"))),
        )
        .route(
            "/static/shop.js",
            get(|| asset("text/javascript", include_str!("../static/shop.js"))),
        )
        .layer(middleware::from_fn(headers))
        .with_state(shop)
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// Adds to every response the time the shop took (Server-Timing, read by the load test: the whole
/// handler, then its waits for a pooled connection and its queries) and headers that keep the
/// pages to their own scripts and styles.
async fn headers(request: Request, next: Next) -> Response {
    let began = Instant::now();
    let (mut response, spent) = timing::measured(next.run(request)).await;
    let took = began.elapsed().as_secs_f64() * 1000.0;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("app;dur={took:.2}, {spent}")) {
        headers.insert(HeaderName::from_static("server-timing"), value);
    }
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    response
}
