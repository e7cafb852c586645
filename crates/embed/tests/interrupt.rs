//! A long batch can be cancelled between images: the pipeline calls its `between` callback
//! before every image (the extension passes PostgreSQL's interrupt check there, which turns a
//! pending statement_timeout or cancel into an ERROR that unwinds as a panic), and the pipeline
//! still works after such an unwind.

mod common;

use common::{pipeline, reference_dir};
use fashrec_embed::DecodeLimits;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// More images than one model run takes, so the callback is seen across model runs too.
const IMAGES: usize = 150;

fn catalog_image() -> Vec<u8> {
    let path = reference_dir().join("catalog_60000.png");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn callback_runs_once_per_image_and_can_stop_the_batch() {
    let mut pipeline = pipeline();
    let image = catalog_image();
    let batch: Vec<&[u8]> = vec![image.as_slice(); IMAGES];

    let mut calls = 0;
    let out = pipeline
        .embed_images(&batch, DecodeLimits::default(), &mut || calls += 1)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.len(), IMAGES);
    assert_eq!(
        calls, IMAGES,
        "the interrupt callback must run before every image"
    );

    // A cancel arriving while image 100 is due: the batch stops there, nothing is returned.
    let stop_at = 100;
    let mut seen = 0;
    let cancelled = catch_unwind(AssertUnwindSafe(|| {
        pipeline.embed_images(&batch, DecodeLimits::default(), &mut || {
            seen += 1;
            if seen > stop_at {
                // resume_unwind skips the panic hook: an expected unwind, nothing printed.
                std::panic::resume_unwind(Box::new("canceling statement due to statement timeout"));
            }
        })
    }));
    assert!(
        cancelled.is_err(),
        "the callback's panic must end the batch"
    );
    assert_eq!(
        seen,
        stop_at + 1,
        "no image may be processed after the cancel"
    );

    // The connection lives on: the same pipeline embeds again, with the same result.
    let again = pipeline
        .embed_images(&batch[..1], DecodeLimits::default(), &mut || {})
        .unwrap_or_else(|e| panic!("after a cancelled batch: {e}"));
    assert_eq!(again[0].embedding, out[0].embedding);
}
