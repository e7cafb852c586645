//! Likes (POST /like: like or unlike a product for the browser's session) and "for you"
//! (GET /for-you: the session's liked products and recommend_for_profile over them).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use crate::db::{self, DbError, PRODUCT_COLUMNS};
use crate::filters::{FilterForm, Filters};
use crate::ranking::{ranked, Ranker};
use crate::session;
use crate::views::{message, render, status_of, FilterChoices, ForYouPage};
use crate::web::Shop;

#[derive(Deserialize)]
pub struct LikeForm {
    product: String,
    action: String,
    /// The product page's query string, to return to it with the same filters.
    filters: Option<String>,
}

/// Likes or unlikes a product, starting a session if the browser has none, and goes back to the
/// product page.
pub async fn like(
    State(shop): State<Arc<Shop>>,
    headers: HeaderMap,
    Form(form): Form<LikeForm>,
) -> Response {
    let Ok(id) = form.product.parse::<i32>() else {
        return message(
            StatusCode::BAD_REQUEST,
            Some(format!("There is no product {}.", form.product)),
        );
    };
    let (session, new) = match session::from_headers(&headers) {
        Some(s) => (s, false),
        None => match new_session(&shop).await {
            Ok(s) => (s, true),
            Err(e) => return message(status_of(&e), Some(e.explain())),
        },
    };
    let sql = match form.action.as_str() {
        "like" => {
            "INSERT INTO shop_likes (session, product_id)
             SELECT $1::text::uuid, id FROM products WHERE id = $2 ON CONFLICT DO NOTHING RETURNING product_id"
        }
        "unlike" => "DELETE FROM shop_likes WHERE session = $1::text::uuid AND product_id = $2 RETURNING product_id",
        other => return message(StatusCode::BAD_REQUEST, Some(format!("Unknown action \"{other}\"."))),
    };
    if let Err(e) = db::query(&shop.pool, sql, &[&session, &id]).await {
        return message(status_of(&e), Some(e.explain()));
    }
    // Only a query string the shop itself writes goes back into the Location header.
    let filters = form.filters.unwrap_or_default();
    let safe = filters
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"%&=._~+-".contains(&b));
    let location = format!("/product/{id}?{}", if safe { filters.as_str() } else { "" });
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    if new {
        if let Some(cookie) = session::cookie(&session) {
            response.headers_mut().insert(SET_COOKIE, cookie);
        }
    }
    response
}

async fn new_session(shop: &Shop) -> Result<String, DbError> {
    let rows = db::query(&shop.pool, "SELECT gen_random_uuid()::text", &[]).await?;
    Ok(rows
        .first()
        .map(|r| r.try_get(0))
        .transpose()?
        .unwrap_or_default())
}

pub async fn for_you(
    State(shop): State<Arc<Shop>>,
    Query(form): Query<FilterForm>,
    headers: HeaderMap,
) -> Response {
    let filters = Filters::from_form(&form);
    let mut page = ForYouPage {
        notice: filters.problem().map(String::from),
        link_query: filters.query_string(),
        filters: filters.clone(),
        choices: FilterChoices::new(shop.categories().await),
        liked: Vec::new(),
        results: None,
    };
    let Some(session) = session::from_headers(&headers) else {
        if let Some(e) = shop.unreachable().await {
            page.notice = Some(e.explain());
            return render(status_of(&e), &page);
        }
        return render(StatusCode::OK, &page);
    };
    let liked = db::query_products(
        &shop.pool,
        &format!(
            "SELECT {PRODUCT_COLUMNS} FROM (SELECT p.*, NULL::float8 AS score, l.liked_at
               FROM shop_likes l JOIN products p ON p.id = l.product_id
               WHERE l.session = $1::text::uuid) liked ORDER BY liked_at DESC, id"
        ),
        &[&session],
    )
    .await;
    match liked {
        Ok(liked) => page.liked = liked,
        Err(e) => {
            page.notice = Some(e.explain());
            return render(status_of(&e), &page);
        }
    }
    if page.liked.is_empty() || page.notice.is_some() {
        return render(StatusCode::OK, &page);
    }
    let ids: Vec<i32> = page.liked.iter().map(|p| p.id).collect();
    let heading = format!("Recommended from your {} liked products", ids.len());
    match ranked(&shop.pool, Ranker::Profile, &ids, &filters, heading).await {
        Ok(results) => page.results = Some(results),
        Err(e) => page.notice = Some(e.explain()),
    }
    render(StatusCode::OK, &page)
}
