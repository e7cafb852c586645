-- The system measured as deployed, on the catalog table `products` (split 'train' is the gallery,
-- the pictures of split 'test' the image queries, as a shopper's photo through embed_image), with the seed report's metrics: a result is relevant when its
-- category is the query's; top-k accuracy is the share of queries with a relevant result among
-- the first k (hit@k); MRR is the mean of 1 / rank of the first relevant result (0 when none is
-- in the first `depth`); precision@10 is the share of relevant results among the first 10.
--
-- exact = false searches the way users do: through the index at the session's fashrec_ivf.probes.
-- exact = true makes the search exhaustive: the index probes every list, which returns exactly
-- what a sequential scan returns (tests/sql/ivf checks this) in a tenth of its time; without an
-- index the search is a sequential scan either way.

-- The metrics of one evaluation run.
CREATE TYPE fashrec_retrieval AS (
    queries int, top1 float8, top3 float8, top5 float8, top7 float8, top9 float8,
    mrr float8, precision10 float8);

-- Metrics from, for each query, the 1-based rank of its first relevant result (NULL: none) and
-- its relevant results among the first 10.
CREATE FUNCTION fashrec_retrieval_metrics(first_hits int[], relevant_in_10 int[])
RETURNS SETOF fashrec_retrieval
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT count(*)::int,
           avg((coalesce(h, 1000000) <= 1)::int)::float8, avg((coalesce(h, 1000000) <= 3)::int)::float8,
           avg((coalesce(h, 1000000) <= 5)::int)::float8, avg((coalesce(h, 1000000) <= 7)::int)::float8,
           avg((coalesce(h, 1000000) <= 9)::int)::float8, avg(coalesce(1.0 / h, 0))::float8,
           avg(r / 10.0)::float8
    FROM unnest(first_hits, relevant_in_10) AS t(h, r)
$$;

-- Rejects a search depth the metrics cannot use (precision@10 needs 10 results).
CREATE FUNCTION fashrec_check_depth(depth int) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF depth IS NULL OR depth < 10 OR depth > 10000 THEN
        RAISE EXCEPTION 'depth must be between 10 and 10000, not %', coalesce(depth::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END $$;

-- Ranks the train products for each query of `queries`, a query whose rows are (embedding,
-- category), the search made exhaustive if asked, and turns the ranks into metrics.
CREATE FUNCTION fashrec_evaluate_search(queries text, exact boolean, depth int)
RETURNS SETOF fashrec_retrieval
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    first_hits int[];
    relevant int[];
    probes text;
BEGIN
    PERFORM fashrec_check_depth(depth);
    -- The vector input function loads the library, which defines the setting read next.
    PERFORM '[0]'::vector;
    probes := current_setting('fashrec_ivf.probes');
    IF exact THEN
        PERFORM set_config('fashrec_ivf.probes', (SELECT max_val FROM pg_settings WHERE name = 'fashrec_ivf.probes'), true);
    END IF;
    EXECUTE format($q$
        SELECT array_agg((SELECT min(o) FROM unnest(r.found) WITH ORDINALITY AS t(c, o) WHERE c = r.category)::int),
               array_agg((SELECT count(*) FROM unnest(r.found[1:10]) AS c WHERE c = r.category)::int)
        FROM (WITH q AS MATERIALIZED (%s)  -- each query computed once, not once per row compared
              SELECT q.category,
                     ARRAY(SELECT g.category FROM products g WHERE g.split = 'train'
                           ORDER BY g.embedding <-> q.embedding LIMIT %s) AS found
              FROM q) r
        $q$, queries, depth) INTO first_hits, relevant;
    PERFORM set_config('fashrec_ivf.probes', probes, true);
    RETURN QUERY SELECT * FROM fashrec_retrieval_metrics(first_hits, relevant);
END $$;

-- Image to image: every test product's picture as a photo query (embed_image, the picture alone,
-- not the product's words) against the train products.
CREATE FUNCTION fashrec_evaluate_images(exact boolean DEFAULT false, depth int DEFAULT 100)
RETURNS SETOF fashrec_retrieval
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM products WHERE split = 'test' AND embedding IS NOT NULL) THEN
        RAISE EXCEPTION 'no test product has an embedding'
            USING HINT = 'Load the catalog (fashrec load) and compute embeddings (fashrec embed) first.';
    END IF;
    RETURN QUERY SELECT * FROM fashrec_evaluate_search(
        'SELECT unnest(embed_images(array_agg(image ORDER BY id))) AS embedding,
                unnest(array_agg(category ORDER BY id)) AS category
         FROM products WHERE split = ''test'' AND embedding IS NOT NULL', exact, depth);
END $$;

-- Text to product: each query's embed_text against the train products; category is the category
-- a shopper typing the query wants.
CREATE FUNCTION fashrec_evaluate_texts(texts text[], categories text[], exact boolean DEFAULT false,
                                       depth int DEFAULT 100)
RETURNS SETOF fashrec_retrieval
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF cardinality(texts) IS DISTINCT FROM cardinality(categories) THEN
        RAISE EXCEPTION 'texts and categories must have the same length, not % and %',
            cardinality(texts), cardinality(categories) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY SELECT * FROM fashrec_evaluate_search(format(
        'SELECT embed_text(t) AS embedding, c AS category FROM unnest(%L::text[], %L::text[]) AS u(t, c)',
        texts, categories), exact, depth);
END $$;

COMMENT ON FUNCTION fashrec_evaluate_images(boolean, int) IS 'Image-to-image retrieval quality of table products: each test product''s picture (embed_image) against the train products; top-1/3/5/7/9 accuracy (hit@k), MRR and precision@10 by category. exact = true probes every index list.';
COMMENT ON FUNCTION fashrec_evaluate_texts(text[], text[], boolean, int) IS 'Text-to-product retrieval quality of table products: each query''s embed_text against the train products, relevant when of the given category; top-k accuracy, MRR, precision@10.';
COMMENT ON FUNCTION fashrec_retrieval_metrics(int[], int[]) IS 'Internal: top-k accuracy, MRR and precision@10 from each query''s rank of its first relevant result and relevant results in the first 10.';
COMMENT ON FUNCTION fashrec_check_depth(int) IS 'Internal: raises an ERROR for a search depth outside 10..10000.';
COMMENT ON FUNCTION fashrec_evaluate_search(text, boolean, int) IS 'Internal: ranks the train products for each (embedding, category) row of a query and returns the metrics.';
COMMENT ON TYPE fashrec_retrieval IS 'Retrieval quality: queries, top-1/3/5/7/9 accuracy, MRR, precision@10.';
