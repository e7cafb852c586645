-- What \df+ says about the embedding functions (README.md has the whole story).
COMMENT ON FUNCTION embed_product(bytea, text) IS 'Product vector (unit length, the manifest''s product dims) of a product image and the shop''s words about it: [a * image embedding ; b * attributes the words state]; what products.embedding holds.';
COMMENT ON FUNCTION embed_products(bytea[], text[]) IS 'embed_product for many products in one model run (backfills), images and descriptions pairwise; a pair with a NULL gives NULL.';
COMMENT ON FUNCTION embed_image(bytea) IS 'A photo query in the product space: [image embedding ; 0], unit length, ranking products by their pictures alone. PNG, JPEG, WebP, GIF or BMP, at most 8192 px a side and 40 megapixels; EXIF orientation applied, transparency on white.';
COMMENT ON FUNCTION embed_images(bytea[]) IS 'embed_image for many images in one model run; NULL elements give NULL.';
COMMENT ON FUNCTION embed_text(text) IS 'A shopper''s words in the product space: [a * text mapped into the image space ; b * attributes the words state], comparable with embed_product and embed_image; text past 256 tokens is ignored.';
COMMENT ON FUNCTION embed_texts(text[]) IS 'embed_text for many texts in one model run; NULL elements give NULL.';
COMMENT ON FUNCTION sentence_embedding(text) IS 'The query encoder''s 384-d sentence embedding (unit length; a three-layer MiniLM distilled from all-MiniLM-L6-v2), for text-to-text search; not comparable with image embeddings.';
COMMENT ON FUNCTION classify_image(bytea) IS 'The most likely category of a product image and its probability.';
COMMENT ON FUNCTION classify_image_all(bytea) IS 'Every category with its probability for a product image, most likely first.';
