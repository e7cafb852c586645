//! Retrieval quality of the catalog as deployed, measured in SQL (sql/evaluate.sql): top-k
//! accuracy, MRR and precision@10, through the index or exhaustively.

pgrx::extension_sql_file!(
    "../sql/evaluate.sql",
    name = "evaluate",
    requires = ["index_am", embed::functions::embed_text]
);
