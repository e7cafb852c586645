-- The fashrec_ivf index through SQL: exact results at probes = lists for all three distances,
-- filters that keep probing, inserts, vacuum, planner behaviour and bad queries.
CREATE EXTENSION fashrec;
CREATE TABLE items (id int PRIMARY KEY, category int, v vector(3));
INSERT INTO items
SELECT i, i % 10, ARRAY[sin(i * 0.7) * (1 + i % 5), cos(i * 1.3) * (1 + i % 3), (i % 7) - 3]::vector
FROM generate_series(1, 2000) i;

CREATE INDEX items_l2 ON items USING fashrec_ivf (v vector_l2_ops) WITH (lists = 20);
SELECT lists, dims, metric, rows, empty_lists, codes, code_pages FROM fashrec_ivf_info('items_l2');
SELECT sum(rows) = 2000 AS all_rows_in_lists FROM fashrec_ivf_lists('items_l2');

-- The planner uses the index for ORDER BY ... LIMIT.
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <-> '[1,1,1]' LIMIT 5;

-- With probes = lists the index answer is the exact answer.
SET fashrec_ivf.probes = 20;
CREATE TEMP TABLE queries AS
SELECT q, ARRAY[sin(q) * 3, cos(q * 2) * 2, (q % 5) - 2]::vector AS v FROM generate_series(1, 30) q;
CREATE FUNCTION knn(query vector, k int, use_index bool) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE result int[];
BEGIN
    EXECUTE format('SET LOCAL enable_seqscan = %s', NOT use_index);
    EXECUTE format('SET LOCAL enable_indexscan = %s', use_index);
    SELECT array_agg(id) INTO result FROM (SELECT id FROM items ORDER BY v <-> query, id LIMIT k) t;
    RETURN result;
END $$;
SELECT count(*) FILTER (WHERE knn(v, 10, true) = knn(v, 10, false)) AS exact_matches, count(*) AS queries FROM queries;

-- Fewer probes: approximate, and still 10 rows.
SET fashrec_ivf.probes = 2;
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> '[1,1,1]' LIMIT 10) t;

-- A selective filter keeps probing lists until the LIMIT is filled.
SET fashrec_ivf.probes = 1;
SELECT count(*) FROM (SELECT id FROM items WHERE id % 200 = 0 ORDER BY v <-> '[1,1,1]' LIMIT 10) t;
SET fashrec_ivf.max_probes = 1;
SELECT count(*) <= 10 AS capped FROM (SELECT id FROM items WHERE id % 200 = 0 ORDER BY v <-> '[1,1,1]' LIMIT 10) t;
RESET fashrec_ivf.max_probes;

-- Without ORDER BY the index is never used, even when sequential scans are discouraged.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM items WHERE category = 3;
SELECT count(*) FROM items WHERE category = 3;
RESET enable_seqscan;

-- Inserts, deletes and vacuum keep the index consistent.
INSERT INTO items SELECT i, i % 10, ARRAY[i % 13, i % 11, i % 7]::vector FROM generate_series(2001, 2500) i;
INSERT INTO items VALUES (2501, 1, NULL);
DELETE FROM items WHERE id % 3 = 0;
SELECT ok, table_rows, index_rows, missing, duplicated FROM fashrec_ivf_check('items_l2');
VACUUM items;
SELECT ok, table_rows, index_rows, missing, duplicated, dead_or_unknown FROM fashrec_ivf_check('items_l2');
INSERT INTO items SELECT i, i % 10, ARRAY[i % 5, i % 3, i % 2]::vector FROM generate_series(3001, 3300) i;
SELECT ok, table_rows, index_rows FROM fashrec_ivf_check('items_l2');
SET fashrec_ivf.probes = 20;
SELECT count(*) FILTER (WHERE knn(v, 10, true) = knn(v, 10, false)) AS exact_after_changes FROM queries;

-- Cosine and inner product operator classes, exact at probes = lists.
CREATE INDEX items_cos ON items USING fashrec_ivf (v vector_cosine_ops) WITH (lists = 20);
CREATE INDEX items_ip ON items USING fashrec_ivf (v vector_ip_ops) WITH (lists = 20);
CREATE FUNCTION knn_by(op text, query vector, use_index bool) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE result int[];
BEGIN
    EXECUTE format('SET LOCAL enable_seqscan = %s', NOT use_index);
    EXECUTE format('SET LOCAL enable_indexscan = %s', use_index);
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY v %s $1, id LIMIT 10) t', op)
        INTO result USING query;
    RETURN result;
END $$;
SELECT count(*) FILTER (WHERE knn_by('<=>', v, true) = knn_by('<=>', v, false)) AS cosine_exact,
       count(*) FILTER (WHERE knn_by('<#>', v, true) = knn_by('<#>', v, false)) AS ip_exact
FROM queries;
SET fashrec_ivf.probes = 2;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <=> '[1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <#> '[1,1,1]' LIMIT 5;
DROP INDEX items_cos, items_ip;

-- Bad queries are errors and the connection lives on.
SELECT id FROM items ORDER BY v <-> '[1,2]' LIMIT 1;
SELECT 1 AS still_alive;
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> NULL LIMIT 5) t;

-- Tiny and empty tables: a correct index, a NOTICE about recall.
CREATE TABLE few (id int, v vector(2));
INSERT INTO few VALUES (1, '[0,0]'), (2, '[1,0]'), (3, '[0,2]');
CREATE INDEX ON few USING fashrec_ivf (v) WITH (lists = 50);
SET enable_seqscan = off;
SELECT id FROM few ORDER BY v <-> '[0.9,0]' LIMIT 3;
CREATE TABLE none_yet (v vector(4));
CREATE INDEX none_yet_idx ON none_yet USING fashrec_ivf (v);
INSERT INTO none_yet VALUES ('[1,2,3,4]');
SELECT v FROM none_yet ORDER BY v <-> '[1,1,1,1]' LIMIT 1;
CREATE TABLE no_dims (v vector);
CREATE INDEX ON no_dims USING fashrec_ivf (v);
SELECT 2 AS still_alive;

-- The build's memory is bounded by maintenance_work_mem, with an ERROR saying what to raise.
CREATE TABLE wide (v vector(1000));
INSERT INTO wide SELECT array_fill(i::real, ARRAY[1000])::vector FROM generate_series(1, 10) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX ON wide USING fashrec_ivf (v) WITH (lists = 1000);
RESET maintenance_work_mem;
SELECT 3 AS still_alive;

-- Leave the database as we found it for the next test file.
SET client_min_messages = warning;
DROP TABLE items, few, none_yet, no_dims, wide;
DROP EXTENSION fashrec CASCADE;
