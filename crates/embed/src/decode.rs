//! Decodes uploaded images safely: the format is sniffed from the bytes, the size is refused from
//! the header before any pixel buffer is allocated, and EXIF orientation is applied.

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use std::io::Cursor;

/// Bounds on what an upload may cost to decode.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// Largest accepted width or height, in pixels.
    pub max_side: u32,
    /// Largest accepted width x height.
    pub max_pixels: u64,
    /// Largest accepted encoded size, in bytes.
    pub max_bytes: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_side: 8192,
            max_pixels: 40_000_000,
            max_bytes: 32 << 20,
        }
    }
}

/// Why an upload could not be decoded; each message names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("image is empty (0 bytes)")]
    Empty,
    #[error("image is {0} bytes, more than the limit of {1} bytes")]
    TooManyBytes(usize, usize),
    #[error("data is not an image in a supported format (PNG, JPEG, WebP, GIF, BMP)")]
    UnknownFormat,
    #[error("image is {0}x{1} pixels, larger than the limit of {2} pixels per side and {3} pixels in all")]
    TooLarge(u32, u32, u32, u64),
    #[error("image has no pixels ({0}x{1})")]
    NoPixels(u32, u32),
    #[error("image could not be decoded: {0}")]
    Corrupt(String),
}

/// Decodes `bytes` into an upright image (GIF: its first frame).
pub fn decode_image(bytes: &[u8], limits: DecodeLimits) -> Result<DynamicImage, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::TooManyBytes(bytes.len(), limits.max_bytes));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    match reader.format() {
        None => return Err(DecodeError::UnknownFormat),
        // The JPEG decoder fills a cut-off file with grey instead of failing; a complete JPEG
        // ends with the end-of-image marker.
        Some(image::ImageFormat::Jpeg) if !bytes.ends_with(&[0xFF, 0xD9]) => {
            return Err(DecodeError::Corrupt(
                "truncated JPEG: no end-of-image marker".into(),
            ))
        }
        Some(_) => {}
    }
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(DecodeError::NoPixels(width, height));
    }
    if width > limits.max_side
        || height > limits.max_side
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        return Err(DecodeError::TooLarge(
            width,
            height,
            limits.max_side,
            limits.max_pixels,
        ));
    }
    // The decoder's own allocation cap backs up the header check for formats that lie about size.
    let mut cap = Limits::default();
    cap.max_image_width = Some(limits.max_side);
    cap.max_image_height = Some(limits.max_side);
    cap.max_alloc = Some(limits.max_pixels * 8 + (64 << 20));
    decoder
        .set_limits(cap)
        .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    img.apply_orientation(orientation);
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GenericImageView, ImageFormat, RgbImage};
    use proptest::prelude::*;

    fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format)
            .expect("encoding a test image");
        out.into_inner()
    }

    fn sample() -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([x as u8 * 6, y as u8 * 8, 100])
        }))
    }

    #[test]
    fn decodes_every_supported_format() {
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::Bmp,
            ImageFormat::WebP,
        ] {
            let img = decode_image(&encode(&sample(), format), DecodeLimits::default())
                .unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert_eq!(img.dimensions(), (40, 30), "{format:?}");
        }
    }

    #[test]
    fn refuses_bad_input() {
        let limits = DecodeLimits::default();
        assert!(matches!(decode_image(b"", limits), Err(DecodeError::Empty)));
        assert!(matches!(
            decode_image(b"hello, not an image", limits),
            Err(DecodeError::UnknownFormat)
        ));
        let png = encode(&sample(), ImageFormat::Png);
        assert!(matches!(
            decode_image(&png[..png.len() / 2], limits),
            Err(DecodeError::Corrupt(_))
        ));
        let jpeg = encode(&sample(), ImageFormat::Jpeg);
        assert!(matches!(
            decode_image(&jpeg[..jpeg.len() / 2], limits),
            Err(DecodeError::Corrupt(_))
        ));
        let small = DecodeLimits {
            max_side: 10,
            ..limits
        };
        assert!(matches!(
            decode_image(&png, small),
            Err(DecodeError::TooLarge(40, 30, ..))
        ));
    }

    /// A PNG whose header claims 100000x100000 pixels is refused before decoding anything.
    #[test]
    fn refuses_decompression_bomb_by_header() {
        let mut png = encode(
            &DynamicImage::ImageLuma8(image::GrayImage::new(1, 1)),
            ImageFormat::Png,
        );
        // IHDR's width and height live at bytes 16..24, its CRC (over type and data) at 29..33.
        png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32fast::hash(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = decode_image(&png, DecodeLimits::default()).expect_err("a bomb must be refused");
        assert!(
            matches!(err, DecodeError::TooLarge(100_000, 100_000, ..)),
            "{err}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Random and mutated bytes never panic the decoder.
        #[test]
        fn never_panics(flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8), cut in any::<usize>(), random in prop::collection::vec(any::<u8>(), 0..64)) {
            let mut png = encode(&sample(), ImageFormat::Png);
            for (i, b) in flips { let n = png.len(); png[i % n] ^= b; }
            let n = png.len();
            let _ = decode_image(&png[..1 + cut % n], DecodeLimits::default());
            let _ = decode_image(&random, DecodeLimits::default());
        }
    }
}
