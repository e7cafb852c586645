//! The rows of an attached table to embeddings (sql/attach.sql calls this from its triggers):
//! one model run for a batch of rows, and a row that cannot be embedded named by its key.

use super::functions::check_interrupts;
use super::models::with_pipeline;
use crate::error::{raise_embed, raise_error};
use crate::vector::Vector;
use fashrec_embed::DecodeLimits;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

/// What to do with a row whose image or text cannot be embedded.
#[derive(Clone, Copy, PartialEq)]
enum OnError {
    /// Fail the statement, naming the row.
    Error,
    /// Leave the row's embedding NULL and say so in a WARNING.
    Null,
}

impl OnError {
    fn parse(mode: Option<&str>) -> Self {
        match mode {
            Some("error") => Self::Error,
            Some("null") => Self::Null,
            other => crate::sql_error!(
                ERRCODE_INVALID_PARAMETER_VALUE,
                "on_error must be 'error' or 'null', not {}",
                other.map_or("NULL".to_string(), |m| format!("'{m}'"))
            ),
        }
    }
}

/// A row that cannot be embedded: an ERROR naming it, or a WARNING and no embedding.
struct Rows<'a> {
    relation: &'a str,
    key_column: &'a str,
    keys: Vec<Option<&'a str>>,
    on_error: OnError,
}

impl Rows<'_> {
    fn failed(&self, row: usize, reason: &str) -> Option<Vector> {
        let key = self.keys[row].unwrap_or("NULL");
        let message = format!(
            "cannot embed the row of {} with {} = '{key}': {reason}",
            self.relation, self.key_column
        );
        match self.on_error {
            OnError::Error => raise_error(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                message,
                None,
                Some("Fix or remove that row's image or text; attached with on_error => 'null', such a row keeps a NULL embedding and the statement goes on."),
            ),
            OnError::Null => {
                pgrx::warning!("{message}; its embedding is left NULL");
                None
            }
        }
    }
}

/// The embeddings of rows given as arrays (keys as text, for messages), pairwise: embed_product
/// of image and text, or embed_image of the image where texts is NULL (an image-only table). A
/// row with a NULL image (or text) gets NULL; one that cannot be embedded fails the call naming
/// `key_column = key`, or with on_error 'null' gets NULL and a WARNING.
#[pg_extern(stable, parallel_safe, requires = ["vector_type"])]
fn fashrec_embed_rows(
    relation: Option<&str>,
    key_column: Option<&str>,
    keys: Option<Array<&str>>,
    images: Option<Array<&[u8]>>,
    texts: Option<Array<&str>>,
    on_error: Option<&str>,
) -> Option<Vec<Option<Vector>>> {
    let on_error = OnError::parse(on_error);
    let (keys, images) = (keys?, images?);
    let rows = Rows {
        relation: relation.unwrap_or("?"),
        key_column: key_column.unwrap_or("key"),
        keys: keys.iter().collect(),
        on_error,
    };
    let images: Vec<Option<&[u8]>> = images.iter().collect();
    let texts: Option<Vec<Option<&str>>> = texts.as_ref().map(|t| t.iter().collect());
    if rows.keys.len() != images.len() || texts.as_ref().is_some_and(|t| t.len() != images.len()) {
        crate::sql_error!(
            ERRCODE_INVALID_PARAMETER_VALUE,
            "fashrec_embed_rows needs as many keys, images and texts as rows, not {}, {} and {}",
            rows.keys.len(),
            images.len(),
            texts.as_ref().map_or(images.len(), Vec::len)
        );
    }
    let has_sources =
        |i: usize| images[i].is_some() && texts.as_ref().is_none_or(|t| t[i].is_some());
    let wanted: Vec<usize> = (0..images.len()).filter(|&i| has_sources(i)).collect();
    let present: Vec<&[u8]> = wanted.iter().filter_map(|&i| images[i]).collect();
    let pictures = with_pipeline(|p| {
        p.embed_images_each(&present, DecodeLimits::default(), &mut check_interrupts)
    })
    .unwrap_or_else(|e| raise_embed(e.into()));

    let mut vectors: Vec<Option<Vector>> = images.iter().map(|_| None).collect();
    let mut embedded: Vec<(usize, Vec<f32>)> = Vec::with_capacity(wanted.len());
    for (&row, picture) in wanted.iter().zip(pictures) {
        match picture {
            Ok(out) => embedded.push((row, out.embedding)),
            // Only an image that cannot be read fails alone; a model failure fails the call.
            Err(err) => vectors[row] = rows.failed(row, &err.to_string()),
        }
    }
    let Some(texts) = texts else {
        for (row, picture) in embedded {
            vectors[row] = Some(Vector(with_pipeline(|p| p.space().photo(&picture))));
        }
        return Some(vectors);
    };
    let mut described = Vec::with_capacity(embedded.len());
    for (row, picture) in embedded {
        let text = texts[row].unwrap_or_default();
        if text.trim().is_empty() {
            vectors[row] = rows.failed(row, "its text is empty");
        } else {
            described.push((row, picture, text));
        }
    }
    let words: Vec<&str> = described.iter().map(|(_, _, text)| *text).collect();
    let attributes = with_pipeline(|p| p.product_words(&words)).unwrap_or_else(|e| raise_embed(e));
    with_pipeline(|p| {
        for ((row, picture, _), words) in described.iter().zip(&attributes) {
            vectors[*row] = Some(Vector(p.space().product(picture, words)));
        }
    });
    Some(vectors)
}
