//! Export for training: `catalog.jsonl` (one product per line), `images.u8` (the raw pixels,
//! N x 28 x 28 uint8 in the same order) and `export.json` (shapes, order, seed).
//!
//! Python reads it with `np.fromfile("images.u8", np.uint8).reshape(-1, 28, 28)`.
//! `export.json` is written last and removed first, so its presence means a complete export.

use std::fs::{self, File};
use std::io::{BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::dataset::{Selection, PIXELS, SIDE};
use crate::error::CatalogError;
use crate::product::{Category, Product};

/// One JSON object per product, in export order.
pub const CATALOG_FILE: &str = "catalog.jsonl";
/// Raw uint8 pixels, N x 28 x 28, row-major, in the order of the catalog file.
pub const IMAGES_FILE: &str = "images.u8";
/// The description of the export.
pub const META_FILE: &str = "export.json";

/// What `export.json` says.
#[derive(Debug, Serialize)]
pub struct ExportMeta {
    pub format_version: u32,
    pub count: usize,
    pub catalog_file: &'static str,
    pub images_file: &'static str,
    pub images_dtype: &'static str,
    pub images_shape: [usize; 3],
    pub order: &'static str,
    pub id_scheme: &'static str,
    pub seed: u64,
    /// "all" or "balanced".
    pub selection: &'static str,
    pub balanced_per_class: Option<usize>,
    pub source: String,
    /// Category names, index = label.
    pub categories: Vec<&'static str>,
}

/// Writes an export directory product by product.
pub struct ExportWriter {
    dir: PathBuf,
    catalog: BufWriter<File>,
    images: BufWriter<File>,
    count: usize,
}

/// The name a file has while it is being written.
fn partial(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Creates `path` for writing, naming it in the error.
fn create(path: &Path) -> Result<BufWriter<File>, CatalogError> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 20, f))
        .map_err(|source| CatalogError::Write {
            path: path.to_path_buf(),
            source,
        })
}

impl ExportWriter {
    /// Starts an export into `dir`, creating it if needed and invalidating any export there.
    pub fn create(dir: &Path) -> Result<ExportWriter, CatalogError> {
        let write_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CatalogError::Write { path, source }
        };
        fs::create_dir_all(dir).map_err(write_err(dir))?;
        let meta = dir.join(META_FILE);
        match fs::remove_file(&meta) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(write_err(&meta)(e)),
            _ => {}
        }
        Ok(ExportWriter {
            dir: dir.to_path_buf(),
            catalog: create(&partial(&dir.join(CATALOG_FILE)))?,
            images: create(&partial(&dir.join(IMAGES_FILE)))?,
            count: 0,
        })
    }

    /// Appends one product and its 28x28 pixels.
    pub fn write(&mut self, product: &Product, pixels: &[u8]) -> Result<(), CatalogError> {
        let catalog_path = || partial(&self.dir.join(CATALOG_FILE));
        if pixels.len() != PIXELS {
            return Err(CatalogError::Write {
                path: partial(&self.dir.join(IMAGES_FILE)),
                source: std::io::Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "product {} has {} pixels, expected {PIXELS}",
                        product.id,
                        pixels.len()
                    ),
                ),
            });
        }
        serde_json::to_writer(&mut self.catalog, product).map_err(|e| CatalogError::Write {
            path: catalog_path(),
            source: e.into(),
        })?;
        self.catalog
            .write_all(b"\n")
            .map_err(|source| CatalogError::Write {
                path: catalog_path(),
                source,
            })?;
        self.images
            .write_all(pixels)
            .map_err(|source| CatalogError::Write {
                path: partial(&self.dir.join(IMAGES_FILE)),
                source,
            })?;
        self.count += 1;
        Ok(())
    }

    /// Flushes, moves the files into place and writes `export.json`; returns its contents.
    pub fn finish(
        self,
        seed: u64,
        selection: Selection,
        source: &Path,
    ) -> Result<ExportMeta, CatalogError> {
        let ExportWriter {
            dir,
            catalog,
            images,
            count,
        } = self;
        for (writer, name) in [(catalog, CATALOG_FILE), (images, IMAGES_FILE)] {
            let path = dir.join(name);
            let file = writer.into_inner().map_err(|e| CatalogError::Write {
                path: partial(&path),
                source: e.into_error(),
            })?;
            file.sync_all().map_err(|source| CatalogError::Write {
                path: partial(&path),
                source,
            })?;
            fs::rename(partial(&path), &path).map_err(|source| CatalogError::Write {
                path: path.clone(),
                source,
            })?;
        }
        let (selection, balanced_per_class) = match selection {
            Selection::All => ("all", None),
            Selection::Balanced(n) => ("balanced", Some(n)),
        };
        let meta = ExportMeta {
            format_version: 1,
            count,
            catalog_file: CATALOG_FILE,
            images_file: IMAGES_FILE,
            images_dtype: "uint8",
            images_shape: [count, SIDE, SIDE],
            order: "image k of images.u8 is the product on line k of catalog.jsonl (ids ascending)",
            id_scheme: "train image i has id i (0..59999); test (t10k) image i has id 60000 + i",
            seed,
            selection,
            balanced_per_class,
            source: source.display().to_string(),
            categories: Category::ALL.iter().map(|c| c.name()).collect(),
        };
        let path = dir.join(META_FILE);
        let mut text = serde_json::to_string_pretty(&meta).map_err(|e| CatalogError::Write {
            path: path.clone(),
            source: e.into(),
        })?;
        text.push('\n');
        fs::write(&path, text).map_err(|source| CatalogError::Write { path, source })?;
        Ok(meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::generate;

    #[test]
    fn writes_lines_pixels_and_meta() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("export");
        let mut w = ExportWriter::create(&out).unwrap();
        let products = [
            generate(1, 5, Category::Bag, 0.2),
            generate(1, 60_001, Category::Dress, 0.9),
        ];
        for (k, p) in products.iter().enumerate() {
            w.write(p, &[k as u8; PIXELS]).unwrap();
        }
        let meta = w.finish(1, Selection::All, Path::new("/src")).unwrap();
        assert_eq!(meta.count, 2);

        let lines: Vec<serde_json::Value> = fs::read_to_string(out.join(CATALOG_FILE))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["id"], 5);
        assert_eq!(lines[0]["category"], "Bag");
        assert_eq!(lines[0]["label"], 8);
        assert_eq!(lines[1]["split"], "test");
        let price = lines[1]["price"].as_f64().unwrap();
        assert_eq!((price * 100.0).round() as u32, products[1].price_cents);
        for field in [
            "name",
            "gender",
            "size",
            "colour",
            "material",
            "style",
            "occasion",
            "brand",
            "description",
            "short_description",
            "keywords",
        ] {
            assert!(
                lines[0][field].as_str().is_some_and(|s| !s.is_empty()),
                "{field}"
            );
        }

        let pixels = fs::read(out.join(IMAGES_FILE)).unwrap();
        assert_eq!(pixels.len(), 2 * PIXELS);
        assert_eq!(pixels[PIXELS], 1);

        let meta: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join(META_FILE)).unwrap()).unwrap();
        assert_eq!(meta["images_shape"], serde_json::json!([2, 28, 28]));
        assert_eq!(meta["categories"][9], "Ankle boot");
        assert!(!out.join("catalog.jsonl.partial").exists());
    }

    #[test]
    fn unfinished_export_has_no_meta() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(META_FILE), "{}").unwrap();
        let w = ExportWriter::create(dir.path()).unwrap();
        drop(w);
        assert!(!dir.path().join(META_FILE).exists());
    }
}
