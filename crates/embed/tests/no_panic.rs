//! Fuzzing the path an upload takes before the model, decode then preprocess: random bytes,
//! damaged files of every supported format, and odd but valid images end in an image or an
//! error, never a panic (a panic in a backend would be an ERROR at best, and a bug either way).

use fashrec_embed::{canonical, decode_image, luma, DecodeLimits, PreprocessParams};
use image::{DynamicImage, GrayAlphaImage, ImageFormat, RgbImage};
use proptest::prelude::*;
use std::io::Cursor;

const FORMATS: [ImageFormat; 5] = [
    ImageFormat::Png,
    ImageFormat::Jpeg,
    ImageFormat::Gif,
    ImageFormat::Bmp,
    ImageFormat::WebP,
];

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    // GIF and JPEG take no alpha channel; RGB every format takes.
    DynamicImage::ImageRgb8(img.to_rgb8())
        .write_to(&mut out, format)
        .unwrap_or_else(|e| panic!("encoding {format:?}: {e}"));
    out.into_inner()
}

/// A product-like picture: a dark box on a light background.
fn product(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        let inside = x > w / 4 && x < 3 * w / 4 && y > h / 5 && y < 4 * h / 5;
        if inside {
            image::Rgb([40, 30, (x * 7 % 256) as u8])
        } else {
            image::Rgb([245, 245, 240])
        }
    }))
}

/// Decodes and preprocesses; only a panic fails the test.
fn embed_input(bytes: &[u8]) {
    if let Ok(img) = decode_image(bytes, DecodeLimits::default()) {
        let _ = canonical(&luma(&img), &PreprocessParams::default());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A valid file of each format with a few bytes changed and cut at a random length.
    #[test]
    fn damaged_files(format in 0..FORMATS.len(), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8), cut in any::<usize>()) {
        let mut bytes = encode(&product(40, 30), FORMATS[format]);
        let n = bytes.len();
        for (at, mask) in flips {
            bytes[at % n] ^= mask;
        }
        embed_input(&bytes[..1 + cut % n]);
    }

    /// Random bytes, with and without a format's magic number in front.
    #[test]
    fn random_bytes(format in 0..FORMATS.len(), magic in any::<bool>(), random in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut bytes = if magic { encode(&product(8, 8), FORMATS[format])[..8].to_vec() } else { Vec::new() };
        bytes.extend(random);
        embed_input(&bytes);
    }

    /// Valid images of any small shape and content: a single line, one lit pixel, noise,
    /// transparency, flat colour (which is an error, not a panic).
    #[test]
    fn odd_images(w in 1u32..64, h in 1u32..64, seed in any::<u64>(), alpha in any::<bool>()) {
        let pixel = |x: u32, y: u32| (seed.rotate_left((x * 7 + y * 13) % 64) & 0xFF) as u8;
        let img = if alpha {
            DynamicImage::ImageLumaA8(GrayAlphaImage::from_fn(w, h, |x, y| image::LumaA([pixel(x, y), pixel(y, x)])))
        } else {
            DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| image::Rgb([pixel(x, y), pixel(y, x), 0])))
        };
        if let Ok(input) = canonical(&luma(&img), &PreprocessParams::default()) {
            prop_assert_eq!(input.len(), 28 * 28);
            prop_assert!(input.iter().all(|v| (0.0..=1.0).contains(v)), "input outside [0, 1]");
        }
        let mut png = Cursor::new(Vec::new());
        img.write_to(&mut png, ImageFormat::Png).expect("PNG takes any of these");
        embed_input(&png.into_inner());
    }
}
