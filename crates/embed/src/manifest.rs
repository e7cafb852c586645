//! models/manifest.json: the one description of the models, written by training, read here.

use crate::preprocess::PreprocessParams;
use crate::product::ProductSpace;
use crate::runtime::ModelError;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One file of the model directory and its checksum.
#[derive(Debug, Clone, Deserialize)]
pub struct FileEntry {
    pub file: String,
    pub sha256: String,
}

/// The image model: input name and the names and sizes of its two outputs.
#[derive(Debug, Clone, Deserialize)]
pub struct ImageModel {
    #[serde(flatten)]
    pub file: FileEntry,
    pub input: String,
    pub embedding_output: String,
    pub logits_output: String,
    pub dims: usize,
    pub preprocessing: PreprocessParams,
}

/// The text encoder and the mapper into the image space.
#[derive(Debug, Clone, Deserialize)]
pub struct TextModels {
    pub encoder: FileEntry,
    pub encoder_output: String,
    pub sentence_dims: usize,
    pub mapper: FileEntry,
    pub mapper_input: String,
    pub mapper_output: String,
    /// The mapper's second output: the attribute scores of the words part (see product.rs).
    pub mapper_attributes_output: String,
    pub tokenizer: FileEntry,
    pub max_tokens: usize,
    /// The words part of a product from the shop's text, without the encoder (see product.rs).
    pub product_words: FileEntry,
    pub product_words_output: String,
}

/// The whole manifest.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub categories: Vec<String>,
    pub image: ImageModel,
    pub text: TextModels,
    pub product: ProductSpace,
}

impl Manifest {
    /// Reads `dir/manifest.json`.
    pub fn read(dir: &Path) -> Result<Self, ModelError> {
        let path = dir.join("manifest.json");
        let fail = |reason: String| ModelError::Load {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
        manifest.product.check(manifest.image.dims).map_err(fail)?;
        Ok(manifest)
    }

    /// The path of an entry, after checking that the file's sha256 is the manifest's.
    pub fn verified(dir: &Path, entry: &FileEntry) -> Result<PathBuf, ModelError> {
        let path = dir.join(&entry.file);
        let name = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| ModelError::Load {
            path: name.clone(),
            reason: e.to_string(),
        })?;
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if digest != entry.sha256.to_ascii_lowercase() {
            return Err(ModelError::Mismatch {
                path: name,
                reason: format!("sha256 is {digest}, the manifest says {}", entry.sha256),
            });
        }
        Ok(path)
    }
}
