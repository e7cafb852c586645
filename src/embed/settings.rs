//! Where the models and ONNX Runtime come from, and how many threads a model may use. The paths
//! are superuser-only: a path setting that any user could change would let them load any file.

use pgrx::{pg_sys, GucContext, GucFlags, GucRegistry, GucSetting};
use std::ffi::CString;
use std::path::PathBuf;

/// Directory holding manifest.json and the model files (empty: the one installed with the extension).
pub static MODEL_DIR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// ONNX Runtime shared library (empty: the one installed with the extension).
pub static ORT_LIBRARY: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// Intra-op threads of each model session.
pub static THREADS: GucSetting<i32> = GucSetting::<i32>::new(1);

/// The ONNX Runtime version whose library the setup installs.
pub const ORT_VERSION: &str = "1.32.0";

/// Registers the settings; runs once per backend from `_PG_init`.
pub fn register() {
    GucRegistry::define_string_guc(
        c"fashrec.model_dir",
        c"Directory of fashrec's models (manifest.json and the ONNX files)",
        c"Empty means the models installed with the extension, in SHAREDIR/extension/fashrec_models. Superuser only. Read when a backend first loads the models.",
        &MODEL_DIR,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"fashrec.onnxruntime_library",
        c"Path of the ONNX Runtime shared library fashrec loads",
        c"Empty means the library installed with the extension, PKGLIBDIR/fashrec_onnxruntime/libonnxruntime.so.1.32.0. Superuser only. Read once per backend.",
        &ORT_LIBRARY,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"fashrec.model_threads",
        c"Intra-op threads of each model in a backend",
        c"Each backend runs its own copy of the models; more threads speed up one query at the cost of other connections. Read when a backend first loads the models.",
        &THREADS,
        1,
        64,
        GucContext::Suset,
        GucFlags::default(),
    );
    // A misspelt name (SET fashrec.model_threds = 2) is then an ERROR, not a silent placeholder.
    // SAFETY: a NUL-terminated static string; PostgreSQL keeps its own copy.
    unsafe { pg_sys::MarkGUCPrefixReserved(c"fashrec".as_ptr()) };
}

/// A PostgreSQL installation directory, as `pg_config` would report it.
fn install_dir(get: unsafe fn(*const std::ffi::c_char, *mut std::ffi::c_char)) -> PathBuf {
    let mut buf = [0 as std::ffi::c_char; pg_sys::MAXPGPATH as usize];
    // SAFETY: my_exec_path is set at backend start; the buffer is MAXPGPATH long as required.
    unsafe {
        get(
            std::ptr::addr_of!(pg_sys::my_exec_path).cast(),
            buf.as_mut_ptr(),
        );
        PathBuf::from(
            std::ffi::CStr::from_ptr(buf.as_ptr())
                .to_string_lossy()
                .into_owned(),
        )
    }
}

fn setting_path(setting: &GucSetting<Option<CString>>) -> Option<PathBuf> {
    setting
        .get()
        .filter(|s| !s.as_bytes().is_empty())
        .map(|s| PathBuf::from(s.to_string_lossy().into_owned()))
}

/// The model directory in effect.
pub fn model_dir() -> PathBuf {
    setting_path(&MODEL_DIR)
        .unwrap_or_else(|| install_dir(pg_sys::get_share_path).join("extension/fashrec_models"))
}

/// The ONNX Runtime library in effect.
pub fn ort_library() -> PathBuf {
    setting_path(&ORT_LIBRARY).unwrap_or_else(|| {
        install_dir(pg_sys::get_pkglib_path).join(format!(
            "fashrec_onnxruntime/libonnxruntime.so.{ORT_VERSION}"
        ))
    })
}
