//! Fashion-MNIST as an e-commerce catalog, without PostgreSQL.
//!
//! Reads the idx files of the Debian package `dataset-fashion-mnist`, gives every image a
//! product id (train 0..59999, test 60000..69999) and deterministic shop metadata (gender,
//! size, price, colour, material, style, occasion, brand, texts) following per-category rules,
//! the colour agreeing with how dark the product is in its picture, encodes images as PNG and
//! exports the catalog as JSON lines for training.

pub mod attributes;
pub mod dataset;
pub mod error;
pub mod export;
pub mod generator;
pub mod idx;
pub mod png;
pub mod product;
pub mod rng;
pub mod tone;

pub use dataset::{Dataset, Selection, DEFAULT_DIR};
pub use error::CatalogError;
pub use generator::{generate, DEFAULT_SEED};
pub use product::{Category, Gender, Product, Split};
pub use tone::Tone;
