//! Attaching a shop's own table (sql/attach.sql): triggers keep its embedding column in sync
//! with its image and text columns, through embed::rows.

pgrx::extension_sql_file!(
    "../sql/attach.sql",
    name = "attach",
    requires = ["vector_operators", embed::rows::fashrec_embed_rows]
);
