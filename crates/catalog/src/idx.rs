//! Reading gzip-compressed idx files (the MNIST family's format), with their headers checked.
//!
//! An idx file is a big-endian magic number (two zero bytes, a type code, the number of
//! dimensions), one u32 per dimension, then the data. Fashion-MNIST uses unsigned bytes:
//! images are 3-dimensional (count, rows, cols), labels 1-dimensional (count).

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use flate2::read::GzDecoder;

use crate::error::CatalogError;

/// Magic number of an idx file of unsigned bytes with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an idx file of unsigned bytes with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// Decoded images: `count` images of `rows` x `cols` bytes, row-major, one after another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

/// Reads and checks a gzip-compressed idx3 image file.
pub fn read_images(path: &Path) -> Result<Images, CatalogError> {
    parse_images(path, &read_gz(path)?)
}

/// Reads and checks a gzip-compressed idx1 label file.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, CatalogError> {
    parse_labels(path, &read_gz(path)?)
}

/// Decompresses a whole gzip file; `path` only names the file in errors.
fn read_gz(path: &Path) -> Result<Vec<u8>, CatalogError> {
    let file = File::open(path).map_err(|source| match source.kind() {
        ErrorKind::NotFound => CatalogError::Missing {
            path: path.to_path_buf(),
        },
        _ => CatalogError::Read {
            path: path.to_path_buf(),
            source,
        },
    })?;
    let mut bytes = Vec::new();
    GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .map_err(|source| match source.kind() {
            // flate2 reports bad headers, bad checksums and cut-off streams with these kinds.
            ErrorKind::InvalidInput | ErrorKind::InvalidData | ErrorKind::UnexpectedEof => {
                CatalogError::corrupt(path, format!("not a valid gzip stream ({source})"))
            }
            _ => CatalogError::Read {
                path: path.to_path_buf(),
                source,
            },
        })?;
    Ok(bytes)
}

/// Checks an idx3 image file's header and size; `path` only names the file in errors.
pub fn parse_images(path: &Path, bytes: &[u8]) -> Result<Images, CatalogError> {
    let header = parse_header(path, bytes, IMAGES_MAGIC, 3)?;
    let (count, rows, cols) = (header[0], header[1], header[2]);
    let data = &bytes[4 + 4 * 3..];
    check_len(path, data.len(), [count, rows, cols])?;
    Ok(Images {
        count,
        rows,
        cols,
        pixels: data.to_vec(),
    })
}

/// Checks an idx1 label file's header and size; `path` only names the file in errors.
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, CatalogError> {
    let header = parse_header(path, bytes, LABELS_MAGIC, 1)?;
    let data = &bytes[4 + 4..];
    check_len(path, data.len(), [header[0]])?;
    Ok(data.to_vec())
}

/// Checks the magic number and returns the `dims` dimension sizes that follow it.
fn parse_header(
    path: &Path,
    bytes: &[u8],
    magic: u32,
    dims: usize,
) -> Result<Vec<usize>, CatalogError> {
    let header_len = 4 + 4 * dims;
    if bytes.len() < header_len {
        return Err(CatalogError::corrupt(
            path,
            format!(
                "{} bytes, too short for an idx header of {header_len} bytes",
                bytes.len()
            ),
        ));
    }
    let word = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let found = word(0);
    if found != magic {
        return Err(CatalogError::corrupt(
            path,
            format!("magic number {found:#010x}, expected {magic:#010x}"),
        ));
    }
    Ok((0..dims).map(|d| word(4 + 4 * d) as usize).collect())
}

/// Checks that the data after the header holds exactly what the dimensions promise.
fn check_len<const N: usize>(
    path: &Path,
    actual: usize,
    dims: [usize; N],
) -> Result<(), CatalogError> {
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    match expected {
        Some(expected) if expected == actual => Ok(()),
        Some(expected) if actual < expected => Err(CatalogError::corrupt(
            path,
            format!(
                "truncated: the header promises {expected} data bytes, the file holds {actual}"
            ),
        )),
        Some(expected) => Err(CatalogError::corrupt(
            path,
            format!(
                "{} bytes after the {expected} data bytes the header promises",
                actual - expected
            ),
        )),
        None => Err(CatalogError::corrupt(
            path,
            format!("impossible dimensions {dims:?}"),
        )),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;
    use std::path::PathBuf;

    /// The bytes of an idx file: magic, dimensions, data.
    pub(crate) fn idx_bytes(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = magic.to_be_bytes().to_vec();
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    /// Writes `bytes` gzip-compressed to `path`.
    pub(crate) fn write_gz(path: &Path, bytes: &[u8]) {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(bytes).unwrap();
        std::fs::write(path, enc.finish().unwrap()).unwrap();
    }

    fn p() -> PathBuf {
        PathBuf::from("test.gz")
    }

    #[test]
    fn reads_valid_images_and_labels() {
        let data: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8).collect();
        let images = parse_images(&p(), &idx_bytes(IMAGES_MAGIC, &[2, 3, 4], &data)).unwrap();
        assert_eq!((images.count, images.rows, images.cols), (2, 3, 4));
        assert_eq!(images.pixels, data);
        let labels = parse_labels(&p(), &idx_bytes(LABELS_MAGIC, &[3], &[7, 8, 9])).unwrap();
        assert_eq!(labels, vec![7, 8, 9]);
    }

    #[test]
    fn rejects_bad_magic() {
        // A label file offered as images: the classic mix-up.
        let err = parse_images(&p(), &idx_bytes(LABELS_MAGIC, &[1, 1, 1], &[0])).unwrap_err();
        assert!(
            err.to_string()
                .contains("magic number 0x00000801, expected 0x00000803"),
            "{err}"
        );
        let err = parse_labels(&p(), &idx_bytes(0x1f8b_0800, &[1], &[0])).unwrap_err();
        assert!(err.to_string().contains("magic number"), "{err}");
    }

    #[test]
    fn rejects_truncated_and_oversized() {
        let err = parse_images(&p(), &idx_bytes(IMAGES_MAGIC, &[2, 2, 2], &[0; 7])).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        let err = parse_labels(&p(), &idx_bytes(LABELS_MAGIC, &[2], &[0; 3])).unwrap_err();
        assert!(err.to_string().contains("1 bytes after"), "{err}");
        let err = parse_labels(&p(), &[0, 0, 8]).unwrap_err();
        assert!(err.to_string().contains("too short"), "{err}");
    }

    #[test]
    fn rejects_overflowing_dimensions() {
        let err = parse_images(
            &p(),
            &idx_bytes(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX], &[]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("impossible dimensions")
                || err.to_string().contains("truncated")
        );
    }

    #[test]
    fn reads_gzip_files_and_names_missing_and_broken_ones() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("labels.gz");
        write_gz(&good, &idx_bytes(LABELS_MAGIC, &[2], &[1, 2]));
        assert_eq!(read_labels(&good).unwrap(), vec![1, 2]);

        let missing = dir.path().join("absent.gz");
        let err = read_labels(&missing).unwrap_err();
        assert!(matches!(err, CatalogError::Missing { .. }));
        assert!(
            err.to_string()
                .contains("apt-get install dataset-fashion-mnist"),
            "{err}"
        );

        let not_gzip = dir.path().join("plain.gz");
        std::fs::write(&not_gzip, idx_bytes(LABELS_MAGIC, &[2], &[1, 2])).unwrap();
        let err = read_labels(&not_gzip).unwrap_err();
        assert!(matches!(err, CatalogError::Corrupt { .. }), "{err}");

        // A gzip file cut in half: the stream ends early.
        let cut = dir.path().join("cut.gz");
        let whole = std::fs::read(&good).unwrap();
        std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
        let err = read_labels(&cut).unwrap_err();
        assert!(matches!(err, CatalogError::Corrupt { .. }), "{err}");
    }
}
