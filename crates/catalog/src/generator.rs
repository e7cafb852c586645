//! Deterministic shop metadata for a Fashion-MNIST image: the same (seed, id) always gives the
//! same product, whatever else is generated and in whatever order.

use crate::attributes::{colour_tone, occasion_phrase, CategoryRules, Sizing, Style};
use crate::dataset::split_of;
use crate::product::{Category, Gender, Product};
use crate::rng::ProductRng;
use crate::tone::Tone;

/// The catalog seed used unless one is given (`--seed`).
pub const DEFAULT_SEED: u64 = 20_250_501;

/// How many description formats there are.
const DESCRIPTION_FORMATS: usize = 6;

/// Price endings, in cents: shops end prices this way.
const CENT_ENDINGS: [u32; 4] = [99, 95, 49, 0];

/// The product with id `id`, whose image is of class `category`, in the catalog of `seed`.
/// `darkness_quantile` says how dark the image is among its category's (0 lightest, 1 darkest;
/// [`crate::Dataset::darkness_quantile`]): the colour is drawn among those of that tone.
pub fn generate(seed: u64, id: u32, category: Category, darkness_quantile: f64) -> Product {
    let rules = CategoryRules::of(category);
    let mut rng = ProductRng::new(seed, id);

    // The draw order is part of the catalog's definition: append new draws, never reorder.
    let gender = Gender::ALL[rng.weighted(&rules.gender_weights)];
    let styles: Vec<&Style> = rules.styles_for(gender).collect();
    let style = *rng.pick(&styles);
    let occasion = *rng.pick(style.occasions);
    let material = *rng.pick(style.materials);
    let colour = *rng.pick(&colours_of_darkness(rules.colours, darkness_quantile));
    let brand = *rng.pick(rules.brands);
    let size = *rng.pick(rules.sizing.sizes(gender));
    let (min, max) = rules.price_range;
    let units = min + rng.below((max - min + 1) as usize) as u32;
    let price_cents = units * 100 + rng.pick(&CENT_ENDINGS);
    let format = rng.below(DESCRIPTION_FORMATS);

    let words = Words {
        gender,
        style,
        occasion,
        material,
        colour,
        brand,
        size,
        sizing: rules.sizing,
    };
    Product {
        id,
        split: split_of(id),
        label: category.label(),
        category,
        name: words.name(),
        gender,
        size,
        price_cents,
        colour,
        material,
        style: style.name,
        occasion,
        brand,
        description: words.description(format),
        short_description: capitalize(&format!("{colour} {}", words.made_of())),
        keywords: format!(
            "{} {} {colour} {material} {} {brand} {occasion}",
            rules.keyword,
            gender.as_str(),
            style.name
        )
        .to_lowercase(),
    }
}

/// The colours of `palette` that fit a picture at `darkness_quantile`: palette slot
/// `quantile * len` of the palette ordered light to dark gives the tone, and every colour of that
/// tone fits. So each tone takes the share of pictures it has of the palette, and every colour
/// stays about equally common.
fn colours_of_darkness(palette: &[&'static str], darkness_quantile: f64) -> Vec<&'static str> {
    let tone = |colour: &str| colour_tone(colour).unwrap_or(Tone::Mid);
    let mut ordered = palette.to_vec();
    ordered.sort_by_key(|c| tone(c));
    // `as usize` saturates, so a quantile outside 0..1 (or NaN) still picks a slot.
    let slot = ((darkness_quantile * palette.len() as f64) as usize).min(palette.len() - 1);
    let fitting = tone(ordered[slot]);
    palette
        .iter()
        .copied()
        .filter(|c| tone(c) == fitting)
        .collect()
}

/// The chosen attributes, for composing texts.
struct Words {
    gender: Gender,
    style: &'static Style,
    occasion: &'static str,
    material: &'static str,
    colour: &'static str,
    brand: &'static str,
    size: &'static str,
    sizing: Sizing,
}

impl Words {
    /// A shop listing title, e.g. "Puma Men's Black Canvas Lace-up Sneakers".
    fn name(&self) -> String {
        let rest = format!("{} {}", self.colour, self.made_of());
        format!("{} {} {}", self.brand, self.possessive(), title_case(&rest))
    }

    /// Material and noun, the material left out where the noun says it ("linen shirt").
    fn made_of(&self) -> String {
        let first = self.material.split(' ').next().unwrap_or(self.material);
        if self.style.noun.contains(first) {
            self.style.noun.to_string()
        } else {
            format!("{} {}", self.material, self.style.noun)
        }
    }

    /// "Men's", "Women's" or "Unisex".
    fn possessive(&self) -> &'static str {
        match self.gender {
            Gender::Men => "Men's",
            Gender::Women => "Women's",
            Gender::Unisex => "Unisex",
        }
    }

    /// Who it is for, inside a sentence.
    fn for_whom(&self) -> &'static str {
        match self.gender {
            Gender::Men => "men",
            Gender::Women => "women",
            Gender::Unisex => "men and women",
        }
    }

    /// "size M", or "one size" for bags.
    fn size_phrase(&self) -> String {
        match self.sizing {
            Sizing::OneSize => "one size".to_string(),
            _ => format!("size {}", self.size),
        }
    }

    /// True for nouns like "sneakers", "chinos" (but not "dress").
    fn plural(&self) -> bool {
        let noun = self.style.noun;
        noun.ends_with('s') && !noun.ends_with("ss")
    }

    /// One of several description formats: prose, a question, a spec sheet, a search query.
    fn description(&self, format: usize) -> String {
        let Words {
            occasion,
            material,
            colour,
            brand,
            ..
        } = *self;
        let noun = self.style.noun;
        let style = self.style.name;
        let occasion_text = occasion_phrase(occasion);
        let made_of = self.made_of();
        let size = self.size_phrase();
        let whom = self.for_whom();
        match format {
            0 => format!(
                "{} {made_of} for {whom} from {brand}. {} style, perfect for {occasion_text}. {}.",
                capitalize(colour),
                capitalize(style),
                capitalize(&size)
            ),
            1 => {
                let (a, this, is) = if self.plural() {
                    ("", "These", "are")
                } else {
                    (article(colour), "This", "is")
                };
                format!(
                    "Looking for {a}{colour} {noun} for {occasion_text}? {this} {made_of} from {brand} {is} made for {whom}, {size}."
                )
            }
            2 => format!(
                "Brand: {brand}. Colour: {colour}. Material: {material}. Style: {style}. Occasion: {occasion}. Gender: {}. Size: {}.",
                self.gender.as_str(),
                self.size
            ),
            3 => format!("{} {colour} {noun} {material} {brand} {occasion} {size}", self.gender.as_str())
                .to_lowercase(),
            4 => format!(
                "{brand} {noun} in {colour} {material}. Designed for {whom}, great for {occasion_text}. {}.",
                capitalize(&size)
            ),
            _ => format!(
                "{} {noun} by {brand}, {material}, for {occasion_text}. {}, {size}.",
                capitalize(colour),
                self.possessive()
            ),
        }
    }
}

/// "a " or "an " for the word that follows.
fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an ",
        _ => "a ",
    }
}

/// The text with its first letter upper-cased.
fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Every space-separated word capitalized ("lace-up sneakers" -> "Lace-up Sneakers").
fn title_case(text: &str) -> String {
    text.split(' ')
        .map(capitalize)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_helpers() {
        assert_eq!(article("olive"), "an ");
        assert_eq!(article("navy"), "a ");
        assert_eq!(capitalize("t-shirt"), "T-shirt");
        assert_eq!(
            title_case("black canvas lace-up sneakers"),
            "Black Canvas Lace-up Sneakers"
        );
    }

    #[test]
    fn plural_nouns_are_recognised() {
        for rules in crate::attributes::RULES.iter() {
            for style in rules.styles {
                let w = Words {
                    gender: Gender::Women,
                    style,
                    occasion: style.occasions[0],
                    material: style.materials[0],
                    colour: rules.colours[0],
                    brand: rules.brands[0],
                    size: "M",
                    sizing: rules.sizing,
                };
                let expected = matches!(
                    style.noun.rsplit(' ').next(),
                    Some(
                        "trousers"
                            | "jeans"
                            | "chinos"
                            | "joggers"
                            | "flip-flops"
                            | "slides"
                            | "sandals"
                            | "shoes"
                            | "sneakers"
                            | "trainers"
                            | "boots"
                    )
                );
                assert_eq!(w.plural(), expected, "{}", style.noun);
            }
        }
    }

    #[test]
    fn colours_follow_the_darkness() {
        let palette = [
            "white", "black", "grey", "navy", "red", "blue", "beige", "green",
        ];
        assert_eq!(colours_of_darkness(&palette, 0.1), ["white", "beige"]);
        assert_eq!(
            colours_of_darkness(&palette, 0.3),
            ["grey", "red", "blue", "green"]
        );
        assert_eq!(colours_of_darkness(&palette, 0.8), ["black", "navy"]);
        assert_eq!(colours_of_darkness(&palette, 1.0), ["black", "navy"]);
        assert_eq!(colours_of_darkness(&palette, f64::NAN), ["white", "beige"]);
        assert_eq!(colours_of_darkness(&["red", "tan"], 0.9), ["red", "tan"]);
    }

    #[test]
    fn example_product_reads_well() {
        let p = generate(DEFAULT_SEED, 0, Category::Sneaker, 0.5);
        assert!(p.keywords.starts_with("sneaker "), "{}", p.keywords);
        assert!(p.name.starts_with(p.brand), "{}", p.name);
        assert!(!p.description.is_empty() && !p.short_description.is_empty());
    }
}
