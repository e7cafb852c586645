//! Shopper input to vectors inside the database: embed_product, embed_image, embed_text, classify_image and
//! their batch forms, running the ONNX models of the model directory in the backend.

mod functions;
mod models;
mod rows;
pub mod settings;

pgrx::extension_sql_file!(
    "../../sql/embed.sql",
    name = "embed_comments",
    requires = [
        functions::embed_image,
        functions::embed_images,
        functions::embed_product,
        functions::embed_products,
        functions::embed_text,
        functions::embed_texts,
        functions::sentence_embedding,
        functions::classify_image,
        functions::classify_image_all
    ]
);
