//! embed_images_each, what a trigger of fashrec_attach runs: each image's own outcome, so an
//! unreadable image is named by its place while the others get the outputs embed_images gives.

mod common;

use common::{cosine, pipeline, reference_dir};
use fashrec_embed::{DecodeLimits, EmbedError};

#[test]
fn a_bad_image_fails_alone_and_the_others_match_embed_images() {
    let path = reference_dir().join("catalog_60000.png");
    let good = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let flipped: Vec<u8> = good.iter().rev().copied().collect();
    // 70 images: more than one model run, with the bad ones in both runs.
    let mut batch: Vec<&[u8]> = vec![good.as_slice(); 70];
    for bad in [3, 66] {
        batch[bad] = b"not an image";
    }
    batch[10] = flipped.as_slice();
    let mut pipeline = pipeline();
    let outcomes = pipeline
        .embed_images_each(&batch, DecodeLimits::default(), &mut || {})
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcomes.len(), batch.len());
    let failed: Vec<usize> = (0..batch.len()).filter(|&i| outcomes[i].is_err()).collect();
    assert_eq!(failed, [3, 10, 66]);
    assert!(matches!(outcomes[3], Err(EmbedError::Decode(_))));

    let alone = pipeline
        .embed_images(&[good.as_slice()], DecodeLimits::default(), &mut || {})
        .unwrap_or_else(|e| panic!("{e}"));
    for out in outcomes.iter().flatten() {
        let cosine = cosine(&out.embedding, &alone[0].embedding);
        assert!(
            cosine > 0.9999,
            "cosine {cosine} to the image embedded alone"
        );
    }
    // embed_images stops at the first bad image.
    assert!(pipeline
        .embed_images(&batch, DecodeLimits::default(), &mut || {})
        .is_err());
}
