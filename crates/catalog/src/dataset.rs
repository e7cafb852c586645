//! Fashion-MNIST as installed by the Debian package `dataset-fashion-mnist`, addressed by product id.
//!
//! Product ids: train image i is id i (0..59999), test image i is id 60000 + i (60000..69999).

use std::path::{Path, PathBuf};

use crate::error::CatalogError;
use crate::generator::generate;
use crate::idx::{read_images, read_labels, Images};
use crate::product::{Category, Product, Split};
use crate::tone::darkness_quantiles;

/// Where the Debian package installs the files.
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";
/// Images in the train file; also the id of the first test image.
pub const TRAIN_COUNT: usize = 60_000;
/// Images in the test (t10k) file.
pub const TEST_COUNT: usize = 10_000;
/// Image side in pixels.
pub const SIDE: usize = 28;
/// Bytes per image.
pub const PIXELS: usize = SIDE * SIDE;

/// Which split a product id belongs to.
pub fn split_of(id: u32) -> Split {
    if (id as usize) < TRAIN_COUNT {
        Split::Train
    } else {
        Split::Test
    }
}

/// Which products to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// All 70,000: train then test.
    All,
    /// The first N images of each class in the train split, like the seed report's 500 per class.
    Balanced(usize),
}

/// One split's images (28x28 each, concatenated) and labels.
#[derive(Debug, Clone)]
struct SplitData {
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

/// Both Fashion-MNIST splits in memory (about 55 MB).
#[derive(Debug, Clone)]
pub struct Dataset {
    train: SplitData,
    test: SplitData,
    /// Each image's darkness quantile within its category over the whole dataset, train then
    /// test, so a product's colour does not depend on which products are selected.
    darkness_quantiles: Vec<f64>,
}

impl Dataset {
    /// Reads and checks the four files under `dir` (normally [`DEFAULT_DIR`]).
    pub fn load(dir: &Path) -> Result<Dataset, CatalogError> {
        if !dir.is_dir() {
            return Err(CatalogError::Missing {
                path: dir.to_path_buf(),
            });
        }
        let file = |name: &str| -> PathBuf { dir.join(name) };
        let train = read_split(
            &file("train-images-idx3-ubyte.gz"),
            &file("train-labels-idx1-ubyte.gz"),
            TRAIN_COUNT,
        )?;
        let test = read_split(
            &file("t10k-images-idx3-ubyte.gz"),
            &file("t10k-labels-idx1-ubyte.gz"),
            TEST_COUNT,
        )?;
        Ok(Dataset::new(train, test))
    }

    fn new(train: SplitData, test: SplitData) -> Dataset {
        let images: Vec<(u8, &[u8])> = [&train, &test]
            .into_iter()
            .flat_map(|s| s.labels.iter().copied().zip(s.pixels.chunks_exact(PIXELS)))
            .collect();
        let darkness_quantiles = darkness_quantiles(&images);
        Dataset {
            train,
            test,
            darkness_quantiles,
        }
    }

    /// Number of products (70,000 for the real dataset).
    pub fn len(&self) -> usize {
        self.train.labels.len() + self.test.labels.len()
    }

    /// True when there are no images at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The split data and index within it of a product id, None if the id is out of range.
    fn locate(&self, id: u32) -> Option<(&SplitData, usize)> {
        let index = id as usize;
        match split_of(id) {
            Split::Train => (index < self.train.labels.len()).then_some((&self.train, index)),
            Split::Test => {
                let i = index - TRAIN_COUNT;
                (i < self.test.labels.len()).then_some((&self.test, i))
            }
        }
    }

    /// The category of a product, None if the id is out of range.
    pub fn category(&self, id: u32) -> Option<Category> {
        self.locate(id)
            .and_then(|(s, i)| Category::from_label(s.labels[i]))
    }

    /// The 28x28 grayscale pixels of a product, row-major, None if the id is out of range.
    pub fn image(&self, id: u32) -> Option<&[u8]> {
        self.locate(id)
            .map(|(s, i)| &s.pixels[i * PIXELS..(i + 1) * PIXELS])
    }

    /// How dark a product's picture is among its category's (0 lightest, 1 darkest), None if the
    /// id is out of range.
    pub fn darkness_quantile(&self, id: u32) -> Option<f64> {
        let (_, i) = self.locate(id)?;
        let offset = match split_of(id) {
            Split::Train => 0,
            Split::Test => self.train.labels.len(),
        };
        self.darkness_quantiles.get(offset + i).copied()
    }

    /// The product of id `id` in the catalog of `seed`, None if the id is out of range.
    pub fn product(&self, seed: u64, id: u32) -> Option<Product> {
        Some(generate(
            seed,
            id,
            self.category(id)?,
            self.darkness_quantile(id)?,
        ))
    }

    /// The product ids of a selection, ascending.
    pub fn select(&self, selection: Selection) -> Result<Vec<u32>, CatalogError> {
        match selection {
            Selection::All => {
                let train = 0..self.train.labels.len() as u32;
                let test = (0..self.test.labels.len() as u32).map(|i| TRAIN_COUNT as u32 + i);
                Ok(train.chain(test).collect())
            }
            Selection::Balanced(n) => {
                let mut taken = [0usize; 10];
                let mut ids = Vec::with_capacity(n * 10);
                for (i, &label) in self.train.labels.iter().enumerate() {
                    let slot = &mut taken[usize::from(label)];
                    if *slot < n {
                        *slot += 1;
                        ids.push(i as u32);
                    }
                }
                if let Some(short) = taken.iter().position(|&t| t < n) {
                    return Err(CatalogError::BalancedTooLarge {
                        requested: n,
                        available: taken[short],
                        category: Category::ALL[short].name(),
                    });
                }
                Ok(ids)
            }
        }
    }
}

/// Reads one split's image and label files and checks they agree with each other and with
/// the size Fashion-MNIST has (ids depend on it).
fn read_split(images: &Path, labels: &Path, expected: usize) -> Result<SplitData, CatalogError> {
    let Images {
        count,
        rows,
        cols,
        pixels,
    } = read_images(images)?;
    if (rows, cols) != (SIDE, SIDE) {
        return Err(CatalogError::corrupt(
            images,
            format!("images are {rows}x{cols}, expected {SIDE}x{SIDE}"),
        ));
    }
    if count != expected {
        return Err(CatalogError::corrupt(
            images,
            format!("{count} images, Fashion-MNIST has {expected}"),
        ));
    }
    let label_bytes = read_labels(labels)?;
    if label_bytes.len() != count {
        return Err(CatalogError::corrupt(
            labels,
            format!(
                "{} labels for the {count} images of {}",
                label_bytes.len(),
                images.display()
            ),
        ));
    }
    if let Some(pos) = label_bytes
        .iter()
        .position(|&l| Category::from_label(l).is_none())
    {
        return Err(CatalogError::corrupt(
            labels,
            format!(
                "label {} at index {pos} is not a class 0..9",
                label_bytes[pos]
            ),
        ));
    }
    Ok(SplitData {
        pixels,
        labels: label_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idx::tests::{idx_bytes, write_gz};
    use crate::idx::{IMAGES_MAGIC, LABELS_MAGIC};

    /// Writes a split's pair of files with `n` images and the given labels.
    fn write_split(dir: &Path, prefix: &str, n: u32, labels: &[u8], side: u32) {
        let pixels = vec![7u8; (n * side * side) as usize];
        write_gz(
            &dir.join(format!("{prefix}-images-idx3-ubyte.gz")),
            &idx_bytes(IMAGES_MAGIC, &[n, side, side], &pixels),
        );
        write_gz(
            &dir.join(format!("{prefix}-labels-idx1-ubyte.gz")),
            &idx_bytes(LABELS_MAGIC, &[labels.len() as u32], labels),
        );
    }

    #[test]
    fn missing_directory_names_the_package() {
        let err = Dataset::load(Path::new("/nonexistent/fashion-mnist")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/fashion-mnist"), "{msg}");
        assert!(
            msg.contains("apt-get install dataset-fashion-mnist"),
            "{msg}"
        );
    }

    #[test]
    fn missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = Dataset::load(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("train-images-idx3-ubyte.gz"),
            "{err}"
        );
    }

    #[test]
    fn count_mismatch_between_images_and_labels_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        write_split(
            dir.path(),
            "train",
            TRAIN_COUNT as u32,
            &[0; TRAIN_COUNT - 1],
            28,
        );
        let err = Dataset::load(dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .contains("59999 labels for the 60000 images"),
            "{err}"
        );
    }

    #[test]
    fn wrong_image_count_or_size_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        write_split(dir.path(), "train", 5, &[0; 5], 28);
        let err = Dataset::load(dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .contains("5 images, Fashion-MNIST has 60000"),
            "{err}"
        );

        write_split(dir.path(), "train", 5, &[0; 5], 27);
        let err = Dataset::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("27x27"), "{err}");
    }

    #[test]
    fn bad_label_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut labels = vec![0u8; TRAIN_COUNT];
        labels[123] = 10;
        write_split(dir.path(), "train", TRAIN_COUNT as u32, &labels, 28);
        let err = Dataset::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("label 10 at index 123"), "{err}");
    }

    /// A small in-memory dataset: train labels cycle 0..9, test labels all 3.
    fn tiny(train: usize, test: usize) -> Dataset {
        let split = |n: usize, label: fn(usize) -> u8| SplitData {
            pixels: (0..n * PIXELS).map(|i| (i / PIXELS) as u8).collect(),
            labels: (0..n).map(label).collect(),
        };
        Dataset::new(split(train, |i| (i % 10) as u8), split(test, |_| 3))
    }

    #[test]
    fn ids_address_train_then_test() {
        let d = tiny(20, 4);
        assert_eq!(d.len(), 24);
        assert_eq!(d.category(13), Some(Category::Dress));
        assert_eq!(d.category(60_002), Some(Category::Dress));
        assert_eq!(d.category(20), None);
        assert_eq!(d.category(60_004), None);
        assert_eq!(d.image(5).map(|p| p[0]), Some(5));
        assert_eq!(d.image(60_001).map(|p| p.len()), Some(PIXELS));
        assert_eq!(split_of(59_999), Split::Train);
        assert_eq!(split_of(60_000), Split::Test);
    }

    #[test]
    fn darkness_quantiles_rank_each_category_over_both_splits() {
        // Label 3 holds train images 3 and 13 and all four test images; image k's pixels are k.
        let d = tiny(20, 4);
        let q = |id| d.darkness_quantile(id);
        assert_eq!(q(60_000), Some(0.5 / 6.0));
        assert_eq!(q(3), Some(3.5 / 6.0));
        assert_eq!(q(60_003), Some(4.5 / 6.0));
        assert_eq!(q(13), Some(5.5 / 6.0));
        assert_eq!(q(60_004), None);
        // Label 0 holds train images 0 (all background) and 10.
        assert_eq!((q(0), q(10)), (Some(0.25), Some(0.75)));
    }

    #[test]
    fn selections() {
        let d = tiny(30, 4);
        let all = d.select(Selection::All).unwrap();
        assert_eq!(all.len(), 34);
        assert_eq!(all[30], 60_000);
        // First two of each class: ids 0..19 in a cycling label order.
        assert_eq!(
            d.select(Selection::Balanced(2)).unwrap(),
            (0..20).collect::<Vec<u32>>()
        );
        let err = d.select(Selection::Balanced(4)).unwrap_err();
        assert!(
            err.to_string()
                .contains("only 3 images of class T-shirt/top"),
            "{err}"
        );
    }
}
