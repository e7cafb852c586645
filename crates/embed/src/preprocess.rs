//! Maps any product image into the model's domain the way Fashion-MNIST was made: luma, measure
//! the background, negate a light one, trim, resize the longest edge to 28 by area averaging,
//! centre on a 28x28 canvas, scale the brightest pixel to 1. One definition for shop photos and
//! catalog images alike; `training/fashrec_train/preprocess.py` is the reference it must match
//! and models/manifest.json records its constants.

use image::DynamicImage;

/// Side of the square model input.
pub const CANVAS: usize = 28;

/// The constants of the pipeline, as recorded in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
pub struct PreprocessParams {
    /// Fraction of the strongest signal a pixel needs to count as product when trimming.
    pub trim_threshold: f64,
    /// Weakest signal (0..255 scale) that still counts as a product at all.
    pub min_contrast: f64,
    /// A background at least this bright (0..255) is light, and the image is negated.
    pub light_background: f64,
}

impl Default for PreprocessParams {
    fn default() -> Self {
        Self {
            trim_threshold: 0.15,
            min_contrast: 8.0,
            light_background: 128.0,
        }
    }
}

/// A single-channel image in f64, 0..255 scale, row-major.
#[derive(Debug, Clone)]
pub struct Luma {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f64>,
}

/// Why an image cannot become model input.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PreprocessError {
    #[error("image has no pixels")]
    Empty,
    #[error("no product visible: the image has (almost) no contrast")]
    NoContrast,
}

const LUMA: [f64; 3] = [0.299, 0.587, 0.114];

/// ITU-R BT.601 luma of an image, with transparency composited over white. Grayscale images
/// are their own luma; 16-bit channels are brought to the 0..255 scale.
pub fn luma(img: &DynamicImage) -> Luma {
    let (width, height) = (img.width() as usize, img.height() as usize);
    let data = match img {
        DynamicImage::ImageLuma8(g) => g.as_raw().iter().map(|&v| f64::from(v)).collect(),
        DynamicImage::ImageLuma16(g) => g.as_raw().iter().map(|&v| f64::from(v) / 257.0).collect(),
        other => other
            .to_rgba8()
            .pixels()
            .map(|p| {
                let alpha = f64::from(p[3]) / 255.0;
                (0..3)
                    .map(|c| (f64::from(p[c]) * alpha + 255.0 * (1.0 - alpha)) * LUMA[c])
                    .sum()
            })
            .collect(),
    };
    Luma {
        width,
        height,
        data,
    }
}

/// The 28x28 model input (row-major, in [0, 1]) for a luma image.
pub fn canonical(lum: &Luma, params: &PreprocessParams) -> Result<Vec<f32>, PreprocessError> {
    let (w, h) = (lum.width, lum.height);
    if w == 0 || h == 0 || lum.data.len() != w * h {
        return Err(PreprocessError::Empty);
    }
    let at = |x: usize, y: usize| lum.data[y * w + x];
    let mut corners = [at(0, 0), at(w - 1, 0), at(0, h - 1), at(w - 1, h - 1)];
    corners.sort_by(f64::total_cmp);
    let background = 0.5 * (corners[1] + corners[2]);
    let light = background >= params.light_background;
    let signal: Vec<f64> = lum
        .data
        .iter()
        .map(|&v| {
            if light {
                (background - v).max(0.0)
            } else {
                (v - background).max(0.0)
            }
        })
        .collect();
    let peak = signal.iter().copied().fold(0.0, f64::max);
    if peak < params.min_contrast {
        return Err(PreprocessError::NoContrast);
    }
    let (x0, x1, y0, y1) = product_box(&signal, w, h, params.trim_threshold * peak);
    let (cw, ch) = (x1 - x0, y1 - y0);
    let (nh, nw) = resized_shape(ch, cw);
    // Separable area averaging: columns first, then rows.
    let col_weights = area_weights(cw, nw);
    let row_weights = area_weights(ch, nh);
    let mut narrow = vec![0.0; ch * nw];
    for y in 0..ch {
        let row = &signal[(y0 + y) * w + x0..(y0 + y) * w + x1];
        for (i, weights) in col_weights.iter().enumerate() {
            narrow[y * nw + i] = weights.iter().map(|&(j, wt)| row[j] * wt).sum();
        }
    }
    let mut canvas = vec![0.0f64; CANVAS * CANVAS];
    let (top, left) = ((CANVAS - nh) / 2, (CANVAS - nw) / 2);
    for (i, weights) in row_weights.iter().enumerate() {
        for x in 0..nw {
            canvas[(top + i) * CANVAS + left + x] =
                weights.iter().map(|&(j, wt)| narrow[j * nw + x] * wt).sum();
        }
    }
    let max = canvas.iter().copied().fold(0.0, f64::max);
    if max <= 0.0 {
        return Err(PreprocessError::NoContrast);
    }
    Ok(canvas.iter().map(|&v| (v / max) as f32).collect())
}

/// Bounding box (x0, x1, y0, y1; ends exclusive) of the pixels whose signal exceeds `threshold`.
fn product_box(signal: &[f64], w: usize, h: usize, threshold: f64) -> (usize, usize, usize, usize) {
    let (mut x0, mut x1, mut y0, mut y1) = (w, 0, h, 0);
    for y in 0..h {
        for x in 0..w {
            if signal[y * w + x] > threshold {
                x0 = x0.min(x);
                x1 = x1.max(x + 1);
                y0 = y0.min(y);
                y1 = y1.max(y + 1);
            }
        }
    }
    (x0, x1, y0, y1)
}

/// Output size with the longest edge CANVAS and the other rounded half up, at least 1: (h, w).
fn resized_shape(h: usize, w: usize) -> (usize, usize) {
    let (long, short) = (h.max(w), h.min(w));
    let short_out = ((2 * CANVAS * short + long) / (2 * long)).max(1);
    if h >= w {
        (CANVAS, short_out)
    } else {
        (short_out, CANVAS)
    }
}

/// For each output pixel, the source pixels it averages and their weights: output i covers
/// source interval [i*s, (i+1)*s) with s = n_in / n_out.
fn area_weights(n_in: usize, n_out: usize) -> Vec<Vec<(usize, f64)>> {
    let s = n_in as f64 / n_out as f64;
    (0..n_out)
        .map(|i| {
            let (lo, hi) = (i as f64 * s, (i + 1) as f64 * s);
            let (j0, j1) = (lo.floor() as usize, (hi.ceil() as usize).min(n_in));
            (j0..j1)
                .map(|j| (j, (hi.min(j as f64 + 1.0) - lo.max(j as f64)).max(0.0) / s))
                .filter(|&(_, wt)| wt > 0.0)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: usize, h: usize, f: impl Fn(usize, usize) -> f64) -> Luma {
        Luma {
            width: w,
            height: h,
            data: (0..h)
                .flat_map(|y| (0..w).map(move |x| (x, y)))
                .map(|(x, y)| f(x, y))
                .collect(),
        }
    }

    #[test]
    fn weights_sum_to_one() {
        for (n_in, n_out) in [(28, 28), (100, 28), (10, 28), (3, 1), (29, 28)] {
            for row in area_weights(n_in, n_out) {
                let total: f64 = row.iter().map(|(_, w)| w).sum();
                assert!((total - 1.0).abs() < 1e-12, "{n_in}->{n_out}: {total}");
            }
        }
    }

    #[test]
    fn shape_keeps_aspect() {
        assert_eq!(resized_shape(100, 50), (28, 14));
        assert_eq!(resized_shape(50, 100), (14, 28));
        assert_eq!(resized_shape(1000, 1), (28, 1));
        assert_eq!(resized_shape(7, 7), (28, 28));
    }

    #[test]
    fn dark_product_on_white_is_negated_trimmed_and_centred() {
        // A black 20x10 box on a white 200x100 photo, off centre.
        let photo = image(200, 100, |x, y| {
            if (150..170).contains(&x) && (20..30).contains(&y) {
                0.0
            } else {
                255.0
            }
        });
        let out = canonical(&photo, &PreprocessParams::default()).expect("a product");
        // 20x10 becomes 28x14, centred: rows 7..21 are lit, the rest dark.
        for y in 0..CANVAS {
            let lit = (7..21).contains(&y);
            assert!(
                out[y * CANVAS..(y + 1) * CANVAS]
                    .iter()
                    .all(|&v| (v == 1.0) == lit),
                "row {y}"
            );
        }
    }

    #[test]
    fn catalog_polarity_is_kept() {
        let img = image(28, 28, |x, y| {
            if (4..24).contains(&x) && (2..26).contains(&y) {
                200.0
            } else {
                0.0
            }
        });
        let out = canonical(&img, &PreprocessParams::default()).expect("a product");
        assert_eq!(out[14 * CANVAS + 14], 1.0);
        assert_eq!(out[0], 0.0);
    }

    #[test]
    fn blank_images_are_errors() {
        let flat = image(50, 50, |_, _| 255.0);
        assert_eq!(
            canonical(&flat, &PreprocessParams::default()),
            Err(PreprocessError::NoContrast)
        );
        let empty = Luma {
            width: 0,
            height: 0,
            data: vec![],
        };
        assert_eq!(
            canonical(&empty, &PreprocessParams::default()),
            Err(PreprocessError::Empty)
        );
    }
}
