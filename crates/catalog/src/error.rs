//! Errors of the catalog crate, each naming the file or option to fix.

use std::path::PathBuf;

/// Why the dataset could not be read or the catalog not written.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(
        "Fashion-MNIST not found at {}: install the Debian package dataset-fashion-mnist \
         (apt-get install dataset-fashion-mnist)",
        .path.display()
    )]
    Missing { path: PathBuf },

    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "{} is corrupt: {problem}; reinstall the Debian package dataset-fashion-mnist \
         (apt-get install --reinstall dataset-fashion-mnist)",
        .path.display()
    )]
    Corrupt { path: PathBuf, problem: String },

    #[error(
        "--balanced {requested}: the train split holds only {available} images of class {category}"
    )]
    BalancedTooLarge {
        requested: usize,
        available: usize,
        category: &'static str,
    },

    #[error("cannot encode the image of product {id} as PNG: {problem}")]
    Png { id: u32, problem: String },
}

impl CatalogError {
    /// A corruption error for `path`, with the problem in words.
    pub(crate) fn corrupt(path: &std::path::Path, problem: impl Into<String>) -> Self {
        CatalogError::Corrupt {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }
}
