//! The product vector: a picture part and a words part side by side, `[a * picture ; b * words]`
//! with a^2 + b^2 = 1 (models/MODEL_CARD.md says why).
//!
//! - A product (`embed_product`): its image embedding and the attributes its text states, each
//!   part of unit length, so every product vector has unit length and the same words weight.
//! - A text query (`embed_text`): the text mapped into the image space and the attributes it
//!   states; a text that states almost nothing gets a shorter words part (the floor below).
//! - A photo (`embed_image`): `[picture ; 0]`. Against products, |q - p|^2 = 2 - 2a (q . p_picture):
//!   the photo ranks products exactly as its 64-d image embedding ranks their pictures.
//!
//! A shared block (gender) is one whose values a product may hold together: a unisex product is
//! half men, half women. Scored as is, a unisex query `[0.5, 0.5]` is as near a men's product
//! `[1, 0]` as a unisex one; each value v of a shared block becomes sqrt(v * the block's sum), so
//! unisex is `[0.71, 0.71]`, as long as men, nearest to unisex, and men stays `[1, 0]`.

use serde::Deserialize;
use std::ops::Range;

/// One block of the words part: an attribute and its values, in the order of the scores.
#[derive(Debug, Clone, Deserialize)]
pub struct Block {
    pub name: String,
    pub values: Vec<String>,
}

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
    /// The blocks of the words part, in order (a manifest without them has no shared block).
    #[serde(default)]
    pub blocks: Vec<Block>,
    /// The names of the shared blocks (see above); models trained before them have none.
    #[serde(default)]
    pub shared_blocks: Vec<String>,
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
        let attributes = self.shared(attributes);
        let words = self.words_weight / norm(&attributes).max(f32::MIN_POSITIVE);
        scaled(picture, self.image_weight)
            .chain(scaled(&attributes, words))
            .collect()
    }

    /// A text query: its mapping into the image space (unit) and its raw attribute scores.
    pub fn text(&self, mapped: &[f32], attributes: &[f32]) -> Vec<f32> {
        let attributes = self.shared(attributes);
        let words = self.words_weight / norm(&attributes).max(self.query_norm_floor);
        scaled(mapped, self.image_weight)
            .chain(scaled(&attributes, words))
            .collect()
    }

    /// Whether the shared blocks are blocks of the words part and the blocks fill it (the
    /// manifest is read with this check, so that a misnamed block is an error, not ignored).
    pub fn check(&self, picture_dims: usize) -> Result<(), String> {
        if let Some(name) = self
            .shared_blocks
            .iter()
            .find(|name| !self.blocks.iter().any(|b| &b.name == *name))
        {
            return Err(format!(
                "product.shared_blocks names {name:?}, which is not one of product.blocks"
            ));
        }
        let words: usize = self.blocks.iter().map(|b| b.values.len()).sum();
        if !self.shared_blocks.is_empty() && Some(words) != self.dims.checked_sub(picture_dims) {
            return Err(format!(
                "product.blocks hold {words} values, but the product vector has {} dims, {picture_dims} of them the picture's",
                self.dims
            ));
        }
        Ok(())
    }

    /// The scores with each shared block's values v turned into sqrt(v * the block's sum).
    fn shared(&self, attributes: &[f32]) -> Vec<f32> {
        let mut out = attributes.to_vec();
        for span in self.shared_spans() {
            // Checked when the manifest was read; scores of another length are left as they are.
            let Some(block) = out.get_mut(span) else {
                continue;
            };
            let sum: f32 = block.iter().map(|v| v.max(0.0)).sum();
            for v in block.iter_mut() {
                *v = (v.max(0.0) * sum).sqrt();
            }
        }
        out
    }

    fn shared_spans(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.blocks
            .iter()
            .scan(0, |start, b| {
                let span = *start..*start + b.values.len();
                *start = span.end;
                Some((b, span))
            })
            .filter(|(b, _)| self.shared_blocks.contains(&b.name))
            .map(|(_, span)| span)
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
            blocks: Vec::new(),
            shared_blocks: Vec::new(),
        }
    }

    /// Words: a category block of two values, then a gender block (men, women), shared.
    fn gendered() -> ProductSpace {
        let block = |name: &str, values: &[&str]| Block {
            name: name.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        ProductSpace {
            dims: 6,
            blocks: vec![
                block("category", &["Bag", "Coat"]),
                block("gender", &["men", "women"]),
            ],
            shared_blocks: vec!["gender".into()],
            ..space()
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

    /// A unisex query is nearest the unisex product, a men's query the men's, and a unisex product
    /// is nearer a men's query than a women's product is.
    #[test]
    fn a_unisex_query_is_nearest_a_unisex_product() {
        let s = gendered();
        let picture = unit(&[1.0, 0.0]);
        let [men, women, unisex] = [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]
            .map(|g| s.product(&picture, &[1.0, 0.0, g[0], g[1]]));
        let query = |g: [f32; 2]| s.text(&picture, &[1.0, 0.0, g[0], g[1]]);
        let near = |q: &[f32]| {
            let mut order = [("men", &men), ("women", &women), ("unisex", &unisex)];
            order.sort_by(|a, b| distance(q, a.1).total_cmp(&distance(q, b.1)));
            order.map(|(name, _)| name)
        };
        assert_eq!(near(&query([0.5, 0.5]))[0], "unisex");
        assert_eq!(near(&query([1.0, 0.0])), ["men", "unisex", "women"]);
        assert!((norm(&unisex) - 1.0).abs() < 1e-6);
        // A query stating no gender keeps a short gender block: sqrt(v * sum) is as long as the sum.
        let faint = s.text(&picture, &[1.0, 0.0, 0.02, 0.02]);
        let gender = norm(&faint[4..]) / norm(&faint[2..]);
        assert!((gender - 0.04).abs() < 1e-3, "{gender}");
    }

    #[test]
    fn a_shared_block_must_be_a_block_of_the_words_part() {
        assert_eq!(gendered().check(2), Ok(()));
        let misnamed = ProductSpace {
            shared_blocks: vec!["genders".into()],
            ..gendered()
        };
        assert!(misnamed.check(2).unwrap_err().contains("\"genders\""));
        assert!(gendered().check(3).unwrap_err().contains("4 values"));
    }

    #[test]
    fn without_shared_blocks_the_scores_are_used_as_they_are() {
        let s = ProductSpace {
            shared_blocks: Vec::new(),
            ..gendered()
        };
        let v = s.text(&unit(&[1.0, 0.0]), &[1.0, 0.0, 0.5, 0.5]);
        assert!((v[4] - v[5]).abs() < 1e-6 && (v[4] / v[2] - 0.5).abs() < 1e-6);
    }
}
