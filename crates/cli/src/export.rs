//! `fashrec export`: the catalog as JSON lines plus raw images, so training sees exactly the
//! products and texts the database holds.

use std::path::Path;

use anyhow::{Context, Result};
use fashrec_catalog::export::{ExportWriter, CATALOG_FILE, IMAGES_FILE, META_FILE};

use crate::progress::{bar, done};
use crate::{read_dataset, CatalogArgs};

/// Writes the selected catalog into `out`.
pub fn run(catalog: &CatalogArgs, out: &Path) -> Result<()> {
    let data = read_dataset(&catalog.data)?;
    let selection = catalog.selection();
    let ids = data.select(selection)?;

    let progress = bar(ids.len(), "exporting products");
    let mut writer = ExportWriter::create(out)?;
    for &id in &ids {
        let (Some(product), Some(pixels)) = (data.product(catalog.seed, id), data.image(id)) else {
            anyhow::bail!("product id {id} is not in the dataset");
        };
        writer.write(&product, pixels)?;
        progress.inc(1);
    }
    let meta = writer
        .finish(catalog.seed, selection, &catalog.data)
        .with_context(|| format!("cannot finish the export in {}", out.display()))?;
    done(&progress);
    println!(
        "exported {} products to {}: {CATALOG_FILE}, {IMAGES_FILE} ({}x{}x{} uint8), {META_FILE}",
        meta.count,
        out.display(),
        meta.images_shape[0],
        meta.images_shape[1],
        meta.images_shape[2]
    );
    Ok(())
}
