//! `fashrec load`: create the products table if absent and bulk-load the catalog with COPY.
//!
//! Idempotent: under a table lock the loader asks which ids are present and copies only the
//! others, all in one transaction, so a rerun neither duplicates nor loses rows and two
//! concurrent loaders take turns.

use std::collections::HashSet;
use std::error::Error;
use std::time::Instant;

use anyhow::{Context, Result};
use bytes::{BufMut, BytesMut};
use fashrec_catalog::png::encode_png;
use fashrec_catalog::{Dataset, Product};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use rayon::prelude::*;

use crate::connect::{connect, require_extension};
use crate::progress::{bar, done, spinner};
use crate::schema;
use crate::{read_dataset, CatalogArgs};

/// Rows generated and PNG-encoded in parallel per batch, then streamed in order.
const BATCH: usize = 4096;

/// Loads the selected catalog into the products table of the database at `url`.
pub fn run(catalog: &CatalogArgs, url: Option<&str>) -> Result<()> {
    let started = Instant::now();
    let data = read_dataset(&catalog.data)?;
    let ids = data.select(catalog.selection())?;

    let step = spinner("connecting");
    let mut client = connect(url)?;
    require_extension(&mut client)?;
    client
        .batch_execute(schema::CREATE_TABLE)
        .context("cannot create the products table")?;
    done(&step);

    let mut tx = client.transaction()?;
    tx.batch_execute(schema::LOCK_TABLE)
        .context("cannot lock the products table")?;
    let wanted: Vec<i32> = ids.iter().map(|&id| id as i32).collect();
    let mut present = HashSet::new();
    for row in tx
        .query(schema::SELECT_PRESENT_IDS, &[&wanted])
        .context("cannot read the ids already loaded")?
    {
        present.insert(row.try_get::<_, i32>(0)? as u32);
    }
    let missing: Vec<u32> = ids
        .iter()
        .copied()
        .filter(|id| !present.contains(id))
        .collect();

    if !missing.is_empty() {
        copy_products(&mut tx, &data, &missing, catalog.seed)?;
    }
    let step = spinner("committing");
    tx.commit().context("cannot commit the load")?;
    done(&step);

    let step = spinner("building indexes");
    client
        .batch_execute(schema::CREATE_INDEXES)
        .context("cannot create the products indexes")?;
    done(&step);
    if !missing.is_empty() {
        // Fresh statistics so the first queries after a load get sensible plans.
        let step = spinner("analyzing");
        client
            .batch_execute("ANALYZE products")
            .context("cannot analyze products")?;
        done(&step);
    }

    let total: i64 = client.query_one(schema::COUNT_ROWS, &[])?.try_get(0)?;
    println!(
        "loaded {} new products ({} of the {} selected were already there) in {:.1} s; products now holds {} rows",
        missing.len(),
        present.len(),
        ids.len(),
        started.elapsed().as_secs_f64(),
        total
    );
    Ok(())
}

/// One row ready for COPY.
struct Row {
    product: Product,
    png: Vec<u8>,
}

/// Generates, PNG-encodes and streams the given products through one binary COPY.
fn copy_products(
    tx: &mut postgres::Transaction<'_>,
    data: &Dataset,
    ids: &[u32],
    seed: u64,
) -> Result<()> {
    let progress = bar(ids.len(), "loading products");
    let sink = tx
        .copy_in(schema::COPY_IN)
        .context("cannot start COPY into products")?;
    let types = [
        Type::INT4,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::NUMERIC,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::BYTEA,
    ];
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    for chunk in ids.chunks(BATCH) {
        let rows = chunk
            .par_iter()
            .map(|&id| build_row(data, id, seed))
            .collect::<Result<Vec<Row>>>()?;
        for Row { product: p, png } in &rows {
            let id = p.id as i32;
            writer
                .write(&[
                    &id,
                    &p.name,
                    &p.category.name(),
                    &p.gender.as_str(),
                    &p.size,
                    &Price(p.price_cents),
                    &p.colour,
                    &p.material,
                    &p.style,
                    &p.occasion,
                    &p.brand,
                    &p.description,
                    &p.short_description,
                    &p.keywords,
                    &p.split.as_str(),
                    png,
                ])
                .with_context(|| format!("COPY of product {} failed", p.id))?;
        }
        progress.inc(chunk.len() as u64);
    }
    writer.finish().context("COPY into products failed")?;
    done(&progress);
    Ok(())
}

/// The product and PNG image of one id.
fn build_row(data: &Dataset, id: u32, seed: u64) -> Result<Row> {
    let (Some(product), Some(pixels)) = (data.product(seed, id), data.image(id)) else {
        anyhow::bail!("product id {id} is not in the dataset");
    };
    Ok(Row {
        product,
        png: encode_png(id, pixels)?,
    })
}

/// A price in cents, sent as a PostgreSQL numeric with two decimal places.
#[derive(Debug)]
struct Price(u32);

impl ToSql for Price {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        // numeric's binary form: ndigits, weight, sign, dscale, then base-10000 digits,
        // the first of which is worth 10000^weight.
        let (units, cents) = (self.0 / 100, self.0 % 100);
        let mut digits = Vec::new();
        let mut rest = units;
        while rest > 0 {
            digits.insert(0, (rest % 10_000) as i16);
            rest /= 10_000;
        }
        let weight = digits.len() as i16 - 1;
        if cents > 0 {
            digits.push((cents * 100) as i16);
        }
        out.put_i16(digits.len() as i16);
        out.put_i16(if digits.is_empty() { 0 } else { weight });
        out.put_u16(0x0000); // positive
        out.put_i16(2); // dscale: two decimal places
        for d in digits {
            out.put_i16(d);
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(cents: u32) -> Vec<i16> {
        let mut out = BytesMut::new();
        Price(cents).to_sql(&Type::NUMERIC, &mut out).unwrap();
        out.chunks(2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .collect()
    }

    #[test]
    fn price_numeric_encoding() {
        // [ndigits, weight, sign, dscale, digits...]
        assert_eq!(encode(2499), vec![2, 0, 0, 2, 24, 9900]);
        assert_eq!(encode(1900), vec![1, 0, 0, 2, 19]);
        assert_eq!(encode(49), vec![1, -1, 0, 2, 4900]);
        assert_eq!(encode(0), vec![0, 0, 0, 2]);
        assert_eq!(encode(1_234_567), vec![3, 1, 0, 2, 1, 2345, 6700]);
    }
}
