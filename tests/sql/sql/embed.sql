-- The embedding functions through SQL in a fresh backend: normal use, then every kind of bad
-- input, each an ERROR after which the same connection still answers.
CREATE EXTENSION fashrec;
\getenv abs_srcdir PG_ABS_SRCDIR
\set boot :abs_srcdir '/data/boot.png'
\set bag :abs_srcdir '/data/bag.png'
\set trouser :abs_srcdir '/data/trouser.png'
\set photo :abs_srcdir '/data/boot_photo.jpg'
\set truncated :abs_srcdir '/data/boot_photo_truncated.jpg'
\set boot16 :abs_srcdir '/data/boot_16bit.png'
\set cmyk :abs_srcdir '/data/boot_cmyk.jpg'
\set bomb :abs_srcdir '/data/bomb_100000x100000.png'
\set blank :abs_srcdir '/data/blank.png'
CREATE TABLE uploads AS
SELECT 'boot' AS name, pg_read_binary_file(:'boot') AS image
UNION ALL SELECT 'bag', pg_read_binary_file(:'bag')
UNION ALL SELECT 'trouser', pg_read_binary_file(:'trouser')
UNION ALL SELECT 'photo', pg_read_binary_file(:'photo')
UNION ALL SELECT 'boot16', pg_read_binary_file(:'boot16')
UNION ALL SELECT 'cmyk', pg_read_binary_file(:'cmyk');

-- Photo queries are unit vectors of the product space (picture dims + words dims, as embed_text);
-- the classifier names the catalog images' categories.
SELECT name, vector_dims(embed_image(image)) AS dims, round(vector_norm(embed_image(image))::numeric, 4) AS norm
FROM uploads ORDER BY name;
SELECT name, c.category FROM uploads, classify_image(image) c WHERE name IN ('boot', 'bag', 'trouser') ORDER BY name;
SELECT count(*) AS categories, round(sum(probability)::numeric, 4) AS total
FROM classify_image_all(pg_read_binary_file(:'boot'));

-- A shop photo of the boot lands nearer the catalog boot than the bag; so do 16-bit and CMYK copies.
SELECT name, (SELECT u2.name FROM uploads u2 WHERE u2.name IN ('boot', 'bag', 'trouser')
              ORDER BY embed_image(u2.image) <-> embed_image(u.image) LIMIT 1) AS nearest
FROM uploads u WHERE name IN ('photo', 'boot16', 'cmyk') ORDER BY name;

-- Text lands in the same space: words find the right catalog image.
SELECT q, (SELECT name FROM uploads WHERE name IN ('boot', 'bag', 'trouser')
           ORDER BY embed_image(image) <-> embed_text(q) LIMIT 1) AS nearest
FROM (VALUES ('leather ankle boots'), ('a tote to carry my laptop'), ('slim fit jeans')) t(q) ORDER BY q;
SELECT vector_dims(embed_text('black canvas shoes')) AS mapped, vector_dims(sentence_embedding('black canvas shoes')) AS sentence;

-- Product vectors: picture and words, unit length, in the space of embed_text and embed_image.
CREATE TABLE shop AS
SELECT u.name AS picture, u.name || ' ' || w.colour AS product, embed_product(u.image, w.colour || ' ' || w.words) AS v,
       embed_image(u.image) AS photo
FROM uploads u JOIN (VALUES ('boot', 'black', 'leather chelsea boots'), ('boot', 'brown', 'suede desert boots'),
                            ('bag', 'black', 'leather tote bag'), ('bag', 'red', 'canvas tote bag'),
                            ('trouser', 'navy', 'denim skinny jeans'), ('trouser', 'beige', 'cotton twill chinos'))
                    AS w(name, colour, words) ON w.name = u.name;
SELECT product, vector_dims(v) = vector_dims(embed_text('boots')) AS same_space, round(vector_norm(v)::numeric, 4) AS norm
FROM shop ORDER BY product;
-- The words tell apart two products with the same picture.
SELECT q, (SELECT product FROM shop ORDER BY v <-> embed_text(q) LIMIT 1) AS nearest
FROM (VALUES ('black leather boots'), ('brown suede boots'), ('red canvas tote'), ('beige chinos')) t(q) ORDER BY q;
-- A photo ranks the products by their pictures alone: the same order of pictures as the picture
-- embeddings give (two products with one picture tie, up to rounding, whatever their words).
SELECT p.name,
       ARRAY(SELECT picture FROM shop ORDER BY v <-> embed_image(p.image)) AS by_product_vector,
       ARRAY(SELECT picture FROM shop ORDER BY photo <-> embed_image(p.image)) AS by_picture
FROM uploads p WHERE p.name IN ('photo', 'cmyk') ORDER BY p.name;
-- The batch form gives the single form's vectors; a pair with a NULL gives NULL.
SELECT round(max(v <-> embed_product(i, d))::numeric, 6) AS batch_equals_single
FROM (SELECT unnest(embed_products(array_agg(image ORDER BY name), array_agg(name || ' shoes' ORDER BY name))) AS v,
             unnest(array_agg(image ORDER BY name)) AS i, unnest(array_agg(name || ' shoes' ORDER BY name)) AS d
      FROM uploads) b;
SELECT e IS NULL AS is_null FROM unnest(embed_products(ARRAY[pg_read_binary_file(:'bag'), NULL, pg_read_binary_file(:'bag')],
                                                       ARRAY['a bag', 'a bag', NULL])) e;

-- Batch forms: one model run for many inputs, NULL in gives NULL out.
SELECT array_length(embed_images(array_agg(image)), 1) FROM uploads;
SELECT e IS NULL AS is_null FROM unnest(embed_images(ARRAY[pg_read_binary_file(:'bag'), NULL])) e;
SELECT vector_dims(e) FROM unnest(embed_texts(ARRAY['red dress', 'kicks'])) e;
SELECT embed_image(NULL) IS NULL AS null_image, embed_text(NULL) IS NULL AS null_text;
SELECT round(((embed_texts(ARRAY['red dress', 'kicks']))[1] <-> embed_text('red dress'))::numeric, 6) AS batch_equals_single;

-- Bad input: each is an ERROR, and the connection keeps working.
SELECT embed_image(''::bytea);
SELECT 1 AS still_alive;
SELECT embed_image('not an image at all'::bytea);
SELECT embed_image(pg_read_binary_file(:'truncated'));
SELECT embed_image(pg_read_binary_file(:'bomb'));
SELECT embed_image(pg_read_binary_file(:'blank'));
SELECT embed_text('');
SELECT embed_text('   ');
SELECT embed_product(pg_read_binary_file(:'bag'), '');
SELECT embed_product('not an image at all'::bytea, 'a bag');
SELECT embed_products(ARRAY[pg_read_binary_file(:'bag')], ARRAY['a bag', 'another bag']);
SELECT 2 AS still_alive;
-- Very long text is truncated at the model's token limit, not refused.
SELECT vector_dims(embed_text(repeat('comfortable black canvas sneakers ', 500)));

-- Leave the database as we found it for the next test file.
SET client_min_messages = warning;
DROP TABLE shop, uploads;
DROP EXTENSION fashrec;
