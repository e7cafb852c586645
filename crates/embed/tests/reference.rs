//! The Rust pipeline gives what the Python training code gives: for every image and text of
//! training/reference/reference.json (made by training/fashrec_train/reference.py with Python
//! onnxruntime on the same models), the model input and the vectors agree within the tolerances
//! the file states.

mod common;

use common::{cosine, models_dir, pipeline, reference_dir};
use fashrec_embed::{canonical, decode_image, luma, DecodeLimits, Manifest, TextTokenizer};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    tolerance: Tolerance,
    images: Vec<ImageRef>,
    texts: Vec<TextRef>,
}

#[derive(Deserialize)]
struct Tolerance {
    input_abs: f32,
    embedding_cosine_png: f64,
    embedding_cosine_jpeg: f64,
}

#[derive(Deserialize)]
struct ImageRef {
    file: String,
    input: Vec<f32>,
    embedding: Vec<f32>,
    predicted: String,
}

#[derive(Deserialize)]
struct TextRef {
    text: String,
    input_ids: Vec<i64>,
    sentence_embedding: Vec<f32>,
    embedding: Vec<f32>,
}

fn reference() -> Reference {
    let path = reference_dir().join("reference.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn is_jpeg(file: &str) -> bool {
    file.ends_with(".jpg") || file.ends_with(".jpeg")
}

/// The worst of a set of comparisons, kept with the name of the input it came from.
struct Worst {
    what: &'static str,
    value: f64,
    at: String,
}

impl Worst {
    fn lowest(what: &'static str) -> Self {
        Self {
            what,
            value: f64::INFINITY,
            at: String::new(),
        }
    }
    fn highest(what: &'static str) -> Self {
        Self {
            what,
            value: f64::NEG_INFINITY,
            at: String::new(),
        }
    }
    fn keep_low(&mut self, value: f64, at: &str) {
        if value < self.value {
            (self.value, self.at) = (value, at.to_string());
        }
    }
    fn keep_high(&mut self, value: f64, at: &str) {
        if value > self.value {
            (self.value, self.at) = (value, at.to_string());
        }
    }
    fn report(&self) {
        println!("{}: {:.9} ({})", self.what, self.value, self.at);
    }
}

#[test]
fn images_match_python_onnxruntime() {
    let reference = reference();
    let tol = &reference.tolerance;
    assert!(
        !reference.images.is_empty(),
        "reference.json lists no images"
    );
    let manifest = Manifest::read(&models_dir()).unwrap_or_else(|e| panic!("{e}"));
    let params = manifest.image.preprocessing;
    let files: Vec<Vec<u8>> = reference
        .images
        .iter()
        .map(|r| {
            let path = reference_dir().join(&r.file);
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect();

    let mut failures = Vec::new();
    let (mut png_input, mut jpeg_input) = (
        Worst::highest("PNG input, largest |difference|"),
        Worst::highest("JPEG input, largest |difference|"),
    );
    for (r, bytes) in reference.images.iter().zip(&files) {
        let img = decode_image(bytes, DecodeLimits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", r.file));
        let input = canonical(&luma(&img), &params).unwrap_or_else(|e| panic!("{}: {e}", r.file));
        assert_eq!(input.len(), r.input.len(), "{}: input size", r.file);
        let worst = input
            .iter()
            .zip(&r.input)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        if is_jpeg(&r.file) {
            // PIL's libjpeg and image-rs differ in the inverse DCT and chroma upsampling, so the
            // pixels may differ slightly and only the JPEG embedding tolerance is promised.
            jpeg_input.keep_high(f64::from(worst), &r.file);
        } else {
            png_input.keep_high(f64::from(worst), &r.file);
            if worst > tol.input_abs {
                failures.push(format!(
                    "{}: input differs by up to {worst}, more than {}",
                    r.file, tol.input_abs
                ));
            }
        }
    }

    // One batch, as embed_images runs it in the database.
    let mut pipeline = pipeline();
    let slices: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    let outputs = pipeline
        .embed_images(&slices, DecodeLimits::default(), &mut || {})
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        outputs.len(),
        reference.images.len(),
        "one output per image"
    );
    let categories = pipeline.categories().to_vec();
    let (mut png, mut jpeg) = (
        Worst::lowest("PNG embedding, lowest cosine"),
        Worst::lowest("JPEG embedding, lowest cosine"),
    );
    for (r, out) in reference.images.iter().zip(&outputs) {
        let cos = cosine(&out.embedding, &r.embedding);
        let (bar, worst) = if is_jpeg(&r.file) {
            (tol.embedding_cosine_jpeg, &mut jpeg)
        } else {
            (tol.embedding_cosine_png, &mut png)
        };
        worst.keep_low(cos, &r.file);
        if cos < bar {
            failures.push(format!(
                "{}: embedding cosine {cos:.9} to Python's, below {bar}",
                r.file
            ));
        }
        let best = out
            .probabilities
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i);
        let predicted = best.and_then(|i| categories.get(i)).map(String::as_str);
        if predicted != Some(r.predicted.as_str()) {
            failures.push(format!(
                "{}: classified as {predicted:?}, Python says {}",
                r.file, r.predicted
            ));
        }
    }
    for worst in [&png_input, &jpeg_input, &png, &jpeg] {
        worst.report();
    }
    assert!(
        failures.is_empty(),
        "{} of {} images differ from the Python reference:\n{}",
        failures.len(),
        outputs.len(),
        failures.join("\n")
    );
}

#[test]
fn texts_match_python_onnxruntime() {
    let reference = reference();
    let bar = reference.tolerance.embedding_cosine_png;
    assert!(!reference.texts.is_empty(), "reference.json lists no texts");
    let manifest = Manifest::read(&models_dir()).unwrap_or_else(|e| panic!("{e}"));
    let tokenizer = TextTokenizer::load(
        &models_dir().join(&manifest.text.tokenizer.file),
        manifest.text.max_tokens,
    )
    .unwrap_or_else(|e| panic!("{e}"));

    let mut failures = Vec::new();
    for r in &reference.texts {
        let tokens = tokenizer
            .encode(&[r.text.as_str()])
            .unwrap_or_else(|e| panic!("{e}"));
        let ids = tokens.ids.row(0).to_vec();
        if ids != r.input_ids {
            failures.push(format!(
                "{:.40?}: token ids {ids:?}, Python's {:?}",
                r.text, r.input_ids
            ));
        }
    }

    // Text is input the model sees exactly as Python did, so the PNG (exact input) bar applies.
    let mut pipeline = pipeline();
    let texts: Vec<&str> = reference.texts.iter().map(|r| r.text.as_str()).collect();
    let outputs = pipeline
        .embed_texts(&texts)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outputs.len(), texts.len(), "one output per text");
    let (mut sentence, mut mapped) = (
        Worst::lowest("sentence embedding, lowest cosine"),
        Worst::lowest("mapped text embedding, lowest cosine"),
    );
    for (r, out) in reference.texts.iter().zip(&outputs) {
        let name = format!("{:.40?}", r.text);
        for (what, got, want, worst) in [
            (
                "sentence embedding",
                &out.sentence,
                &r.sentence_embedding,
                &mut sentence,
            ),
            ("mapped embedding", &out.mapped, &r.embedding, &mut mapped),
        ] {
            let cos = cosine(got, want);
            worst.keep_low(cos, &name);
            if cos < bar {
                failures.push(format!(
                    "{name}: {what} cosine {cos:.9} to Python's, below {bar}"
                ));
            }
        }
    }
    sentence.report();
    mapped.report();
    assert!(
        failures.is_empty(),
        "{} differences from the Python reference:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
