//! Gender-aware recommendations over the catalog table: SQL functions a user can read and adapt
//! (sql/recommend.sql), built on the embedding functions and the vector operators.

pgrx::extension_sql_file!(
    "../sql/recommend.sql",
    name = "recommend",
    requires = [
        "index_am",
        embed::functions::embed_image,
        embed::functions::embed_text
    ]
);
