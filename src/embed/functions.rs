//! The SQL functions that turn shopper input into vectors and categories.

use super::models::with_pipeline;
use crate::error::raise_embed;
use crate::vector::Vector;
use fashrec_embed::DecodeLimits;
use pgrx::prelude::*;

/// Lets a query cancel or statement_timeout stop the work between images.
pub(super) fn check_interrupts() {
    pgrx::check_for_interrupts!();
}

fn embed_images_checked(images: &[&[u8]]) -> Vec<fashrec_embed::ImageOutput> {
    with_pipeline(|p| {
        p.embed_images(images, DecodeLimits::default(), &mut check_interrupts)
            .unwrap_or_else(|e| raise_embed(e))
    })
}

/// Runs `embed` once on the non-NULL items of a batch; NULL items give NULL.
fn embed_present<T: Copy, U>(
    items: impl Iterator<Item = Option<T>>,
    embed: impl FnOnce(&[T]) -> Vec<U>,
) -> Vec<Option<U>> {
    let items: Vec<Option<T>> = items.collect();
    let present: Vec<T> = items.iter().flatten().copied().collect();
    let mut outputs = embed(&present).into_iter();
    items
        .iter()
        .map(|item| item.and_then(|_| outputs.next()))
        .collect()
}

/// One image's output; a repeated image (as in `ORDER BY embedding <-> embed_image($1)`, which
/// evaluates the function for every row returned) is not run again.
fn embed_image_checked(image: &[u8]) -> fashrec_embed::ImageOutput {
    with_pipeline(|p| {
        p.embed_image(image, &mut check_interrupts)
            .unwrap_or_else(|e| raise_embed(e))
    })
}

/// A shopper's photo as a product-space query: its image embedding with an empty words part
/// (unit length), so it ranks products by what their pictures show. PNG, JPEG, WebP, GIF (first
/// frame) or BMP, at most 8192 pixels a side and 40 megapixels.
#[pg_extern(stable, strict, parallel_safe, requires = ["vector_type"])]
fn embed_image(image: &[u8]) -> Vector {
    let picture = embed_image_checked(image).embedding;
    Vector(with_pipeline(|p| p.space().photo(&picture)))
}

/// embed_image for many images in one model run; NULL elements give NULL.
#[pg_extern(stable, strict, parallel_safe, requires = ["vector_type"])]
fn embed_images(images: Array<&[u8]>) -> Vec<Option<Vector>> {
    embed_present(images.iter(), |present| {
        let outputs = embed_images_checked(present);
        with_pipeline(|p| {
            outputs
                .iter()
                .map(|o| Vector(p.space().photo(&o.embedding)))
                .collect()
        })
    })
}

/// A product's vector from its image and the shop's words about it (title, description or
/// keywords): what the picture shows and which catalog attributes the words state.
#[pg_extern(stable, strict, parallel_safe, requires = ["vector_type"])]
fn embed_product(image: &[u8], description: &str) -> Vector {
    refuse_blank(&[description]);
    let picture = embed_image_checked(image).embedding;
    with_pipeline(|p| {
        let words = p
            .product_words(&[description])
            .unwrap_or_else(|e| raise_embed(e))
            .swap_remove(0);
        Vector(p.space().product(&picture, &words))
    })
}

/// embed_product for many products in one model run (backfills), images and descriptions pairwise;
/// a pair with a NULL gives NULL.
#[pg_extern(stable, strict, parallel_safe, requires = ["vector_type"])]
fn embed_products(images: Array<&[u8]>, descriptions: Array<&str>) -> Vec<Option<Vector>> {
    if images.len() != descriptions.len() {
        crate::sql_error!(
            ERRCODE_INVALID_PARAMETER_VALUE,
            "embed_products needs as many descriptions as images, not {} and {}",
            descriptions.len(),
            images.len()
        );
    }
    let pairs = images
        .iter()
        .zip(descriptions.iter())
        .map(|(image, text)| image.zip(text));
    embed_present(pairs, |present| {
        let (images, texts): (Vec<&[u8]>, Vec<&str>) = present.iter().copied().unzip();
        refuse_blank(&texts);
        with_pipeline(|p| {
            p.embed_products(
                &images,
                &texts,
                DecodeLimits::default(),
                &mut check_interrupts,
            )
            .unwrap_or_else(|e| raise_embed(e))
        })
        .into_iter()
        .map(Vector)
        .collect()
    })
}

/// Every category with its probability for an image, most likely first.
fn ranked_categories(image: &[u8]) -> Vec<(String, f64)> {
    let out = embed_image_checked(image);
    let categories = with_pipeline(|p| p.categories().to_vec());
    let mut ranked: Vec<(String, f64)> = categories
        .into_iter()
        .zip(out.probabilities.iter().map(|&p| f64::from(p)))
        .collect();
    // A stable sort: on a tie the earlier category in logit order comes first.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked
}

/// The most likely category of a product image and its probability.
#[pg_extern(stable, strict, parallel_safe)]
fn classify_image(
    image: &[u8],
) -> TableIterator<'static, (name!(category, String), name!(probability, f64))> {
    TableIterator::new(ranked_categories(image).into_iter().take(1))
}

/// Every category with its probability for a product image, most likely first.
#[pg_extern(stable, strict, parallel_safe)]
fn classify_image_all(
    image: &[u8],
) -> TableIterator<'static, (name!(category, String), name!(probability, f64))> {
    TableIterator::new(ranked_categories(image))
}

fn refuse_blank(texts: &[&str]) {
    if let Some(blank) = texts.iter().find(|t| t.trim().is_empty()) {
        crate::sql_error!(
            ERRCODE_INVALID_PARAMETER_VALUE,
            "cannot embed empty text {blank:?}: give a few words describing the product"
        );
    }
}

fn embed_texts_checked(texts: &[&str]) -> Vec<fashrec_embed::TextOutput> {
    refuse_blank(texts);
    with_pipeline(|p| p.embed_texts(texts).unwrap_or_else(|e| raise_embed(e)))
}

/// One text's output; a repeated text (as in `ORDER BY embedding <-> embed_text('...')`, which
/// evaluates the function for every row returned) is not run again.
fn embed_text_checked(text: &str) -> fashrec_embed::TextOutput {
    refuse_blank(&[text]);
    with_pipeline(|p| p.embed_text(text).unwrap_or_else(|e| raise_embed(e)))
}

/// A text query in the product space: the text mapped into the image space and the catalog
/// attributes it states, comparable with embed_product and embed_image. Text past the model's
/// token limit (256 tokens) is ignored.
#[pg_extern(stable, strict, parallel_safe, requires = ["vector_type"])]
fn embed_text(text: &str) -> Vector {
    let out = embed_text_checked(text);
    Vector(with_pipeline(|p| {
        p.space().text(&out.mapped, &out.attributes)
    }))
}

/// embed_text for many texts in one model run; NULL elements give NULL.
#[pg_extern(stable, strict, parallel_safe, requires = ["vector_type"])]
fn embed_texts(texts: Array<&str>) -> Vec<Option<Vector>> {
    embed_present(texts.iter(), |present| {
        let outputs = embed_texts_checked(present);
        with_pipeline(|p| {
            outputs
                .iter()
                .map(|o| Vector(p.space().text(&o.mapped, &o.attributes)))
                .collect()
        })
    })
}

/// The plain MiniLM sentence embedding (384-d, unit length), for text-to-text semantic search
/// over descriptions; not comparable with image embeddings.
#[pg_extern(stable, strict, parallel_safe, requires = ["vector_type"])]
fn sentence_embedding(text: &str) -> Vector {
    Vector(embed_text_checked(text).sentence)
}
