//! Text to model input: the MiniLM tokenizer with sentence-transformers' truncation.

use ndarray::Array2;
use std::path::Path;
use tokenizers::{Tokenizer, TruncationParams};

/// A tokenizer that truncates each text to a fixed number of tokens and pads a batch to its
/// longest member.
pub struct TextTokenizer {
    inner: Tokenizer,
}

/// Token ids and attention mask for a batch, int64 [batch, tokens], right-padded with 0.
pub struct Tokens {
    pub ids: Array2<i64>,
    pub mask: Array2<i64>,
}

impl TextTokenizer {
    /// Loads tokenizer.json and sets truncation at `max_tokens` (special tokens included).
    pub fn load(path: &Path, max_tokens: usize) -> Result<Self, String> {
        let mut inner = Tokenizer::from_file(path)
            .map_err(|e| format!("could not load tokenizer {}: {e}", path.display()))?;
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(|e| format!("tokenizer {}: {e}", path.display()))?;
        Ok(Self { inner })
    }

    /// Tokenizes a batch of texts, one after the other on the calling thread: `encode_batch`
    /// would start rayon's thread pool inside a PostgreSQL backend, with threads that take the
    /// backend's signals and that no thread setting caps.
    pub fn encode(&self, texts: &[&str]) -> Result<Tokens, String> {
        let encodings = texts
            .iter()
            .map(|&text| self.inner.encode(text, true))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("tokenizing failed: {e}"))?;
        let width = encodings
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(0);
        let mut ids = Array2::zeros((texts.len(), width));
        let mut mask = Array2::zeros((texts.len(), width));
        for (row, encoding) in encodings.iter().enumerate() {
            for (col, &id) in encoding.get_ids().iter().enumerate() {
                ids[[row, col]] = i64::from(id);
                mask[[row, col]] = 1;
            }
        }
        Ok(Tokens { ids, mask })
    }
}
