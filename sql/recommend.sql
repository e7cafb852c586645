-- Recommendations over the catalog table `products` (the one `fashrec load` creates: id, name,
-- category, gender, price, description, keywords_tsv, embedding), found through search_path when
-- called. Each function is one ordinary query with WHERE clauses and ORDER BY embedding <-> ...
-- LIMIT k, so the fashrec_ivf index serves it and a user can copy and adapt it.
--
-- The embeddings are product vectors (embed_product: what the picture shows and which catalog
-- attributes the words state, unit length), so a similar product shares shape, colour and
-- material; embed_text and embed_image queries live in the same space.
--
-- score: (1 + cosine similarity) / 2 of the two embeddings, 1 for the same direction, 0.5 for
-- unrelated, 0 for opposite; for unit vectors this is 1 - distance^2 / 4. A photo query has no
-- words part, so its best score is (1 + a) / 2 with a the picture weight of the manifest. The
-- text search adds the keyword matches to it (see recommend_for_text).

-- One recommended product: what every function below returns, best first.
CREATE TYPE fashrec_recommendation AS (
    id int, name text, category text, gender text, price numeric, description text, score float8);

-- The score of a product for a query embedding, both of unit length: (1 + cosine similarity) / 2
-- = 1 - distance^2 / 4, clamped to [0, 1] against rounding. A SQL function, so the planner
-- inlines it.
CREATE FUNCTION fashrec_similarity(a vector, b vector) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN greatest(0.0, least(1.0, 1.0 - (a <-> b) ^ 2 / 4.0));

-- The genders a shopper preference admits, the seed's strict modes: men -> men and unisex,
-- women -> women and unisex, unisex -> unisex only; NULL -> every gender (NULL array).
CREATE FUNCTION fashrec_genders(preference text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN CASE lower(preference)
        WHEN 'men' THEN ARRAY['men', 'unisex']
        WHEN 'women' THEN ARRAY['women', 'unisex']
        WHEN 'unisex' THEN ARRAY['unisex']
        ELSE NULL
    END;
END $$;

-- Rejects a gender preference or k that the functions cannot honour, before any work.
CREATE FUNCTION fashrec_check_request(preference text, k int) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF preference IS NOT NULL AND fashrec_genders(preference) IS NULL THEN
        RAISE EXCEPTION 'unknown gender preference "%"', preference
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''men'' (men and unisex), ''women'' (women and unisex), ''unisex'' (unisex only) or NULL (everyone).';
    END IF;
    IF k IS NULL OR k < 1 OR k > 1000 THEN
        RAISE EXCEPTION 'k must be between 1 and 1000, not %', coalesce(k::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END $$;

-- The k catalog products nearest to a query embedding, filtered by gender preference and category;
-- what the other functions share. exclude: product ids never to return.
CREATE FUNCTION recommend_for_embedding(query vector, k int DEFAULT 10, for_gender text DEFAULT NULL,
                                        in_category text DEFAULT NULL, exclude int[] DEFAULT '{}')
RETURNS SETOF fashrec_recommendation
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    genders text[] := fashrec_genders(for_gender);
BEGIN
    PERFORM fashrec_check_request(for_gender, k);
    IF query IS NULL THEN  -- NULL in, no rows out, as for every function here
        RETURN;
    END IF;
    -- Only the clauses that apply: `gender = ANY ($3)` and `category = $4` can then be checked in a
    -- fashrec_ivf index holding those columns (an OR with `IS NULL` cannot).
    RETURN QUERY EXECUTE
        'SELECT p.id, p.name, p.category, p.gender, p.price, p.description,
                fashrec_similarity(p.embedding, $1)
         FROM products p
         WHERE p.id <> ALL ($5)'
        || CASE WHEN genders IS NULL THEN '' ELSE ' AND p.gender = ANY ($3)' END
        || CASE WHEN in_category IS NULL THEN '' ELSE ' AND p.category = $4' END
        || ' ORDER BY p.embedding <-> $1 LIMIT $2'
    USING query, k, genders, in_category, coalesce(exclude, '{}');
END $$;

-- Products like a given product (its picture and its attributes), the product itself excluded.
CREATE FUNCTION recommend_similar(product_id int, k int DEFAULT 10, for_gender text DEFAULT NULL,
                                  in_category text DEFAULT NULL)
RETURNS SETOF fashrec_recommendation
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    query vector;
BEGIN
    IF product_id IS NULL THEN
        RETURN;
    END IF;
    SELECT p.embedding INTO query FROM products p WHERE p.id = product_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no product with id %', product_id USING ERRCODE = 'no_data_found';
    END IF;
    IF query IS NULL THEN
        RAISE EXCEPTION 'product % has no embedding yet', product_id
            USING ERRCODE = 'no_data_found',
                  HINT = 'Compute the embeddings first: fashrec embed, or UPDATE products SET embedding = embed_product(image, keywords) WHERE embedding IS NULL.';
    END IF;
    RETURN QUERY SELECT * FROM recommend_for_embedding(query, k, for_gender, in_category, ARRAY[product_id]);
END $$;

-- Products that look like an uploaded photo (any format embed_image reads).
CREATE FUNCTION recommend_for_image(image bytea, k int DEFAULT 10, for_gender text DEFAULT NULL,
                                    in_category text DEFAULT NULL)
RETURNS SETOF fashrec_recommendation
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    PERFORM fashrec_check_request(for_gender, k);
    RETURN QUERY SELECT * FROM recommend_for_embedding(embed_image(image), k, for_gender, in_category);
END $$;

-- A shopper profile: products like the average of the products a shopper liked, those excluded.
CREATE FUNCTION recommend_for_profile(liked int[], k int DEFAULT 10, for_gender text DEFAULT NULL,
                                      in_category text DEFAULT NULL)
RETURNS SETOF fashrec_recommendation
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    taste vector;
BEGIN
    IF liked IS NULL THEN
        RETURN;
    END IF;
    SELECT l2_normalize(avg(p.embedding)) INTO taste FROM products p WHERE p.id = ANY (liked);
    IF taste IS NULL THEN
        RAISE EXCEPTION 'none of the liked products % exists with an embedding', liked
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN QUERY SELECT * FROM recommend_for_embedding(taste, k, for_gender, in_category, liked);
END $$;

-- Products for a shopper's words, ranked on two signals at once:
--   - the product space: similarity of embed_text(query) to the product's embedding (what the
--     picture shows and the attributes the models read in the words);
--   - the keywords: the share of the query's words (stemmed, stop words dropped) found in the
--     product's keywords, exactly as typed.
-- score = (similarity + share of words found) / 2, in [0, 1]: 1 means the same direction and
-- every word found. The candidates are the `depth` products nearest in the product space (the
-- index): the product vectors carry every attribute the keywords name, so the keywords re-rank
-- them rather than being searched on their own (a search for any of the words matched 7,000 to
-- 15,000 of 70,000 products per query and cost 90% of the time, bench/shop.md).
CREATE FUNCTION recommend_for_text(query text, k int DEFAULT 10, for_gender text DEFAULT NULL,
                                   in_category text DEFAULT NULL, depth int DEFAULT 100)
RETURNS SETOF fashrec_recommendation
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    words text[];
BEGIN
    PERFORM fashrec_check_request(for_gender, k);
    IF query IS NULL THEN
        RETURN;
    END IF;
    words := tsvector_to_array(to_tsvector('english', query));
    RETURN QUERY
    SELECT c.id, c.name, c.category, c.gender, c.price, c.description,
           ((c.score
             + CASE WHEN cardinality(words) > 0
                    THEN cardinality(ARRAY(SELECT unnest(words) INTERSECT
                                           SELECT unnest(tsvector_to_array(p.keywords_tsv))))::float8
                         / cardinality(words)
                    ELSE 0 END) / 2)::float8
    FROM recommend_for_embedding(embed_text(query), least(greatest(depth, k), 1000), for_gender,
                                 in_category) WITH ORDINALITY AS c
    JOIN products p ON p.id = c.id
    ORDER BY 7 DESC, c.ordinality
    LIMIT k;
END $$;

COMMENT ON FUNCTION fashrec_similarity(vector, vector) IS 'Score in [0, 1] of two unit-length embeddings: (1 + cosine similarity) / 2 = 1 - distance^2 / 4.';
COMMENT ON FUNCTION fashrec_genders(text) IS 'Genders admitted by a shopper preference: men -> {men,unisex}, women -> {women,unisex}, unisex -> {unisex}, NULL -> NULL (all).';
COMMENT ON FUNCTION recommend_for_embedding(vector, int, text, text, int[]) IS 'The k products of table products nearest to an embedding, with optional gender preference (men, women, unisex) and category; score = (1 + cosine similarity) / 2.';
COMMENT ON FUNCTION recommend_similar(int, int, text, text) IS 'Products like product_id in picture and attributes (itself excluded), with optional gender preference and category; score = (1 + cosine similarity) / 2.';
COMMENT ON FUNCTION recommend_for_image(bytea, int, text, text) IS 'Products that look like an uploaded image (ranked by their pictures alone), with optional gender preference and category; score = (1 + cosine similarity) / 2, at most (1 + picture weight) / 2.';
COMMENT ON FUNCTION recommend_for_profile(int[], int, text, text) IS 'Products like the average embedding of the liked products (those excluded); score = (1 + cosine similarity) / 2.';
COMMENT ON FUNCTION recommend_for_text(text, int, text, text, int) IS 'Products for a text query: the depth nearest in the product space, re-ranked by the share of the query''s words in their keywords; score = (similarity + share of words found) / 2.';
COMMENT ON FUNCTION fashrec_check_request(text, int) IS 'Internal: raises an ERROR for an unknown gender preference or a k outside 1..1000.';
COMMENT ON TYPE fashrec_recommendation IS 'A recommended product: id, name, category, gender, price, description, score in [0, 1].';
