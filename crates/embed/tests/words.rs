//! The words part of the shipped models reads the catalog attributes a text states, in the block
//! layout models/manifest.json describes, and product vectors put it beside the picture.

mod common;

use serde_json::Value;

/// The manifest's blocks: (name, values), in the order of the attributes output.
fn blocks() -> Vec<(String, Vec<String>)> {
    let text =
        std::fs::read_to_string(common::models_dir().join("manifest.json")).expect("manifest");
    let manifest: Value = serde_json::from_str(&text).expect("json");
    manifest["product"]["blocks"]
        .as_array()
        .expect("product.blocks")
        .iter()
        .map(|b| {
            let values = b["values"].as_array().expect("values");
            (
                b["name"].as_str().expect("name").to_string(),
                values
                    .iter()
                    .map(|v| v.as_str().expect("value").to_string())
                    .collect(),
            )
        })
        .collect()
}

/// The most likely value of each block with its score.
fn read(attributes: &[f32]) -> Vec<(String, String, f32)> {
    let mut at = 0;
    blocks()
        .into_iter()
        .map(|(name, values)| {
            let part = &attributes[at..at + values.len()];
            at += values.len();
            let (best, score) = part
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .expect("a block has values");
            (name, values[best].clone(), *score)
        })
        .collect()
}

fn value_of<'a>(read: &'a [(String, String, f32)], block: &str) -> (&'a str, f32) {
    let (_, value, score) = read
        .iter()
        .find(|(name, _, _)| name == block)
        .expect("block");
    (value, *score)
}

/// The attributes of catalog product 60005 (a test product) but its gender.
const PRODUCT_60005: [(&str, &str); 6] = [
    ("category", "Trouser"),
    ("colour", "olive"),
    ("material", "cotton twill"),
    ("style", "slim-fit"),
    ("occasion", "everyday"),
    ("brand", "Zara"),
];

#[test]
fn a_query_states_its_colour_material_and_category_and_nothing_else() {
    let mut p = common::pipeline();
    let out = p.embed_text("black canvas shoes").expect("embeds");
    let total: usize = blocks().iter().map(|(_, v)| v.len()).sum();
    assert_eq!(out.attributes.len(), total);
    assert_eq!(p.space().dims, 64 + total);
    let got = read(&out.attributes);
    assert_eq!(value_of(&got, "colour").0, "black", "{got:?}");
    assert!(value_of(&got, "colour").1 > 0.5, "{got:?}");
    assert_eq!(value_of(&got, "material").0, "canvas", "{got:?}");
    assert_eq!(value_of(&got, "category").0, "Sneaker", "{got:?}");
    // Unstated: no brand and no occasion to speak of.
    assert!(value_of(&got, "brand").1 < 0.2, "{got:?}");
    assert!(value_of(&got, "occasion").1 < 0.2, "{got:?}");
}

#[test]
fn a_product_vector_holds_its_picture_and_its_keywords() {
    let mut p = common::pipeline();
    // Product 60005 of the catalog, with its own keywords.
    let image = std::fs::read(common::reference_dir().join("catalog_60005.png")).expect("image");
    let keywords = "trouser men olive cotton twill slim-fit zara everyday";
    let v = p
        .embed_products(
            &[&image],
            &[keywords],
            fashrec_embed::DecodeLimits::default(),
            &mut || {},
        )
        .expect("embeds")
        .swap_remove(0);
    let space = p.space().clone();
    assert_eq!(v.len(), space.dims);
    let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5);
    let picture = p.embed_image(&image, &mut || {}).expect("embeds").embedding;
    for (got, want) in v[..64].iter().zip(&picture) {
        assert!((got - want * space.image_weight).abs() < 1e-6);
    }
    let got = read(&v[64..]);
    for (block, want) in PRODUCT_60005 {
        assert_eq!(value_of(&got, block).0, want, "{got:?}");
    }
}

#[test]
fn a_product_description_in_other_words_states_the_same_attributes() {
    let mut p = common::pipeline();
    // Product 60005 (a test product, never trained on) in a shop's own wording, not the catalog's.
    let words = p
        .product_words(&[
            "Slim-fit trousers by Zara in olive cotton twill, cut for men. Everyday wear.",
        ])
        .expect("embeds")
        .swap_remove(0);
    let got = read(&words);
    assert_eq!(value_of(&got, "gender").0, "men", "{got:?}");
    for (block, want) in PRODUCT_60005 {
        assert_eq!(value_of(&got, block).0, want, "{got:?}");
    }
    // A text stating no attribute puts (almost) no weight in the colour block.
    let none = p
        .product_words(&["a lovely thing"])
        .expect("embeds")
        .swap_remove(0);
    assert!(
        value_of(&read(&none), "colour").1 < 0.2,
        "{:?}",
        read(&none)
    );
}
