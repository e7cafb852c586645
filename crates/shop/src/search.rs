//! The storefront's two searches: words (GET /?q=...) and an uploaded photo (POST /photo).

use std::sync::Arc;

use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::db::DbError;
use crate::filters::{FilterForm, Filters};
use crate::ranking::{ranked, Ranker};
use crate::views::{render, status_of, FilterChoices, Results, SearchPage};
use crate::web::Shop;

/// The largest photo the shop passes to the database (the request body may be a little larger,
/// for the form's other fields).
pub const MAX_PHOTO: usize = 8 * 1024 * 1024;

#[derive(Deserialize)]
pub struct WordsQuery {
    q: Option<String>,
    #[serde(flatten)]
    filters: FilterForm,
}

/// The storefront; with words, their results (recommend_for_text).
pub async fn words(State(shop): State<Arc<Shop>>, Query(query): Query<WordsQuery>) -> Response {
    let filters = Filters::from_form(&query.filters);
    let words = query.q.unwrap_or_default().trim().to_string();
    let mut page = new_page(&shop, words.clone(), &filters).await;
    if let Some(problem) = filters.problem() {
        page.notice = Some(problem.to_string());
        return render(StatusCode::BAD_REQUEST, &page);
    }
    if words.is_empty() {
        if let Some(e) = shop.unreachable().await {
            page.notice = Some(e.explain());
            return render(status_of(&e), &page);
        }
        return render(StatusCode::OK, &page);
    }
    let heading = format!("Products for “{words}”");
    let outcome = ranked(&shop.pool, Ranker::Text, &words, &filters, heading).await;
    answered(page, outcome)
}

/// An uploaded photo (multipart field "photo", with the filter fields): its results
/// (recommend_for_image), or why the shop or the database refused it.
pub async fn photo(State(shop): State<Arc<Shop>>, multipart: Multipart) -> Response {
    let upload = read_upload(multipart).await;
    let filters = Filters::from_form(&upload.form);
    let mut page = new_page(&shop, String::new(), &filters).await;
    let refusal = match (&upload.problem, filters.problem(), &upload.photo) {
        (Some((status, text)), _, _) => Some((*status, text.clone())),
        (None, Some(problem), _) => Some((StatusCode::BAD_REQUEST, problem.to_string())),
        (None, None, None) => Some((
            StatusCode::BAD_REQUEST,
            "Choose a photo (or drop one on the box) first.".to_string(),
        )),
        (None, None, Some(_)) => None,
    };
    if let Some((status, text)) = refusal {
        page.notice = Some(text);
        return render(status, &page);
    }
    let (name, bytes) = upload.photo.unwrap_or_default();
    let heading = format!(
        "Products like your photo {name} ({} KB)",
        bytes.len().div_ceil(1024)
    );
    let outcome = ranked(&shop.pool, Ranker::Image, &bytes, &filters, heading).await;
    answered(page, outcome)
}

/// The storefront with its forms filled as sent, before any answer.
async fn new_page(shop: &Shop, words: String, filters: &Filters) -> SearchPage {
    SearchPage {
        notice: None,
        words,
        link_query: filters.query_string(),
        filters: filters.clone(),
        choices: FilterChoices::new(shop.categories().await),
        results: None,
    }
}

/// The storefront with a ranking's results, or the database's reason for having none.
fn answered(mut page: SearchPage, outcome: Result<Results, DbError>) -> Response {
    match outcome {
        Ok(results) => {
            page.results = Some(results);
            render(StatusCode::OK, &page)
        }
        Err(e) => {
            page.notice = Some(e.explain());
            render(status_of(&e), &page)
        }
    }
}

/// What an upload form held.
#[derive(Default)]
struct Upload {
    form: FilterForm,
    /// The file's name and bytes, if one was chosen.
    photo: Option<(String, Vec<u8>)>,
    /// Why the upload is refused before the database sees it.
    problem: Option<(StatusCode, String)>,
}

/// Reads the form, keeping at most MAX_PHOTO bytes of the photo: a larger one is refused here.
async fn read_upload(mut multipart: Multipart) -> Upload {
    let mut upload = Upload::default();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return upload,
            Err(e) => return refused(upload, e),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "photo" {
            let file = field.file_name().unwrap_or("").to_string();
            let mut bytes = Vec::new();
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) if bytes.len() + chunk.len() <= MAX_PHOTO => {
                        bytes.extend_from_slice(&chunk)
                    }
                    Ok(Some(_)) => {
                        upload.problem = Some((
                            StatusCode::PAYLOAD_TOO_LARGE,
                            format!("The photo {file} is larger than 8 MB, the shop's limit: it was not sent to the database."),
                        ));
                        return upload;
                    }
                    Ok(None) => break,
                    Err(e) => return refused(upload, e),
                }
            }
            // A form submitted without a file sends an empty, nameless part.
            if !(file.is_empty() && bytes.is_empty()) {
                upload.photo = Some((file, bytes));
            }
            continue;
        }
        let value = match field.text().await {
            Ok(value) => Some(value),
            Err(e) => return refused(upload, e),
        };
        match name.as_str() {
            "gender" => upload.form.gender = value,
            "category" => upload.form.category = value,
            "min" => upload.form.min = value,
            "max" => upload.form.max = value,
            _ => {}
        }
    }
}

fn refused(mut upload: Upload, e: axum::extract::multipart::MultipartError) -> Upload {
    upload.problem = Some((
        e.status(),
        format!("The upload could not be read: {}", e.body_text()),
    ));
    upload
}
