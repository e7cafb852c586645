//! Turning shopper input into vectors without PostgreSQL: image decoding with limits and
//! running ONNX models.

mod decode;
mod manifest;
mod model;
mod pipeline;
mod preprocess;
mod product;
mod recent;
mod runtime;
mod text;

pub use decode::{decode_image, DecodeError, DecodeLimits};
pub use manifest::Manifest;
pub use model::{Input, Model};
pub use pipeline::{EmbedError, ImageOutput, Pipeline, TextOutput};
pub use preprocess::{canonical, luma, Luma, PreprocessError, PreprocessParams, CANVAS};
pub use product::ProductSpace;
pub use runtime::{init_runtime, ModelError};
pub use text::{TextTokenizer, Tokens};
