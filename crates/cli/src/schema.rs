//! The `products` table: its DDL, indexes and the COPY column list, in one place.

/// The catalog table. The embedding stays NULL until the extension computes it; keywords_tsv
/// lets SQL match keywords the way the seed report did.
pub const CREATE_TABLE: &str = "
CREATE TABLE IF NOT EXISTS products (
    id                integer       PRIMARY KEY,
    name              text          NOT NULL,
    category          text          NOT NULL,
    gender            text          NOT NULL CHECK (gender IN ('men', 'women', 'unisex')),
    size              text          NOT NULL,
    price             numeric(10,2) NOT NULL CHECK (price >= 0),
    colour            text          NOT NULL,
    material          text          NOT NULL,
    style             text          NOT NULL,
    occasion          text          NOT NULL,
    brand             text          NOT NULL,
    description       text          NOT NULL,
    short_description text          NOT NULL,
    keywords          text          NOT NULL,
    split             text          NOT NULL CHECK (split IN ('train', 'test')),
    image             bytea         NOT NULL,
    embedding         vector,
    keywords_tsv      tsvector      GENERATED ALWAYS AS (to_tsvector('english', keywords)) STORED
);
-- The product vector (286 floats, 1.1 KB) stays in the row, so that a sequential scan (an exact
-- search, the evaluation) computes each distance without a TOAST fetch: with the default storage a
-- row with its image passes 2 KB and the vector went out of line. The image goes out of line
-- instead; only embedding a product reads it.
ALTER TABLE products ALTER COLUMN embedding SET STORAGE PLAIN";

/// Indexes, built after the rows so a first load does not maintain them row by row.
pub const CREATE_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS products_keywords_tsv_idx ON products USING gin (keywords_tsv);
CREATE INDEX IF NOT EXISTS products_category_idx ON products (category);
CREATE INDEX IF NOT EXISTS products_gender_idx ON products (gender);
";

/// Serialises concurrent loaders (the mode conflicts with itself) while readers carry on.
pub const LOCK_TABLE: &str = "LOCK TABLE products IN SHARE ROW EXCLUSIVE MODE";

/// The ids of a list that the table already holds.
pub const SELECT_PRESENT_IDS: &str = "SELECT id FROM products WHERE id = ANY($1)";

/// The binary COPY the loader streams rows into; the column order is the one `load` writes.
pub const COPY_IN: &str = "
COPY products (id, name, category, gender, size, price, colour, material, style, occasion,
               brand, description, short_description, keywords, split, image)
FROM STDIN (FORMAT binary)";

/// Row count, for the summary.
pub const COUNT_ROWS: &str = "SELECT count(*) FROM products";
