//! The product vector: a picture part and a words part side by side, `[a * picture ; b * words]`
//! with a^2 + b^2 = 1 (models/MODEL_CARD.md says why).
//!
//! - A product (`embed_product`): its image embedding and the attributes its text states, each
//!   part of unit length, so every product vector has unit length and the same words weight.
//! - A text query (`embed_text`): the text mapped into the image space and the attributes it
//!   states; a text that states almost nothing gets a shorter words part (the floor below).
//! - A photo (`embed_image`): `[picture ; 0]`. Against products, |q - p|^2 = 2 - 2a (q . p_picture):
//!   the photo ranks products exactly as its 64-d image embedding ranks their pictures.

use serde::Deserialize;

/// How the two parts are weighted, from the manifest's `product` section.
#[derive(Debug, Clone, Deserialize)]
pub struct ProductSpace {
    /// Length of a product vector: picture dims + words dims.
    pub dims: usize,
    /// a: the weight of the picture part.
    pub image_weight: f32,
    /// b: the weight of the words part.
    pub words_weight: f32,
    /// A text's words part is divided by max(its length, this floor), not by its length alone, so
    /// that a text stating no attribute does not turn its faint guesses into a full-weight vector.
    pub query_norm_floor: f32,
}

fn scaled(v: &[f32], by: f32) -> impl Iterator<Item = f32> + '_ {
    v.iter().map(move |x| x * by)
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

impl ProductSpace {
    /// A product: unit picture embedding and raw attribute scores of its text.
    pub fn product(&self, picture: &[f32], attributes: &[f32]) -> Vec<f32> {
        let words = self.words_weight / norm(attributes).max(f32::MIN_POSITIVE);
        scaled(picture, self.image_weight)
            .chain(scaled(attributes, words))
            .collect()
    }

    /// A text query: its mapping into the image space (unit) and its raw attribute scores.
    pub fn text(&self, mapped: &[f32], attributes: &[f32]) -> Vec<f32> {
        let words = self.words_weight / norm(attributes).max(self.query_norm_floor);
        scaled(mapped, self.image_weight)
            .chain(scaled(attributes, words))
            .collect()
    }

    /// A shopper's photo: the picture part alone, unit length.
    pub fn photo(&self, picture: &[f32]) -> Vec<f32> {
        let mut v = picture.to_vec();
        v.resize(self.dims, 0.0);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> ProductSpace {
        ProductSpace {
            dims: 5,
            image_weight: 0.6,
            words_weight: 0.8,
            query_norm_floor: 0.5,
        }
    }

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = norm(v);
        v.iter().map(|x| x / n).collect()
    }

    fn distance(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }

    #[test]
    fn every_product_has_unit_length() {
        let p = space().product(&unit(&[1.0, 2.0]), &[0.9, 0.05, 0.0]);
        assert!((norm(&p) - 1.0).abs() < 1e-6);
        assert_eq!(p.len(), 5);
    }

    #[test]
    fn a_text_stating_nothing_has_a_short_words_part() {
        let s = space();
        let faint = s.text(&unit(&[1.0, 0.0]), &[0.01, 0.02, 0.0]);
        let words = norm(&faint[2..]);
        assert!((words - 0.8 * norm(&[0.01, 0.02]) / 0.5).abs() < 1e-6);
        let clear = s.text(&unit(&[1.0, 0.0]), &[0.9, 0.0, 0.0]);
        assert!((norm(&clear[2..]) - 0.8).abs() < 1e-6);
    }

    /// A photo orders products exactly as its picture embedding orders theirs, whatever their words.
    #[test]
    fn a_photo_ranks_products_by_their_pictures() {
        let s = space();
        let pictures =
            [[1.0, 0.1], [0.2, 1.0], [0.7, 0.7], [-1.0, 0.3], [0.9, -0.4]].map(|p| unit(&p));
        let words = [
            [1.0, 0.0, 0.0],
            [0.1, 0.9, 0.2],
            [0.0, 0.0, 1.0],
            [0.5, 0.5, 0.5],
            [0.3, 0.0, 0.8],
        ];
        let products: Vec<Vec<f32>> = pictures
            .iter()
            .zip(&words)
            .map(|(p, w)| s.product(p, w))
            .collect();
        let query = unit(&[0.8, 0.3]);
        let photo = s.photo(&query);
        assert_eq!(photo.len(), 5);
        let mut by_product: Vec<usize> = (0..5).collect();
        by_product.sort_by(|&i, &j| {
            distance(&photo, &products[i]).total_cmp(&distance(&photo, &products[j]))
        });
        let mut by_picture: Vec<usize> = (0..5).collect();
        by_picture.sort_by(|&i, &j| {
            distance(&query, &pictures[i]).total_cmp(&distance(&query, &pictures[j]))
        });
        assert_eq!(by_product, by_picture);
        // |q - p|^2 = 2 - 2a cos: the same function of the picture cosine for every product.
        for (p, pic) in products.iter().zip(&pictures) {
            let cos: f32 = query.iter().zip(pic).map(|(x, y)| x * y).sum();
            assert!((distance(&photo, p) - (2.0 - 2.0 * 0.6 * cos)).abs() < 1e-5);
        }
    }
}
