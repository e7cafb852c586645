//! Runs a tiny ONNX model through the runtime library that `./fashrec.sh setup` installs.

mod common;

use common::runtime_library;
use fashrec_embed::{init_runtime, Input, Model, ModelError};
use ndarray::array;
use std::path::{Path, PathBuf};

fn tiny_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny.onnx")
}

#[test]
fn runs_a_model() {
    let lib = runtime_library();
    init_runtime(&lib)
        .unwrap_or_else(|e| panic!("{e} (run ./fashrec.sh setup, or set FASHREC_ORT_LIB)"));
    let mut model = Model::load(&tiny_model(), 1).expect("tiny.onnx loads");
    assert_eq!(model.input_names(), ["x"]);
    assert_eq!(model.output_names(), ["y"]);
    let x = array![[1.0f32, 2.0, 3.0], [0.0, -1.0, 0.5]].into_dyn();
    let y = model
        .run(&[Input::F32("x", x.view())], &["y"])
        .expect("runs");
    assert_eq!(y[0].shape(), &[2, 3]);
    assert_eq!(
        y[0].iter().copied().collect::<Vec<f32>>(),
        [3.0, 5.0, 7.0, 1.0, -1.0, 2.0]
    );
    let wrong = model.run(&[Input::F32("x", x.view())], &["nope"]);
    assert!(matches!(wrong, Err(ModelError::Run(msg)) if msg.contains("nope")));
    let bad_shape = array![[1.0f32, 2.0]].into_dyn();
    assert!(model
        .run(&[Input::F32("x", bad_shape.view())], &["y"])
        .is_err());
}

#[test]
fn missing_files_are_clear_errors() {
    let err = init_runtime(Path::new("/nonexistent/libonnxruntime.so")).err();
    // Another test in this process may have loaded the runtime already; then init is a no-op.
    if let Some(err) = err {
        assert!(
            err.to_string().contains("/nonexistent/libonnxruntime.so"),
            "{err}"
        );
    }
    init_runtime(&runtime_library()).expect("runtime loads");
    let err = Model::load(Path::new("/nonexistent/model.onnx"), 1)
        .err()
        .expect("missing model is an error");
    assert!(
        err.to_string()
            .contains("/nonexistent/model.onnx: no such file"),
        "{err}"
    );
}
