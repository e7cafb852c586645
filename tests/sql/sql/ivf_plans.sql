-- Which plan the planner picks for nearest-neighbour queries: the index whenever it reads a small
-- share of the table, an exact plan (a btree range and a sort) when a WHERE clause on another
-- index leaves so few rows that sorting them is cheaper than probing for them.
CREATE EXTENSION fashrec;
SELECT setseed(0.25);
-- 256 dimensions, so the index has codes; 20,000 rows in 50 lists (400 a list).
CREATE TABLE items (id int PRIMARY KEY, category int, v vector(256));
INSERT INTO items
SELECT i, i % 10, (SELECT array_agg(random() + (i % 10) * (d % 2)) FROM generate_series(1, 256) d)::vector
FROM generate_series(1, 20000) i;
CREATE INDEX items_v ON items USING fashrec_ivf (v) WITH (lists = 50);
ANALYZE items;
-- At 256 dimensions the lists have codes, a quarter of the vectors' bytes: what a scan reads for
-- every row of a list, and what the estimate prices.
SELECT codes, code_pages * 3 < (SELECT sum(pages) FROM fashrec_ivf_lists('items_v')) AS smaller,
       code_pages = (SELECT sum(code_pages) FROM fashrec_ivf_lists('items_v')) AS per_list
FROM fashrec_ivf_info('items_v');
CREATE TEMP TABLE q AS SELECT v FROM items WHERE id = 77;
-- A prepared statement, as an application sends it: the query vector is a parameter.
PREPARE nearest(vector) AS SELECT id FROM items ORDER BY v <-> $1 LIMIT 10;
PREPARE nearest_in_range(vector, int) AS
    SELECT id FROM items WHERE id < $2 ORDER BY v <-> $1 LIMIT 10;
PREPARE nearest_even(vector) AS
    SELECT id FROM items WHERE id % 2 = 0 ORDER BY v <-> $1 LIMIT 10;
CREATE FUNCTION plan_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    kinds text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || statement LOOP
        IF line ~ '^\s*(->\s+)?(Index Scan using \w+|Bitmap Heap Scan|Bitmap Index Scan on \w+|Seq Scan|Sort)( on \w+.*)?$' THEN
            kinds := concat_ws(' > ', nullif(kinds, ''), regexp_replace(line,
                '^\s*(->\s+)?(Index Scan using \w+|Bitmap Heap Scan|Bitmap Index Scan on \w+|Seq Scan|Sort).*$', '\2'));
        END IF;
    END LOOP;
    RETURN kinds;
END $$;
-- Unfiltered: the index at every probes setting that reads a minority of the lists (the old
-- estimate priced each index page as a random read and chose a sort of every row from 8 probes of
-- 245 lists on at 784 dimensions).
SET fashrec_ivf.probes = 1;
SELECT plan_of(format('EXECUTE nearest(%L)', (SELECT v FROM q)));
SET fashrec_ivf.probes = 8;
SELECT plan_of(format('EXECUTE nearest(%L)', (SELECT v FROM q)));
SET fashrec_ivf.probes = 20;
SELECT plan_of(format('EXECUTE nearest(%L)', (SELECT v FROM q)));
-- Half of the rows pass a clause the index cannot check: still the index.
SET fashrec_ivf.probes = 8;
SELECT plan_of(format('EXECUTE nearest_even(%L)', (SELECT v FROM q)));
-- 0.25% of the rows pass: 50 rows through the primary key and a sort, not 4,000 probed rows.
SELECT plan_of(format('EXECUTE nearest_in_range(%L, 50)', (SELECT v FROM q)));
-- 50% pass the range: the index again.
SELECT plan_of(format('EXECUTE nearest_in_range(%L, 10000)', (SELECT v FROM q)));
-- Both plans give the same rows where both are exact (every list probed): the sort's, then the
-- index's with sorts and bitmaps disabled.
SET fashrec_ivf.probes = 50;
CREATE TEMP TABLE exact AS
    SELECT array_agg(id ORDER BY v <-> (SELECT v FROM q)) AS ids
    FROM (SELECT id, v FROM items WHERE id < 50 ORDER BY v <-> (SELECT v FROM q) LIMIT 10) s;
SET enable_sort = off;
SET enable_bitmapscan = off;
SELECT plan_of(format('EXECUTE nearest_in_range(%L, 50)', (SELECT v FROM q)));
CREATE TEMP TABLE through_index AS
    SELECT array_agg(id ORDER BY v <-> (SELECT v FROM q)) AS ids
    FROM (SELECT id, v FROM items WHERE id < 50 ORDER BY v <-> (SELECT v FROM q) LIMIT 10) s;
SELECT e.ids = i.ids AS same_rows, cardinality(i.ids) FROM exact e, through_index i;
RESET enable_sort;
RESET enable_bitmapscan;
DEALLOCATE ALL;
DROP FUNCTION plan_of(text);
DROP TABLE items, q, exact, through_index;
DROP EXTENSION fashrec;
