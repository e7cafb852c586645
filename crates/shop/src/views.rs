//! The pages, as compiled templates (templates/*.html, HTML-escaped by askama), and how one
//! becomes a response.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::db::{DbError, Product};
use crate::filters::{Filters, GENDER_MODES};

/// A list of ranked products with its heading, or the sentence saying why it is empty.
pub struct Results {
    pub heading: String,
    pub products: Vec<Product>,
    pub empty_reason: String,
}

/// The gender modes and categories a filter form offers.
pub struct FilterChoices {
    pub genders: &'static [(&'static str, &'static str)],
    pub categories: Vec<String>,
}

impl FilterChoices {
    pub fn new(categories: Vec<String>) -> Self {
        FilterChoices {
            genders: &GENDER_MODES,
            categories,
        }
    }
}

/// The storefront: the search and upload forms and, after a query, its results.
#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub notice: Option<String>,
    pub words: String,
    pub filters: Filters,
    pub choices: FilterChoices,
    pub results: Option<Results>,
    pub link_query: String,
}

/// What the product page shows of the product itself.
pub struct Detail {
    pub product: Product,
    pub description: String,
    pub liked: bool,
}

/// One product with its description, the like button and the similar products.
#[derive(Template)]
#[template(path = "product.html")]
pub struct ProductPage {
    pub notice: Option<String>,
    pub detail: Option<Detail>,
    pub results: Option<Results>,
    pub link_query: String,
}

/// The session's liked products and the recommendations made from them.
#[derive(Template)]
#[template(path = "for_you.html")]
pub struct ForYouPage {
    pub notice: Option<String>,
    pub filters: Filters,
    pub choices: FilterChoices,
    pub liked: Vec<Product>,
    pub results: Option<Results>,
    pub link_query: String,
}

/// A page with only a message (a bad request, a product that does not exist).
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub notice: Option<String>,
}

/// Renders a page with a status.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("template error: {e}"),
        )
            .into_response(),
    }
}

/// A message page.
pub fn message(status: StatusCode, notice: Option<String>) -> Response {
    render(status, &MessagePage { notice })
}

/// The status of a page that shows a database error: 503 while it is unreachable, 422 for a
/// request it refused.
pub fn status_of(error: &DbError) -> StatusCode {
    match error {
        DbError::Unreachable(_) => StatusCode::SERVICE_UNAVAILABLE,
        DbError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
    }
}
