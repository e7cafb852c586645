-- The example queries of ./fashrec.sh demo, run by psql on the catalog; :'photo' holds an
-- uploaded photo, base64-encoded (psql -v photo=...). Copy any of them into ./fashrec.sh psql.
\pset footer off
\echo
\echo '--- The query fashrec is built for: men''s and unisex products for "black canvas shoes", through the index'
\echo '--- (products.embedding holds the picture and the attributes the words state: colour and material count)'
SELECT id, name, price FROM products
WHERE gender IN ('men', 'unisex')
ORDER BY embedding <-> embed_text('black canvas shoes') LIMIT 5;

\echo '--- The same through recommend_for_text: the keywords as typed count too, score in [0, 1]'
SELECT id, name, category, gender, price, round(score::numeric, 4) AS score
FROM recommend_for_text('black canvas shoes', 5, for_gender => 'men');

\echo '--- An uploaded photo (a shop photo of a test product): its category, then products like it for women'
SELECT category, round(probability::numeric, 3) AS probability FROM classify_image(decode(:'photo', 'base64'));
SELECT id, name, category, gender, price, round(score::numeric, 4) AS score
FROM recommend_for_image(decode(:'photo', 'base64'), 5, for_gender => 'women');

\echo '--- Similar to product 19 (a men''s coat: its shape, colour and material), unisex only; a summer dress under 60'
SELECT id, name, category, gender, price, round(score::numeric, 4) AS score
FROM recommend_similar(19, 5, for_gender => 'unisex');
SELECT id, name, price FROM products
WHERE category = 'Dress' AND price < 60
ORDER BY embedding <-> embed_text('summer dress') LIMIT 5;

\echo '--- A shopper who liked products 30, 43 and 60 (sandals): more like them'
SELECT id, name, category, gender, price, round(score::numeric, 4) AS score
FROM recommend_for_profile(ARRAY[30, 43, 60], 5);

\echo '--- The plan: an index scan on the fashrec_ivf index with the gender filter'
EXPLAIN (COSTS OFF) SELECT id, name, price FROM products
WHERE gender IN ('men', 'unisex')
ORDER BY embedding <-> embed_text('black canvas shoes') LIMIT 5;
