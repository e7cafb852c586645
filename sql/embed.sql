-- What \df+ says about the embedding functions (README.md has the whole story).
COMMENT ON FUNCTION embed_image(bytea) IS 'Image embedding (64-d, unit length) of a PNG, JPEG, WebP, GIF or BMP product image, at most 8192 px a side and 40 megapixels; EXIF orientation applied, transparency on white.';
COMMENT ON FUNCTION embed_images(bytea[]) IS 'embed_image for many images in one model run (backfills); NULL elements give NULL.';
COMMENT ON FUNCTION embed_text(text) IS 'A shopper''s words mapped into the image embedding space (64-d, unit length), comparable with embed_image; text past 256 tokens is ignored.';
COMMENT ON FUNCTION embed_texts(text[]) IS 'embed_text for many texts in one model run; NULL elements give NULL.';
COMMENT ON FUNCTION sentence_embedding(text) IS 'The plain all-MiniLM-L6-v2 sentence embedding (384-d, unit length), for text-to-text search; not comparable with image embeddings.';
COMMENT ON FUNCTION classify_image(bytea) IS 'The most likely category of a product image and its probability.';
COMMENT ON FUNCTION classify_image_all(bytea) IS 'Every category with its probability for a product image, most likely first.';
