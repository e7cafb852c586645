-- fashrec_ivf_check after HOT updates, updates of the vector, deletes and VACUUM. An index entry
-- points at the root of its row's HOT chain, not at the row's newest ctid: the check compares the
-- index with those roots, and still reports rows the index really lacks.
CREATE EXTENSION fashrec;
-- Free room on every page so that updates leaving the vector alone can be HOT; no autovacuum, so
-- the pages are this file's own.
CREATE TABLE products (id int PRIMARY KEY, price numeric, embedding vector(4))
    WITH (fillfactor = 50, autovacuum_enabled = false);
INSERT INTO products
SELECT i, i, ARRAY[sin(i), cos(i * 0.3), (i % 11) - 5, i % 3]::vector FROM generate_series(1, 3000) i;
INSERT INTO products VALUES (3001, 1, NULL);
CREATE INDEX products_embedding ON products USING fashrec_ivf (embedding) WITH (lists = 20);
SELECT ok, table_rows, index_rows, missing, duplicated, dead_or_unknown, problems
FROM fashrec_ivf_check('products_embedding');

-- Updates of the price only: most are HOT (the row's new version stays on its page, and the index
-- is not touched), the rest move to another page and get an index entry of their own.
BEGIN;
UPDATE products SET price = price + 0.01;
UPDATE products SET price = price + 0.01 WHERE id % 2 = 0;
UPDATE products SET price = price + 0.01 WHERE id % 3 = 0;
SELECT pg_stat_get_xact_tuples_updated('products'::regclass) AS updates,
       pg_stat_get_xact_tuples_hot_updated('products'::regclass) > 3000 AS most_are_hot,
       pg_stat_get_xact_tuples_hot_updated('products'::regclass) < 5501 AS some_are_not;
COMMIT;
SELECT ok, table_rows, missing, duplicated, problems FROM fashrec_ivf_check('products_embedding');

-- Updates of the vector (never HOT), a NULL vector set and one cleared, deletes, then VACUUM.
UPDATE products SET embedding = embedding + '[0.5,0,0,0]' WHERE id % 5 = 0;
UPDATE products SET embedding = '[1,1,1,1]' WHERE id = 3001;
UPDATE products SET embedding = NULL WHERE id = 3000;
DELETE FROM products WHERE id % 7 = 0;
SELECT ok, table_rows, missing, duplicated, problems FROM fashrec_ivf_check('products_embedding');
VACUUM products;
SELECT ok, table_rows, index_rows, missing, duplicated, dead_or_unknown, problems
FROM fashrec_ivf_check('products_embedding');

-- HOT updates again, now on pages whose chains VACUUM shortened to redirects.
UPDATE products SET price = price + 1 WHERE id % 4 = 1;
SELECT ok, table_rows, missing, duplicated, problems FROM fashrec_ivf_check('products_embedding');

-- Real corruption is still found: rows inserted while the index was hidden from inserts are
-- missing from it, and stay missing after HOT updates (an update that was not HOT would have
-- indexed their new versions).
UPDATE pg_index SET indisready = false WHERE indexrelid = 'products_embedding'::regclass;
INSERT INTO products SELECT i, i, ARRAY[i, 0, 0, 0]::vector FROM generate_series(4001, 4005) i;
UPDATE pg_index SET indisready = true WHERE indexrelid = 'products_embedding'::regclass;
UPDATE products SET price = price + 1 WHERE id > 4000;
SELECT ok, missing, duplicated, problems FROM fashrec_ivf_check('products_embedding');
-- They are found again once the index is rebuilt.
REINDEX INDEX products_embedding;
SELECT ok, table_rows, index_rows, missing, duplicated, dead_or_unknown, problems
FROM fashrec_ivf_check('products_embedding');

-- Leave the database as we found it for the next test file.
SET client_min_messages = warning;
DROP TABLE products;
DROP EXTENSION fashrec CASCADE;
