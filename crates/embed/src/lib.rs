//! Turning shopper input into vectors without PostgreSQL: image decoding with limits and
//! running ONNX models.

mod decode;
mod model;
mod runtime;

pub use decode::{decode_image, DecodeError, DecodeLimits};
pub use model::{Input, Model};
pub use runtime::{init_runtime, ModelError};
