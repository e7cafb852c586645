-- The vector type through SQL, in a fresh backend: formats, errors, operators, casts, aggregates.
CREATE EXTENSION fashrec;

-- The distance every pgvector user knows.
SELECT '[1,2,3]'::vector <-> '[3,2,1]' AS l2;

-- Text input is whitespace tolerant; output is the shortest float4 text.
SELECT ' [ 1 , 2.5,-3e-5 ]  '::vector;
SELECT '[0.1,1e30,-0,123456.7,1.5e15]'::vector;

-- Bad input is an ERROR, and the same connection keeps working after each one.
SELECT '[1,2'::vector;
SELECT 1 AS still_alive;
SELECT '1,2,3'::vector;
SELECT '[1,2,3] x'::vector;
SELECT '[]'::vector;
SELECT '[1,,2]'::vector;
SELECT '[NaN]'::vector;
SELECT '[1,Infinity]'::vector;
SELECT '[1e39]'::vector;
SELECT '[1,2]'::vector(3);
SELECT '[1,2]'::vector <-> '[1,2,3]';
SELECT '[3e38]'::vector + '[3e38]';
SELECT 2 AS still_alive;

-- Type modifiers.
CREATE TABLE items (id int PRIMARY KEY, embedding vector(3));
INSERT INTO items VALUES (1, '[1,2,3]'), (2, '[3,2,1]'), (3, '[1,1,1]'), (4, '[1,2,3]');
INSERT INTO items VALUES (5, '[1,2]');
SELECT 'vector(0)'::regtype;
SELECT 'vector(16001)'::regtype;
SELECT 'vector(3)'::regtype;

-- Dimensions up to 16000 are stored (the value is TOASTed) and read back intact.
CREATE TABLE wide (v vector(16000));
INSERT INTO wide SELECT array_fill(0.5::real, ARRAY[16000])::vector;
SELECT vector_dims(v), vector_norm(v) FROM wide;
SELECT array_fill(1::real, ARRAY[16001])::vector;

-- Distances and functions.
SELECT l2_distance('[1,2,3]', '[3,2,1]'), '[1,2,3]'::vector <-> '[3,2,1]';
SELECT cosine_distance('[1,0]', '[0,1]'), '[1,1]'::vector <=> '[2,2]', '[1,0]'::vector <=> '[-1,0]';
SELECT cosine_distance('[0,0]', '[1,1]');
SELECT inner_product('[1,2,3]', '[3,2,1]'), '[1,2,3]'::vector <#> '[3,2,1]';
SELECT vector_dims('[1,2,3]'::vector), vector_norm('[3,4]'), l2_normalize('[3,4]'), l2_normalize('[0,0]');
SELECT '[1,2,3]'::vector + '[3,2,1]', '[1,2,3]'::vector - '[3,2,1]', '[1,2,3]'::vector * '[3,2,1]';

-- Nearest neighbours by exact scan.
SELECT id, embedding <-> '[1,2,2.9]' AS distance FROM items ORDER BY embedding <-> '[1,2,2.9]', id LIMIT 3;

-- Btree ordering: ORDER BY, DISTINCT, GROUP BY, comparisons.
SELECT DISTINCT embedding FROM items ORDER BY embedding;
SELECT embedding, count(*) FROM items GROUP BY embedding ORDER BY embedding;
SELECT '[1,2]'::vector < '[1,3]', '[1,2]'::vector = '[1,2]', '[1,2,0]'::vector > '[1,2]';
CREATE INDEX ON items (embedding);

-- Casts to and from arrays.
SELECT '{1,2,3}'::real[]::vector, '{1.5,2.5}'::double precision[]::vector, '{4,5}'::int[]::vector;
SELECT ARRAY[0.25, 1]::vector;
SELECT '[1.5,2,3]'::vector::real[], '[1.5,2]'::vector::double precision[], '[1.4,-2.6]'::vector::int[];
SELECT '{1,NULL}'::real[]::vector;
SELECT '{NaN}'::real[]::vector;
INSERT INTO items VALUES (6, '{7,8,9}'::real[]);
SELECT embedding FROM items WHERE id = 6;

-- Aggregates: a shopper's taste profile is the mean of what they liked.
SELECT avg(embedding), sum(embedding) FROM items;
SELECT avg(embedding) FROM items WHERE false;
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
SELECT 3 AS still_alive;

-- Leave the database as we found it for the next test file.
SET client_min_messages = warning;
DROP TABLE items, wide;
DROP EXTENSION fashrec;
