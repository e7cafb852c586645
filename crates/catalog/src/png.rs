//! PNG encoding of a product image (what the `products.image` column holds).

use crate::dataset::SIDE;
use crate::error::CatalogError;

/// Encodes a 28x28 grayscale image as an 8-bit grayscale PNG.
pub fn encode_png(id: u32, pixels: &[u8]) -> Result<Vec<u8>, CatalogError> {
    let fail = |problem: String| CatalogError::Png { id, problem };
    if pixels.len() != SIDE * SIDE {
        return Err(fail(format!(
            "{} pixels, expected {}",
            pixels.len(),
            SIDE * SIDE
        )));
    }
    // A raw 28x28 PNG is under 1 KiB, so the buffer rarely grows.
    let mut out = Vec::with_capacity(1024);
    let mut encoder = ::png::Encoder::new(&mut out, SIDE as u32, SIDE as u32);
    encoder.set_color(::png::ColorType::Grayscale);
    encoder.set_depth(::png::BitDepth::Eight);
    // Fast deflate: loading speed matters more than a few bytes per image.
    encoder.set_compression(::png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(|e| fail(e.to_string()))?;
    writer
        .write_image_data(pixels)
        .map_err(|e| fail(e.to_string()))?;
    writer.finish().map_err(|e| fail(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_decoder() {
        let pixels: Vec<u8> = (0..SIDE * SIDE).map(|i| (i * 7 % 256) as u8).collect();
        let bytes = encode_png(1, &pixels).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = ::png::Decoder::new(std::io::Cursor::new(&bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (SIDE as u32, SIDE as u32));
        assert_eq!(info.color_type, ::png::ColorType::Grayscale);
        assert_eq!(&buf[..info.buffer_size()], &pixels[..]);
    }

    #[test]
    fn wrong_size_is_an_error() {
        let err = encode_png(9, &[0; 10]).unwrap_err();
        assert!(err.to_string().contains("product 9"), "{err}");
    }
}
