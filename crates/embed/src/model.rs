//! One ONNX model: loaded from a file with a thread cap, run on f32 or i64 tensors.

use crate::runtime::ModelError;
use ndarray::{ArrayD, ArrayViewD};
use ort::session::{Session, SessionInputValue};
use ort::value::TensorRef;
use std::path::Path;

/// A loaded model session.
pub struct Model {
    session: Session,
    path: String,
}

/// One named input tensor.
pub enum Input<'a> {
    F32(&'a str, ArrayViewD<'a, f32>),
    I64(&'a str, ArrayViewD<'a, i64>),
}

impl Model {
    /// Loads `path` with at most `threads` intra-op threads. The runtime must be initialised.
    pub fn load(path: &Path, threads: usize) -> Result<Self, ModelError> {
        let name = path.display().to_string();
        let fail = |reason: String| ModelError::Load {
            path: name.clone(),
            reason,
        };
        if !path.is_file() {
            return Err(fail("no such file".into()));
        }
        let environment = crate::runtime::environment().ok_or_else(|| {
            fail("ONNX Runtime is not loaded yet (call init_runtime first)".into())
        })?;
        let session = Session::builder(environment)
            .map_err(|e| fail(e.to_string()))?
            .with_intra_threads(threads.max(1))
            .map_err(|e| fail(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| fail(e.to_string()))?
            .commit_from_file(path)
            .map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            session,
            path: name,
        })
    }

    /// The file this model was loaded from.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Input names in graph order.
    pub fn input_names(&self) -> Vec<String> {
        self.session
            .inputs()
            .iter()
            .map(|i| i.name().to_string())
            .collect()
    }

    /// Output names in graph order.
    pub fn output_names(&self) -> Vec<String> {
        self.session
            .outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect()
    }

    /// Runs the model and returns the named f32 outputs, in the order asked.
    pub fn run(
        &mut self,
        inputs: &[Input<'_>],
        outputs: &[&str],
    ) -> Result<Vec<ArrayD<f32>>, ModelError> {
        let run_err = |e: ort::Error| ModelError::Run(e.to_string());
        let mut values = Vec::with_capacity(inputs.len());
        for input in inputs {
            let (name, value): (&str, SessionInputValue<'_>) = match input {
                Input::F32(name, view) => (
                    *name,
                    TensorRef::from_array_view(view.view())
                        .map_err(run_err)?
                        .into(),
                ),
                Input::I64(name, view) => (
                    *name,
                    TensorRef::from_array_view(view.view())
                        .map_err(run_err)?
                        .into(),
                ),
            };
            values.push((std::borrow::Cow::Borrowed(name), value));
        }
        let result = self.session.run(values).map_err(run_err)?;
        outputs
            .iter()
            .map(|name| {
                let value = result
                    .get(*name)
                    .ok_or_else(|| ModelError::Run(format!("model has no output named {name}")))?;
                Ok(value
                    .try_extract_array::<f32>()
                    .map_err(run_err)?
                    .to_owned())
            })
            .collect()
    }
}
