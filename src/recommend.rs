//! Gender-aware recommendations over the catalog table: SQL functions a user can read and adapt
//! (sql/recommend.sql), built on the embedding functions and the vector operators; the same over
//! any table and its own column names (sql/recommend_any.sql).

pgrx::extension_sql_file!(
    "../sql/recommend.sql",
    name = "recommend",
    requires = [
        "index_am",
        embed::functions::embed_image,
        embed::functions::embed_text
    ]
);

pgrx::extension_sql_file!(
    "../sql/recommend_any.sql",
    name = "recommend_any",
    requires = ["recommend", "attach"]
);
