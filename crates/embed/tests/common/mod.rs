//! Where the tests find the ONNX Runtime library and the shipped models.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The library `./fashrec.sh setup` installs into .deps/, or FASHREC_ORT_LIB.
pub fn runtime_library() -> PathBuf {
    std::env::var_os("FASHREC_ORT_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../.deps/onnxruntime/libonnxruntime.so.1.32.0")
        })
}

/// The repository's models/ directory (manifest.json and the ONNX files).
pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

/// The repository's training/reference/ directory (reference.json and its images).
pub fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../training/reference")
}

/// Loads the runtime and every model of models/, or panics saying what to set up.
pub fn pipeline() -> fashrec_embed::Pipeline {
    let lib = runtime_library();
    fashrec_embed::init_runtime(&lib)
        .unwrap_or_else(|e| panic!("{e} (run ./fashrec.sh setup, or set FASHREC_ORT_LIB)"));
    fashrec_embed::Pipeline::load(&models_dir(), 1).unwrap_or_else(|e| panic!("{e}"))
}

/// Cosine similarity in f64, so the comparison itself adds no rounding worth mentioning.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "vectors of different sizes");
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let norm = |v: &[f32]| {
        v.iter()
            .map(|&x| f64::from(x) * f64::from(x))
            .sum::<f64>()
            .sqrt()
    };
    dot / (norm(a) * norm(b))
}
