//! Turning shopper input into vectors without PostgreSQL: image decoding with limits and
//! running ONNX models.

mod decode;
mod model;
mod preprocess;
mod runtime;

pub use decode::{decode_image, DecodeError, DecodeLimits};
pub use model::{Input, Model};
pub use preprocess::{canonical, luma, Luma, PreprocessError, PreprocessParams, CANVAS};
pub use runtime::{init_runtime, ModelError};
