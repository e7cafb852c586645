//! ONNX Runtime, loaded from a shared library path once per process.

use std::path::Path;
use std::sync::{Mutex, OnceLock};

static ENVIRONMENT: OnceLock<ort::environment::Environment> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

/// Why a model could not be loaded or run; each message names the file or setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("could not load the ONNX Runtime library {path}: {reason}")]
    Runtime { path: String, reason: String },
    #[error("could not load model {path}: {reason}")]
    Load { path: String, reason: String },
    #[error("model {path} does not match the manifest: {reason}")]
    Mismatch { path: String, reason: String },
    #[error("model run failed: {0}")]
    Run(String),
}

/// The process's runtime environment, once `init_runtime` succeeded.
pub(crate) fn environment() -> Option<&'static ort::environment::Environment> {
    ENVIRONMENT.get()
}

/// Loads ONNX Runtime from `library` unless it is already loaded. Every later call is a no-op,
/// whatever path it names: one process holds one runtime.
pub fn init_runtime(library: &Path) -> Result<(), ModelError> {
    if ENVIRONMENT.get().is_some() {
        return Ok(());
    }
    let _guard = INIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if ENVIRONMENT.get().is_some() {
        return Ok(());
    }
    let fail = |reason: String| ModelError::Runtime {
        path: library.display().to_string(),
        reason,
    };
    if !library.is_file() {
        return Err(fail("no such file".into()));
    }
    let environment = ort::init_from(library)
        .map_err(|e| fail(e.to_string()))?
        .with_name("fashrec")
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let _ = ENVIRONMENT.set(environment);
    Ok(())
}
