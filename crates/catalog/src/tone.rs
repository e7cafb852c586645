//! How dark a product is in its picture, so that its colour can agree with it.
//!
//! Fashion-MNIST stores each product photo negated: 0 is the white page around the product and a
//! higher value is darker ink. The shop shows the picture the right way round (dark on light), so
//! a black coat has high values and a white shirt values near 0.

/// How dark a colour looks, lightest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tone {
    Light,
    Mid,
    Dark,
}

/// The product's darkness in its picture: the mean value (0..255) of the product's own pixels,
/// the non-zero ones, so that a small dark sandal is not taken for a light one.
pub fn darkness(pixels: &[u8]) -> f64 {
    let (sum, count) = pixels
        .iter()
        .filter(|&&v| v > 0)
        .fold((0u64, 0u64), |(s, n), &v| (s + u64::from(v), n + 1));
    if count == 0 {
        0.0
    } else {
        sum as f64 / count as f64
    }
}

/// For each (label, pixels) image, its darkness rank among the images of its label as a quantile
/// in (0, 1): near 0 the lightest, near 1 the darkest. Ties go by position, so the result is
/// deterministic.
pub fn darkness_quantiles(images: &[(u8, &[u8])]) -> Vec<f64> {
    let tones: Vec<f64> = images.iter().map(|(_, pixels)| darkness(pixels)).collect();
    let mut quantiles = vec![0.0; images.len()];
    let mut labels: Vec<u8> = images.iter().map(|&(label, _)| label).collect();
    labels.sort_unstable();
    labels.dedup();
    for label in labels {
        let mut members: Vec<usize> = (0..images.len())
            .filter(|&i| images[i].0 == label)
            .collect();
        members.sort_by(|&a, &b| tones[a].total_cmp(&tones[b]).then(a.cmp(&b)));
        let n = members.len() as f64;
        for (rank, &i) in members.iter().enumerate() {
            quantiles[i] = (rank as f64 + 0.5) / n;
        }
    }
    quantiles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn darkness_ignores_the_background() {
        assert_eq!(darkness(&[0, 0, 200, 100]), 150.0);
        assert_eq!(darkness(&[0; 4]), 0.0);
    }

    #[test]
    fn quantiles_rank_within_each_category() {
        let dark = [200u8; 4];
        let light = [50u8; 4];
        let mid = [120u8; 4];
        let (coat, bag) = (4, 8);
        let images: Vec<(u8, &[u8])> = vec![
            (coat, &dark),
            (bag, &dark),
            (coat, &light),
            (coat, &mid),
            (coat, &light),
        ];
        let q = darkness_quantiles(&images);
        assert_eq!(q, vec![0.875, 0.5, 0.125, 0.625, 0.375]);
    }
}
