//! Shopper input to vectors inside the database: embed_image, embed_text, classify_image and
//! their batch forms, running the ONNX models of the model directory in the backend.

mod functions;
mod models;
pub mod settings;
