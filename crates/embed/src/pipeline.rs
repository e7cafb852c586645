//! From bytes and text to vectors: decode, preprocess, run the models of the manifest.

use crate::decode::{decode_image, DecodeError, DecodeLimits};
use crate::manifest::Manifest;
use crate::model::{Input, Model};
use crate::preprocess::{canonical, luma, PreprocessError, CANVAS};
use crate::product::ProductSpace;
use crate::recent::Recent;
use crate::runtime::ModelError;
use crate::text::TextTokenizer;
use ndarray::Array4;
use std::num::NonZeroUsize;
use std::path::Path;

/// Images per model run in a batch.
const IMAGE_BATCH: usize = 64;

/// Single texts and images whose results are kept (see recent.rs): a text query is small, an
/// uploaded photo is not, so at most 64 x 4 KiB of texts and 4 x 1 MiB of images are held.
const RECENT_TEXTS: NonZeroUsize = NonZeroUsize::new(64).unwrap();
const RECENT_TEXT_BYTES: usize = 4096;
const RECENT_IMAGES: NonZeroUsize = NonZeroUsize::new(4).unwrap();
const RECENT_IMAGE_BYTES: usize = 1 << 20;

/// Why an input could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error("{0}")]
    Preprocess(#[from] PreprocessError),
    #[error("{0}")]
    Model(#[from] ModelError),
}

/// What the image model says about one image.
#[derive(Debug, Clone)]
pub struct ImageOutput {
    /// Unit-length embedding.
    pub embedding: Vec<f32>,
    /// Category probabilities, in the manifest's category order.
    pub probabilities: Vec<f32>,
}

/// What the text models say about one text.
#[derive(Debug, Clone)]
pub struct TextOutput {
    /// The text mapped into the image embedding space, unit length.
    pub mapped: Vec<f32>,
    /// The plain sentence embedding, unit length.
    pub sentence: Vec<f32>,
    /// The scores of the catalog attribute values the text states (the words part, not normalised).
    pub attributes: Vec<f32>,
}

/// The loaded models of one process.
pub struct Pipeline {
    manifest: Manifest,
    image: Model,
    encoder: Model,
    mapper: Model,
    product_words: Model,
    tokenizer: TextTokenizer,
    recent_texts: Recent<String, TextOutput>,
    recent_images: Recent<Vec<u8>, ImageOutput>,
}

fn check_io(model: &Model, inputs: &[&str], outputs: &[&str]) -> Result<(), ModelError> {
    let (have_in, have_out) = (model.input_names(), model.output_names());
    for (wanted, have, kind) in [(inputs, &have_in, "input"), (outputs, &have_out, "output")] {
        if let Some(missing) = wanted.iter().find(|w| !have.iter().any(|h| h == *w)) {
            return Err(ModelError::Mismatch {
                path: model.path().to_string(),
                reason: format!("the manifest names {kind} {missing}, the model has {have:?}"),
            });
        }
    }
    Ok(())
}

/// A words output must fill the product vector beside the picture.
fn check_words_dims(
    manifest: &Manifest,
    model: &Model,
    output: &str,
    per_text: usize,
) -> Result<(), ModelError> {
    if manifest.product.dims.checked_sub(manifest.image.dims) == Some(per_text) {
        return Ok(());
    }
    Err(ModelError::Mismatch {
        path: model.path().to_string(),
        reason: format!(
            "the manifest's product vector has {} dims, {} of them the picture's, but the model's {output} output has {per_text} per text",
            manifest.product.dims, manifest.image.dims
        ),
    })
}

fn normalized(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::MIN, f32::max);
    let exp: Vec<f32> = logits.iter().map(|&l| (l - max).exp()).collect();
    let total: f32 = exp.iter().sum();
    exp.iter().map(|e| e / total).collect()
}

impl Pipeline {
    /// Loads every model of `dir`'s manifest, checking checksums and input/output names.
    pub fn load(dir: &Path, threads: usize) -> Result<Self, ModelError> {
        let manifest = Manifest::read(dir)?;
        let image = Model::load(&Manifest::verified(dir, &manifest.image.file)?, threads)?;
        let m = &manifest.image;
        check_io(
            &image,
            &[&m.input],
            &[&m.embedding_output, &m.logits_output],
        )?;
        let t = &manifest.text;
        let encoder = Model::load(&Manifest::verified(dir, &t.encoder)?, threads)?;
        check_io(
            &encoder,
            &["input_ids", "attention_mask"],
            &[&t.encoder_output],
        )?;
        let mapper = Model::load(&Manifest::verified(dir, &t.mapper)?, threads)?;
        check_io(
            &mapper,
            &[&t.mapper_input],
            &[&t.mapper_output, &t.mapper_attributes_output],
        )?;
        let product_words = Model::load(&Manifest::verified(dir, &t.product_words)?, threads)?;
        check_io(
            &product_words,
            &["input_ids", "attention_mask"],
            &[&t.product_words_output],
        )?;
        let tokenizer_path = Manifest::verified(dir, &t.tokenizer)?;
        let tokenizer = TextTokenizer::load(&tokenizer_path, t.max_tokens).map_err(|reason| {
            ModelError::Load {
                path: tokenizer_path.display().to_string(),
                reason,
            }
        })?;
        Ok(Self {
            manifest,
            image,
            encoder,
            mapper,
            product_words,
            tokenizer,
            recent_texts: Recent::new(RECENT_TEXTS, RECENT_TEXT_BYTES),
            recent_images: Recent::new(RECENT_IMAGES, RECENT_IMAGE_BYTES),
        })
    }

    /// How product, text and photo vectors are put together.
    pub fn space(&self) -> &ProductSpace {
        &self.manifest.product
    }

    /// Product vectors of images and the shop's texts about them, pairwise (see product.rs).
    pub fn embed_products(
        &mut self,
        images: &[&[u8]],
        texts: &[&str],
        limits: DecodeLimits,
        between: &mut dyn FnMut(),
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let pictures = self.embed_images(images, limits, between)?;
        let words = self.product_words(texts)?;
        let space = self.space();
        Ok(pictures
            .iter()
            .zip(&words)
            .map(|(p, w)| space.product(&p.embedding, w))
            .collect())
    }

    /// The attribute scores of shop texts about their products, from the product words model: a
    /// bag of the texts' tokens, for a fraction of the encoder's cost (models/MODEL_CARD.md).
    pub fn product_words(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let Self {
            manifest,
            product_words,
            tokenizer,
            ..
        } = self;
        let output = &manifest.text.product_words_output;
        let tokens = tokenizer.encode(texts).map_err(ModelError::Run)?;
        let (ids, mask) = (tokens.ids.into_dyn(), tokens.mask.into_dyn());
        let words = product_words.run(
            &[
                Input::I64("input_ids", ids.view()),
                Input::I64("attention_mask", mask.view()),
            ],
            &[output],
        )?;
        check_words_dims(
            manifest,
            product_words,
            output,
            words[0].len() / texts.len(),
        )?;
        Ok(words[0]
            .outer_iter()
            .map(|row| row.iter().copied().collect())
            .collect())
    }

    /// Category names in the classifier's order.
    pub fn categories(&self) -> &[String] {
        &self.manifest.categories
    }

    /// Embeds and classifies images; `between` runs between images (for query cancel).
    pub fn embed_images(
        &mut self,
        images: &[&[u8]],
        limits: DecodeLimits,
        between: &mut dyn FnMut(),
    ) -> Result<Vec<ImageOutput>, EmbedError> {
        self.embed_image_batches(images, limits, between, true)?
            .into_iter()
            .collect()
    }

    /// embed_images with each image's own outcome, so that a batch of rows can name the row whose
    /// image cannot be read; a model failure still fails them all.
    pub fn embed_images_each(
        &mut self,
        images: &[&[u8]],
        limits: DecodeLimits,
        between: &mut dyn FnMut(),
    ) -> Result<Vec<Result<ImageOutput, EmbedError>>, ModelError> {
        self.embed_image_batches(images, limits, between, false)
    }

    /// Decodes and runs `images` IMAGE_BATCH at a time. With `stop_at_bad`, the first image that
    /// cannot be read ends the work and is the last (and only failed) outcome returned.
    fn embed_image_batches(
        &mut self,
        images: &[&[u8]],
        limits: DecodeLimits,
        between: &mut dyn FnMut(),
        stop_at_bad: bool,
    ) -> Result<Vec<Result<ImageOutput, EmbedError>>, ModelError> {
        let Self {
            manifest, image, ..
        } = self;
        let m = &manifest.image;
        let mut outcomes = Vec::with_capacity(images.len());
        for chunk in images.chunks(IMAGE_BATCH) {
            let mut pixels = Vec::with_capacity(chunk.len());
            for bytes in chunk {
                between();
                let canvas = decode_image(bytes, limits)
                    .map_err(EmbedError::from)
                    .and_then(|img| Ok(canonical(&luma(&img), &m.preprocessing)?));
                if stop_at_bad {
                    if let Err(bad) = canvas {
                        outcomes.push(Err(bad));
                        return Ok(outcomes);
                    }
                }
                pixels.push(canvas);
            }
            let good = pixels.iter().filter(|p| p.is_ok()).count();
            let mut batch = Array4::<f32>::zeros((good, 1, CANVAS, CANVAS));
            for (i, canvas) in pixels.iter().flatten().enumerate() {
                for (dst, &src) in batch
                    .slice_mut(ndarray::s![i, 0, .., ..])
                    .iter_mut()
                    .zip(canvas)
                {
                    *dst = src;
                }
            }
            let run = if good > 0 {
                image.run(
                    &[Input::F32(&m.input, batch.into_dyn().view())],
                    &[&m.embedding_output, &m.logits_output],
                )?
            } else {
                Vec::new()
            };
            let mut i = 0;
            for canvas in pixels {
                outcomes.push(canvas.map(|_| {
                    let row = |k: usize| -> Vec<f32> {
                        run[k]
                            .index_axis(ndarray::Axis(0), i)
                            .iter()
                            .copied()
                            .collect()
                    };
                    let out = ImageOutput {
                        embedding: normalized(row(0)),
                        probabilities: softmax(&row(1)),
                    };
                    i += 1;
                    out
                }));
            }
        }
        Ok(outcomes)
    }

    /// One image's output, from the recent results when the same bytes were embedded lately.
    pub fn embed_image(
        &mut self,
        bytes: &[u8],
        between: &mut dyn FnMut(),
    ) -> Result<ImageOutput, EmbedError> {
        if let Some(out) = self.recent_images.get(bytes) {
            return Ok(out);
        }
        let out = self
            .embed_images(&[bytes], DecodeLimits::default(), between)?
            .swap_remove(0);
        self.recent_images
            .put(bytes.to_vec(), bytes.len(), out.clone());
        Ok(out)
    }

    /// One text's output, from the recent results when the same text was embedded lately.
    pub fn embed_text(&mut self, text: &str) -> Result<TextOutput, EmbedError> {
        if let Some(out) = self.recent_texts.get(text) {
            return Ok(out);
        }
        let out = self.embed_texts(&[text])?.swap_remove(0);
        self.recent_texts
            .put(text.to_string(), text.len(), out.clone());
        Ok(out)
    }

    /// The sentence embeddings of texts and their mapping into the image space.
    pub fn embed_texts(&mut self, texts: &[&str]) -> Result<Vec<TextOutput>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let Self {
            manifest,
            encoder,
            mapper,
            tokenizer,
            ..
        } = self;
        let t = &manifest.text;
        // One text per encoder run: the quantised encoder scales its activations per run, so a
        // text in a batch would get another vector than alone (models/MODEL_CARD.md).
        let mut sentences = Vec::with_capacity(texts.len());
        for text in texts {
            let tokens = tokenizer.encode(&[text]).map_err(ModelError::Run)?;
            let (ids, mask) = (tokens.ids.into_dyn(), tokens.mask.into_dyn());
            // One output per name asked for, or an error.
            sentences.extend(encoder.run(
                &[
                    Input::I64("input_ids", ids.view()),
                    Input::I64("attention_mask", mask.view()),
                ],
                &[&t.encoder_output],
            )?);
        }
        let views: Vec<_> = sentences.iter().map(|s| s.view()).collect();
        let sentences = ndarray::concatenate(ndarray::Axis(0), &views)
            .map_err(|e| ModelError::Run(format!("the encoder's outputs differ in shape: {e}")))?;
        let mapped = mapper.run(
            &[Input::F32(&t.mapper_input, sentences.view())],
            &[&t.mapper_output, &t.mapper_attributes_output],
        )?;
        check_words_dims(
            manifest,
            mapper,
            &t.mapper_attributes_output,
            mapped[1].len() / texts.len(),
        )?;
        Ok((0..texts.len())
            .map(|i| TextOutput {
                sentence: normalized(
                    sentences
                        .index_axis(ndarray::Axis(0), i)
                        .iter()
                        .copied()
                        .collect(),
                ),
                mapped: normalized(
                    mapped[0]
                        .index_axis(ndarray::Axis(0), i)
                        .iter()
                        .copied()
                        .collect(),
                ),
                attributes: mapped[1]
                    .index_axis(ndarray::Axis(0), i)
                    .iter()
                    .copied()
                    .collect(),
            })
            .collect())
    }
}
