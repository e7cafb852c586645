-- Columns after the vector in a fashrec_ivf index: WHERE clauses on them are checked in the index,
-- before a row is scored or fetched, and PostgreSQL rechecks every row returned. With every list
-- probed the index answers exactly as an exact plan does, whatever the clause.
CREATE EXTENSION fashrec;
SELECT setseed(0.5);
CREATE TABLE products (id int PRIMARY KEY, gender text, category varchar, price numeric(8, 2),
                       stock int, on_sale bool, v vector(16));
INSERT INTO products
SELECT i, (ARRAY['men', 'women', 'unisex'])[1 + i % 3],
       (ARRAY['Bag', 'Dress', 'Sneaker', 'Coat', 'Sandal'])[1 + (i / 3) % 5],
       CASE WHEN i % 50 = 0 THEN NULL ELSE (i % 200) + 0.99 END, i % 7, i % 4 = 0,
       (SELECT array_agg(random() + ((i / 3) % 5) * (d % 2)) FROM generate_series(1, 16) d)::vector
FROM generate_series(1, 6000) i;
CREATE INDEX products_v ON products
    USING fashrec_ivf (v, gender, category, price, stock, on_sale) WITH (lists = 30);
ANALYZE products;
SELECT lists, rows, filter_columns, summary_pages > 0 AS summarised FROM fashrec_ivf_info('products_v');
CREATE TEMP TABLE q AS SELECT v FROM products WHERE id = 42;

-- The first ten rows under `clause` through the index (sorts, bitmaps and sequential scans
-- disabled, so the planner has no other way) and through an exact plan (index scans disabled);
-- whether the index checked the clause itself (an Index Cond) and whether both plans agree.
CREATE FUNCTION through_index(clause text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    query text := format('SELECT array_agg(id) FROM (SELECT id FROM products WHERE %s '
                         'ORDER BY v <-> (SELECT v FROM q) LIMIT 10) s', clause);
    plan text := '';
    line text;
    indexed int[];
    exact int[];
BEGIN
    PERFORM set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true),
            set_config('enable_seqscan', 'off', true);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        plan := plan || line || E'\n';
    END LOOP;
    EXECUTE query INTO indexed;
    PERFORM set_config('enable_sort', 'on', true), set_config('enable_bitmapscan', 'on', true),
            set_config('enable_seqscan', 'on', true), set_config('enable_indexscan', 'off', true);
    EXECUTE query INTO exact;
    PERFORM set_config('enable_indexscan', 'on', true);
    RETURN format('%s rows, %s, %s', coalesce(cardinality(indexed), 0),
                  CASE WHEN plan ~ 'Index Scan using products_v' AND plan ~ 'Index Cond'
                       THEN 'checked in the index'
                       WHEN plan ~ 'Index Scan using products_v' THEN 'checked on the table'
                       ELSE 'not through the index' END,
                  CASE WHEN indexed IS NOT DISTINCT FROM exact THEN 'as exact' ELSE 'DIFFERENT' END);
END $$;

-- PostgreSQL 15 does not pass array clauses (IN, = ANY) on a later index column to an ordered
-- scan: they are checked on the table.
SET fashrec_ivf.probes = 30;
SELECT clause, through_index(clause) FROM (VALUES
    ($$gender = 'men'$$),
    ($$gender IN ('men', 'unisex')$$),
    ($$category = 'Bag' AND gender = 'men'$$),
    ($$category = 'Bag' AND gender = 'men' AND id % 4 = 0$$),
    ($$price < 20$$),
    ($$price <= 20.99$$),
    ($$price > 150 AND price < 151$$),
    ($$price BETWEEN 10 AND 12.5$$),
    ($$stock = ANY('{1,3}')$$),
    ($$stock = 2::int2$$),
    ($$stock < 3::int8 AND stock > 0::int2$$),
    ($$stock = ANY('{4,6}'::int8[])$$),
    ($$stock >= 5 AND on_sale = true$$),
    ($$gender = 'nobody'$$),
    ($$gender = NULL$$),
    ($$gender = ANY('{}')$$),
    ($$price IS NULL$$)
) c(clause);

-- Few probes: only lists holding a row that passes count, so the first rows are still there.
SET fashrec_ivf.probes = 2;
SELECT count(*) AS rows, bool_and(gender = 'men' AND category = 'Bag') AS all_pass
FROM (SELECT gender, category FROM products WHERE gender = 'men' AND category = 'Bag'
      ORDER BY v <-> (SELECT v FROM q) LIMIT 10) s;

-- Updates of filter columns, inserts, deletes and VACUUM keep the index's values right.
UPDATE products SET gender = 'women' WHERE id % 10 = 1;
UPDATE products SET price = price + 100 WHERE id % 10 = 2;
INSERT INTO products
SELECT i, 'men', 'Bag', 1.50, 1, true,
       (SELECT v FROM q) + (SELECT array_agg(CASE WHEN d = 1 THEN 0.01 * (i - 6000) ELSE 0 END)
                            FROM generate_series(1, 16) d)::vector
FROM generate_series(6001, 6005) i;
DELETE FROM products WHERE id % 10 = 3;
VACUUM products;
SELECT ok, problems FROM fashrec_ivf_check('products_v');
SET fashrec_ivf.probes = 30;
SELECT clause, through_index(clause) FROM (VALUES
    ($$gender = 'women' AND id % 10 = 1$$),
    ($$gender = 'men' AND price < 2$$),
    ($$price > 290$$)
) c(clause);

-- With the filter column of an IN first, PostgreSQL passes the array clause to the index as well;
-- the vector may be any column.
DROP INDEX products_v;
CREATE INDEX products_v ON products USING fashrec_ivf (gender, v, category, price) WITH (lists = 30);
SELECT lists, rows, filter_columns, summary_pages > 0 AS summarised FROM fashrec_ivf_info('products_v');
SELECT ok, problems FROM fashrec_ivf_check('products_v');
SELECT clause, through_index(clause) FROM (VALUES
    ($$gender IN ('men', 'unisex')$$),
    ($$gender IN ('men', 'unisex') AND category = 'Dress' AND price < 100$$),
    ($$gender = ANY('{}')$$),
    ($$category = 'Coat'$$)
) c(clause);
INSERT INTO products VALUES (7000, 'unisex', 'Dress', 5, 1, false, (SELECT v FROM q));
SELECT id FROM products WHERE gender IN ('men', 'unisex') AND category = 'Dress' AND price < 10
ORDER BY v <-> (SELECT v FROM q) LIMIT 1;

-- Columns the index cannot hold: PostgreSQL's own error for a type without an operator class,
-- the extension's for a second vector, no vector, and a nondeterministic collation.
CREATE TABLE other (v vector(2), doc jsonb, w vector(2), name text);
CREATE INDEX ON other USING fashrec_ivf (v, doc);
CREATE INDEX ON other USING fashrec_ivf (v, w);
CREATE INDEX ON other USING fashrec_ivf (name);
CREATE COLLATION case_blind (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE INDEX ON other USING fashrec_ivf (v, name COLLATE case_blind);
CREATE INDEX ON other USING fashrec_ivf (v, name COLLATE "C");

DROP FUNCTION through_index(text);
DROP TABLE products, q, other;
DROP COLLATION case_blind;
DROP EXTENSION fashrec;
