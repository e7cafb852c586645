//! pgvector's binary wire format: int16 dimensions, int16 unused (0), then big-endian float4s.

use crate::{check_dims, check_element, check_typmod, VectorError};

/// Encodes elements in the binary send format.
pub fn encode_binary(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 4 * values.len());
    out.extend_from_slice(&(values.len() as i16).to_be_bytes());
    out.extend_from_slice(&0i16.to_be_bytes());
    for x in values {
        out.extend_from_slice(&x.to_be_bytes());
    }
    out
}

/// Decodes a whole binary message, checking it as text input is checked.
pub fn decode_binary(bytes: &[u8], typmod: i32) -> Result<Vec<f32>, VectorError> {
    let header = |i: usize| {
        bytes
            .get(i..i + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
    };
    let (Some(dims), Some(unused)) = (header(0), header(2)) else {
        return Err(VectorError::BinaryLength {
            dims: 0,
            bytes: bytes.len(),
        });
    };
    let dims = usize::try_from(dims).map_err(|_| VectorError::Empty)?;
    check_dims(dims)?;
    check_typmod(typmod, dims)?;
    if unused != 0 {
        return Err(VectorError::BinaryUnused(unused));
    }
    let body = &bytes[4..];
    if body.len() != dims * 4 {
        return Err(VectorError::BinaryLength {
            dims,
            bytes: body.len(),
        });
    }
    body.chunks_exact(4)
        .map(|c| {
            let x = f32::from_be_bytes([c[0], c[1], c[2], c[3]]);
            check_element(x).map(|_| x)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_bytes() {
        assert_eq!(encode_binary(&[1.0]), vec![0, 1, 0, 0, 0x3f, 0x80, 0, 0]);
    }

    #[test]
    fn rejects_bad_messages() {
        assert!(decode_binary(&[0, 1], -1).is_err());
        assert_eq!(decode_binary(&[0, 0, 0, 0], -1), Err(VectorError::Empty));
        assert_eq!(
            decode_binary(&[0xff, 0xff, 0, 0], -1),
            Err(VectorError::Empty)
        );
        assert_eq!(
            decode_binary(&[0, 1, 0, 1, 0x3f, 0x80, 0, 0], -1),
            Err(VectorError::BinaryUnused(1))
        );
        assert!(matches!(
            decode_binary(&[0, 2, 0, 0, 0x3f, 0x80, 0, 0], -1),
            Err(VectorError::BinaryLength { .. })
        ));
        assert_eq!(
            decode_binary(&encode_binary(&[f32::NAN]), -1),
            Err(VectorError::NaN)
        );
        assert_eq!(
            decode_binary(&encode_binary(&[1.0]), 2),
            Err(VectorError::DimsMismatch {
                expected: 2,
                got: 1
            })
        );
    }

    proptest! {
        #[test]
        fn binary_round_trips(values in prop::collection::vec(-1e30f32..1e30, 1..100)) {
            prop_assert_eq!(decode_binary(&encode_binary(&values), -1), Ok(values));
        }

        #[test]
        fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_binary(&bytes, -1);
        }
    }
}
