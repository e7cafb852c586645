//! The models of this backend: loaded on first use from the model directory, once per process,
//! with every signal blocked while ONNX Runtime starts its threads so that PostgreSQL's signals
//! (query cancel, termination) keep reaching the backend's own thread.

use super::settings;
use crate::error::raise_error;
use fashrec_embed::{init_runtime, Pipeline};
use fashrec_signals::BlockedSignals;
use pgrx::PgSqlErrorCode;
use std::cell::RefCell;

thread_local! {
    static PIPELINE: RefCell<Option<Pipeline>> = const { RefCell::new(None) };
}

/// Loads the models named by the settings, or raises an ERROR saying which setting to check.
fn load() -> Pipeline {
    let library = settings::ort_library();
    let dir = settings::model_dir();
    let threads = settings::THREADS.get().max(1) as usize;
    let loaded = {
        let _blocked = BlockedSignals::new();
        init_runtime(&library).and_then(|()| Pipeline::load(&dir, threads))
    };
    loaded.unwrap_or_else(|e| {
        raise_error(
            PgSqlErrorCode::ERRCODE_CONFIG_FILE_ERROR,
            format!("fashrec cannot load its models: {e}"),
            None,
            Some("Check the settings fashrec.model_dir and fashrec.onnxruntime_library (superuser), and that ./fashrec.sh installed the models."),
        )
    })
}

/// Runs `f` on this backend's models, loading them first if needed.
pub fn with_pipeline<T>(f: impl FnOnce(&mut Pipeline) -> T) -> T {
    PIPELINE.with(|cell| f(cell.borrow_mut().get_or_insert_with(load)))
}
