-- The index option probes: scans use WITH (probes = P) unless fashrec_ivf.probes is set (in
-- the session, a function, the database...), which then wins; each file starts a fresh backend,
-- and \c starts another, so options are read from the index's relcache entry as a new session would.
CREATE EXTENSION fashrec;
-- Pseudo-random 8-d points (the fractional part of a scaled sine): a list per query misses
-- some nearest neighbours, so the number of lists read shows in the answers.
CREATE FUNCTION point(seed int) RETURNS vector LANGUAGE sql IMMUTABLE AS $$
    SELECT array_agg(x - floor(x) ORDER BY j)::vector
    FROM (SELECT j, sin(seed * 12.9898 + j * 78.233) * 43758.5453 AS x FROM generate_series(1, 8) j) t $$;
CREATE TABLE items (id int PRIMARY KEY, v vector(8));
INSERT INTO items SELECT i, point(i) FROM generate_series(1, 2000) i;
CREATE TABLE queries AS SELECT q, point(-q) AS v FROM generate_series(1, 30) q;
-- The ten nearest ids by the index (when use_index) or by a sort of every row.
CREATE FUNCTION knn(query vector, use_index bool) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE result int[];
BEGIN
    EXECUTE format('SET LOCAL enable_seqscan = %s', NOT use_index);
    EXECUTE format('SET LOCAL enable_indexscan = %s', use_index);
    SELECT array_agg(id) INTO result FROM (SELECT id FROM items ORDER BY v <-> query LIMIT 10) t;
    RETURN result;
END $$;
CREATE TABLE exact AS SELECT q, knn(v, false) AS ids FROM queries;
-- How many of the 30 queries the index answers exactly, as the current settings make it scan.
CREATE FUNCTION exact_answers() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FILTER (WHERE knn(queries.v, true) = exact.ids) FROM queries JOIN exact USING (q) $$;

CREATE INDEX items_v ON items USING fashrec_ivf (v) WITH (lists = 20, probes = 20);
SELECT reloptions FROM pg_class WHERE relname = 'items_v';
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
RESET enable_seqscan;
-- probes = lists: exact without any setting.
SELECT exact_answers();
-- The setting, when set, overrides the index: one list per query misses some neighbours.
SET fashrec_ivf.probes = 1;
CREATE TABLE one_probe AS SELECT q, knn(v, true) AS ids FROM queries;
SELECT count(*) FILTER (WHERE one_probe.ids = exact.ids) < 30 AS approximate FROM one_probe JOIN exact USING (q);
-- Set to its built-in default, it still overrides (set is set).
SET fashrec_ivf.probes = 10;
SELECT exact_answers() < 30 AS approximate_at_10;
-- RESET leaves the index's option in charge again.
RESET fashrec_ivf.probes;
SELECT exact_answers();

-- ALTER INDEX changes the option for sessions that did not set the setting: in a new backend,
-- probes = 1 from the index gives what SET fashrec_ivf.probes = 1 gave.
ALTER INDEX items_v SET (probes = 1);
\c
SELECT count(*) FILTER (WHERE knn(queries.v, true) = one_probe.ids) AS as_one_probe
FROM queries JOIN one_probe USING (q);
-- A function's own SET clause is a setting too.
CREATE FUNCTION exact_answers_at_20() RETURNS bigint LANGUAGE sql SET fashrec_ivf.probes = 20
    AS $$ SELECT exact_answers() $$;
SELECT exact_answers_at_20();
-- So is a database's default (ALTER DATABASE ... SET), in the sessions that start after it.
SELECT format('ALTER DATABASE %I SET fashrec_ivf.probes = 20', current_database()) \gexec
\c
SELECT exact_answers();
SELECT format('ALTER DATABASE %I RESET fashrec_ivf.probes', current_database()) \gexec
\c
SELECT exact_answers() < 30 AS approximate_again;
-- Without the option: the built-in 10 probes.
ALTER INDEX items_v RESET (probes);
SELECT reloptions FROM pg_class WHERE relname = 'items_v';
CREATE TABLE default_probes AS SELECT q, knn(v, true) AS ids FROM queries;
SET fashrec_ivf.probes = 10;
SELECT count(*) FILTER (WHERE knn(queries.v, true) = default_probes.ids) AS as_ten
FROM queries JOIN default_probes USING (q);
RESET fashrec_ivf.probes;

-- Out of range or not a number: ERRORs naming the option.
\set VERBOSITY default
CREATE INDEX ON items USING fashrec_ivf (v) WITH (probes = 0);
CREATE INDEX ON items USING fashrec_ivf (v) WITH (probes = 'many');
ALTER INDEX items_v SET (probes = 100000000);
ALTER INDEX items_v SET (prob = 3);

DROP TABLE items, queries, exact, one_probe, default_probes;
DROP FUNCTION knn(vector, bool), exact_answers(), exact_answers_at_20(), point(int);
DROP EXTENSION fashrec;
