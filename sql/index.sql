-- The fashrec_ivf index access method and its operator classes, one per distance.
-- Named apart from pgvector's (ivfflat, hnsw) so both extensions can share a cluster.
CREATE ACCESS METHOD fashrec_ivf TYPE INDEX HANDLER fashrec_ivf_amhandler;
COMMENT ON ACCESS METHOD fashrec_ivf IS 'IVF-flat approximate nearest-neighbour index for vector: WITH (lists = N); SET fashrec_ivf.probes, fashrec_ivf.max_probes.';

CREATE OPERATOR CLASS vector_l2_ops
    DEFAULT FOR TYPE vector USING fashrec_ivf AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 l2_distance(vector, vector);

CREATE OPERATOR CLASS vector_cosine_ops
    FOR TYPE vector USING fashrec_ivf AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 cosine_distance(vector, vector);

CREATE OPERATOR CLASS vector_ip_ops
    FOR TYPE vector USING fashrec_ivf AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector);

COMMENT ON FUNCTION fashrec_ivf_info(regclass) IS 'Shape of a fashrec_ivf index: lists, dims, metric, rows, blocks, empty lists, imbalance (largest list / mean) and coefficient of variation of list sizes, whether the lists have one-byte codes (scanned before the vectors) and their pages. REINDEX when imbalance grows far above 1.';
COMMENT ON FUNCTION fashrec_ivf_lists(regclass) IS 'Every list of a fashrec_ivf index with its rows, pages and code pages.';
COMMENT ON FUNCTION fashrec_ivf_check(regclass) IS 'Verifies a fashrec_ivf index: well-formed pages, every table row with a non-NULL vector indexed exactly once.';
