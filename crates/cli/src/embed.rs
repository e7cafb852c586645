//! `fashrec embed`: fill `products.embedding` where it is NULL, with the extension's
//! `embed_products` run in the server on each product's image and keywords, a batch of rows per
//! statement.
//!
//! Each batch is its own transaction, so an interrupted run keeps every batch it committed and a
//! rerun carries on with the rows still NULL. The rows of a batch are locked with SKIP LOCKED, so
//! two runs at once split the work instead of doing it twice. An image the extension refuses is
//! reported by product id and left NULL; the rest of its batch is embedded row by row.

use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use postgres::error::SqlState;
use postgres::Client;

use crate::connect::{connect, require_extension};
use crate::interrupt::Interrupt;
use crate::progress::{bar, done, spinner};

/// Rows per statement: large enough that the per-statement cost (planning, one round trip, the
/// commit) is small next to the model, small enough that a cancel or an error loses little.
pub const DEFAULT_BATCH: u32 = 256;

/// Failed products named in the final error; the rest are counted.
const LIST_FAILED: usize = 10;

const TABLE_EXISTS: &str = "SELECT to_regclass('products') IS NOT NULL";

const COUNT_MISSING: &str = "SELECT count(*) FROM products WHERE embedding IS NULL";

/// The first call in a backend loads every model; doing it up front keeps that out of the
/// measured rate and turns a model problem into one clear error instead of one per batch.
const LOAD_MODELS: &str = "SELECT embed_text('a product')";

/// The next rows to embed after a product id, locked for this transaction.
const NEXT_BATCH: &str = "
SELECT id FROM products
WHERE embedding IS NULL AND id > $1::bigint
ORDER BY id LIMIT $2
FOR UPDATE SKIP LOCKED";

/// One model run per batch: ids, images and words in the same order, zipped back by unnest.
/// The words are the keywords: every attribute of the product (category, gender, colour,
/// material, style, brand, occasion) in about 14 tokens, where the description takes 37.
const EMBED_BATCH: &str = "
WITH batch AS (
    SELECT array_agg(id ORDER BY id) AS ids,
           embed_products(array_agg(image ORDER BY id), array_agg(keywords ORDER BY id)) AS vectors
    FROM products WHERE id = ANY($1)
)
UPDATE products p SET embedding = e.vector
FROM batch, unnest(batch.ids, batch.vectors) AS e(id, vector)
WHERE p.id = e.id";

/// One row, for finding the image that made its batch fail.
const EMBED_ONE: &str = "UPDATE products SET embedding = embed_product(image, keywords) WHERE id = $1 AND embedding IS NULL";

/// A product whose image or words the extension refused, and why.
struct Failed {
    id: i32,
    reason: String,
}

/// Embeds every product whose embedding is NULL, `batch` rows per transaction.
pub fn run(url: Option<&str>, batch: u32) -> Result<()> {
    let step = spinner("connecting");
    let mut client = connect(url)?;
    require_extension(&mut client)?;
    let has_table: bool = client.query_one(TABLE_EXISTS, &[])?.try_get(0)?;
    if !has_table {
        bail!("there is no products table in this database: load the catalog first with `fashrec load`");
    }
    let missing: i64 = client
        .query_one(COUNT_MISSING, &[])
        .context("cannot count the products without an embedding")?
        .try_get(0)?;
    done(&step);
    if missing == 0 {
        println!("embedded 0 products: every product already has an embedding");
        return Ok(());
    }

    let step = spinner("loading the models in the server");
    client.batch_execute(LOAD_MODELS).map_err(|e| {
        anyhow!(
            "the server cannot run the embedding models: {}",
            server_message(&e)
        )
    })?;
    done(&step);

    let interrupt = Interrupt::cancelling(client.cancel_token())?;
    let started = Instant::now();
    let progress = bar(usize::try_from(missing)?, "embedding products");
    let (mut embedded, mut failed) = (0u64, Vec::new());
    // bigint, so that no integer id sorts at or before the starting point.
    let mut after = i64::MIN;
    let stopped = |embedded: u64| {
        anyhow!("interrupted: {embedded} products were embedded and committed; rerun `fashrec embed` to do the rest")
    };
    loop {
        if interrupt.asked() {
            return Err(stopped(embedded));
        }
        let mut tx = client.transaction()?;
        let ids: Vec<i32> = match tx.query(NEXT_BATCH, &[&after, &i64::from(batch)]) {
            Err(_) if interrupt.asked() => return Err(stopped(embedded)),
            result => result.context("cannot select the next products to embed")?,
        }
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
        let Some(&last) = ids.last() else { break };
        after = i64::from(last);
        match tx.execute(EMBED_BATCH, &[&ids]) {
            Ok(rows) => {
                tx.commit().context("cannot commit a batch of embeddings")?;
                embedded += rows;
            }
            Err(_) if interrupt.asked() => return Err(stopped(embedded)),
            Err(e) if e.code() == Some(&SqlState::INVALID_PARAMETER_VALUE) => {
                // An image in the batch is bad; the batch rolled back, so find it row by row.
                drop(tx);
                embedded += embed_one_by_one(&mut client, &ids, &mut failed)?;
            }
            Err(e) => bail!(
                "embedding products {}..={} failed: {}\n{embedded} products were embedded and committed before; \
                 rerun to continue",
                ids[0],
                last,
                server_message(&e)
            ),
        }
        progress.inc(ids.len() as u64);
    }
    done(&progress);

    let seconds = started.elapsed().as_secs_f64();
    println!(
        "embedded {embedded} products in {seconds:.1} s ({:.0} products/s)",
        embedded as f64 / seconds.max(1e-9)
    );
    if !failed.is_empty() {
        let listed: Vec<String> = failed
            .iter()
            .take(LIST_FAILED)
            .map(|f| format!("product {}: {}", f.id, f.reason))
            .collect();
        let more = failed.len().saturating_sub(LIST_FAILED);
        bail!(
            "{} products have an image the extension cannot embed and were left without an embedding:\n  {}{}\n\
             Replace or delete those rows, then rerun `fashrec embed`.",
            failed.len(),
            listed.join("\n  "),
            if more > 0 { format!("\n  ... and {more} more") } else { String::new() }
        );
    }
    Ok(())
}

/// Embeds `ids` one per transaction; refused images go to `failed`. Returns the rows embedded.
fn embed_one_by_one(client: &mut Client, ids: &[i32], failed: &mut Vec<Failed>) -> Result<u64> {
    let mut embedded = 0;
    for &id in ids {
        match client.execute(EMBED_ONE, &[&id]) {
            Ok(rows) => embedded += rows,
            Err(e) if e.code() == Some(&SqlState::INVALID_PARAMETER_VALUE) => {
                failed.push(Failed {
                    id,
                    reason: server_message(&e),
                });
            }
            Err(e) => bail!("embedding product {id} failed: {}", server_message(&e)),
        }
    }
    Ok(embedded)
}

/// The server's message with its detail and hint, or the client error when there is none.
fn server_message(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => db.to_string(),
        None => error.to_string(),
    }
}
