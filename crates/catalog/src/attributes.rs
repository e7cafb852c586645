//! The per-category attribute rules: which genders, sizes, prices, colours, styles, materials,
//! occasions and brands a product of each class may have.
//!
//! Occasions and materials hang off the style, not the category, so that no product is absurd:
//! joggers are never formal, evening gowns are never cotton jersey, sandals are never for
//! winter, sneakers never formal. Styles only women wear (heels, crop tops, clutches) are marked.

use crate::product::{Category, Gender};
use crate::tone::Tone;

/// A style of a category with the occasions and materials that go with it.
#[derive(Debug)]
pub struct Style {
    /// Short style word, as stored in `products.style` (e.g. "lace-up").
    pub name: &'static str,
    /// What a shopper calls such a product (e.g. "lace-up sneakers").
    pub noun: &'static str,
    pub occasions: &'static [&'static str],
    pub materials: &'static [&'static str],
    /// Only offered for women: heels, crop tops, clutches.
    pub women_only: bool,
}

/// How a category is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizing {
    /// Clothing letter sizes.
    Letters,
    /// Trouser waist in inches.
    Waist,
    /// EU shoe sizes.
    Shoes,
    /// Bags: a single size.
    OneSize,
}

impl Sizing {
    /// The sizes offered for a gender, smallest first.
    pub fn sizes(self, gender: Gender) -> &'static [&'static str] {
        match (self, gender) {
            (Sizing::Letters, Gender::Men) => &["S", "M", "L", "XL", "XXL"],
            (Sizing::Letters, Gender::Women) => &["XS", "S", "M", "L", "XL"],
            (Sizing::Letters, Gender::Unisex) => &["XS", "S", "M", "L", "XL", "XXL"],
            (Sizing::Waist, Gender::Men) => &["W28", "W30", "W32", "W34", "W36", "W38", "W40"],
            (Sizing::Waist, Gender::Women) => &["W24", "W26", "W28", "W30", "W32", "W34"],
            (Sizing::Waist, Gender::Unisex) => &["W26", "W28", "W30", "W32", "W34", "W36", "W38"],
            (Sizing::Shoes, Gender::Men) => &["40", "41", "42", "43", "44", "45", "46"],
            (Sizing::Shoes, Gender::Women) => &["36", "37", "38", "39", "40", "41", "42"],
            (Sizing::Shoes, Gender::Unisex) => &[
                "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46",
            ],
            (Sizing::OneSize, _) => &["One Size"],
        }
    }
}

/// Everything the generator may choose from for one category.
#[derive(Debug)]
pub struct CategoryRules {
    pub category: Category,
    /// The category word used in keywords (e.g. "sneaker").
    pub keyword: &'static str,
    /// Percent of men, women, unisex products (sums to 100).
    pub gender_weights: [u32; 3],
    pub sizing: Sizing,
    /// Whole-currency-unit price range; prices run from `min`.00 to `max`.99.
    pub price_range: (u32, u32),
    pub colours: &'static [&'static str],
    pub brands: &'static [&'static str],
    pub styles: &'static [Style],
}

impl CategoryRules {
    /// The rules of a category.
    pub fn of(category: Category) -> &'static CategoryRules {
        &RULES[usize::from(category.label())]
    }

    /// The styles open to a gender.
    pub fn styles_for(&self, gender: Gender) -> impl Iterator<Item = &'static Style> + '_ {
        self.styles
            .iter()
            .filter(move |s| gender == Gender::Women || !s.women_only)
    }

    /// Lowest and highest price in cents.
    pub fn price_cents_range(&self) -> (u32, u32) {
        (self.price_range.0 * 100, self.price_range.1 * 100 + 99)
    }
}

/// Shorthand for the style table below.
const fn style(
    name: &'static str,
    noun: &'static str,
    occasions: &'static [&'static str],
    materials: &'static [&'static str],
) -> Style {
    Style {
        name,
        noun,
        occasions,
        materials,
        women_only: false,
    }
}

/// Shorthand for a style only offered for women.
const fn women(
    name: &'static str,
    noun: &'static str,
    occasions: &'static [&'static str],
    materials: &'static [&'static str],
) -> Style {
    Style {
        name,
        noun,
        occasions,
        materials,
        women_only: true,
    }
}

/// The rules, index = Fashion-MNIST label.
#[rustfmt::skip]
pub static RULES: [CategoryRules; 10] = [
    CategoryRules {
        category: Category::TShirtTop,
        keyword: "t-shirt top",
        gender_weights: [35, 45, 20],
        sizing: Sizing::Letters,
        price_range: (7, 49),
        colours: &["white", "black", "grey", "navy", "red", "blue", "green", "yellow", "pink", "beige"],
        brands: &["Uniqlo", "H&M", "Zara", "Gap", "Levi's", "Nike", "Adidas", "Tommy Hilfiger"],
        styles: &[
            style("basic", "basic t-shirt", &["everyday", "casual", "lounge"], &["cotton", "organic cotton", "jersey"]),
            style("graphic", "graphic tee", &["casual", "weekend"], &["cotton", "organic cotton"]),
            style("sporty", "sports top", &["sport", "gym"], &["polyester", "recycled polyester"]),
            style("oversized", "oversized t-shirt", &["casual", "lounge", "weekend"], &["cotton", "organic cotton"]),
            style("slim-fit", "slim-fit t-shirt", &["everyday", "casual"], &["cotton", "modal blend", "jersey"]),
            style("v-neck", "v-neck top", &["everyday", "office"], &["cotton", "modal blend", "linen"]),
            style("polo", "polo shirt", &["casual", "weekend", "office"], &["cotton pique"]),
            women("crop", "crop top", &["summer", "party", "beach"], &["cotton", "jersey", "linen"]),
        ],
    },
    CategoryRules {
        category: Category::Trouser,
        keyword: "trouser",
        gender_weights: [45, 40, 15],
        sizing: Sizing::Waist,
        price_range: (19, 129),
        colours: &["black", "navy", "grey", "beige", "khaki", "blue", "brown", "olive"],
        brands: &["Levi's", "Zara", "Uniqlo", "Dockers", "Hugo Boss", "H&M", "Mango", "Wrangler"],
        styles: &[
            style("slim-fit", "slim-fit trousers", &["everyday", "office", "casual"], &["cotton stretch", "wool blend", "cotton twill"]),
            style("straight", "straight-leg jeans", &["everyday", "casual", "weekend"], &["denim"]),
            style("skinny", "skinny jeans", &["casual", "weekend", "party"], &["denim", "stretch denim"]),
            style("wide-leg", "wide-leg trousers", &["office", "casual", "summer"], &["linen", "viscose", "wool blend"]),
            style("chino", "chinos", &["casual", "office", "weekend"], &["cotton twill"]),
            style("cargo", "cargo trousers", &["casual", "outdoor", "travel"], &["cotton twill", "ripstop nylon"]),
            style("jogger", "joggers", &["lounge", "sport", "casual"], &["cotton fleece", "jersey"]),
            style("tailored", "tailored trousers", &["office", "business", "formal", "wedding"], &["wool", "wool blend"]),
        ],
    },
    CategoryRules {
        category: Category::Pullover,
        keyword: "pullover sweater",
        gender_weights: [40, 40, 20],
        sizing: Sizing::Letters,
        price_range: (19, 159),
        colours: &["grey", "navy", "black", "beige", "burgundy", "green", "cream", "brown", "blue"],
        brands: &["Uniqlo", "Ralph Lauren", "Tommy Hilfiger", "COS", "H&M", "Zara", "Benetton", "Gant"],
        styles: &[
            style("crew-neck", "crew-neck sweater", &["everyday", "casual", "office"], &["cotton", "merino wool", "wool blend"]),
            style("v-neck", "v-neck sweater", &["office", "business", "casual"], &["merino wool", "cashmere", "cotton"]),
            style("turtleneck", "turtleneck sweater", &["winter", "office", "evening"], &["merino wool", "cashmere", "wool"]),
            style("cable-knit", "cable-knit jumper", &["winter", "weekend", "casual"], &["wool", "wool blend"]),
            style("hoodie", "hoodie", &["casual", "lounge", "sport"], &["cotton fleece", "cotton"]),
            style("sweatshirt", "sweatshirt", &["casual", "lounge", "weekend"], &["cotton fleece", "cotton"]),
        ],
    },
    CategoryRules {
        category: Category::Dress,
        keyword: "dress",
        gender_weights: [0, 100, 0],
        sizing: Sizing::Letters,
        price_range: (19, 249),
        colours: &["black", "red", "navy", "white", "pink", "green", "blue", "beige", "yellow", "burgundy"],
        brands: &["Zara", "Mango", "H&M", "& Other Stories", "Reformation", "Diane von Furstenberg", "ASOS", "Ted Baker"],
        styles: &[
            style("maxi", "maxi dress", &["summer", "beach", "wedding"], &["viscose", "chiffon", "cotton", "linen"]),
            style("midi", "midi dress", &["office", "everyday", "date night"], &["viscose", "crepe", "jersey"]),
            style("mini", "mini dress", &["party", "date night"], &["satin", "jersey", "cotton", "velvet"]),
            style("wrap", "wrap dress", &["office", "date night", "everyday"], &["jersey", "viscose", "silk"]),
            style("shirt", "shirt dress", &["everyday", "office", "weekend"], &["cotton", "linen", "denim"]),
            style("cocktail", "cocktail dress", &["party", "evening", "wedding"], &["satin", "silk", "velvet", "crepe"]),
            style("evening", "evening gown", &["formal", "evening", "wedding"], &["silk", "satin", "chiffon"]),
            style("sundress", "sundress", &["summer", "beach", "weekend"], &["cotton", "linen"]),
            style("knitted", "knitted dress", &["winter", "everyday", "office"], &["wool blend", "merino wool"]),
        ],
    },
    CategoryRules {
        category: Category::Coat,
        keyword: "coat",
        gender_weights: [45, 45, 10],
        sizing: Sizing::Letters,
        price_range: (49, 399),
        colours: &["black", "camel", "navy", "grey", "beige", "olive", "brown", "khaki"],
        brands: &["The North Face", "Columbia", "Burberry", "Zara", "Mango", "Patagonia", "Hugo Boss", "Barbour"],
        styles: &[
            style("trench", "trench coat", &["office", "everyday", "travel"], &["cotton gabardine", "polyester"]),
            style("parka", "parka", &["winter", "outdoor"], &["nylon", "polyester"]),
            style("puffer", "puffer jacket", &["winter", "outdoor", "travel"], &["down", "nylon", "recycled polyester"]),
            style("overcoat", "overcoat", &["formal", "business", "winter", "office"], &["wool", "wool blend", "cashmere"]),
            style("peacoat", "peacoat", &["winter", "everyday", "office"], &["wool", "wool blend"]),
            style("raincoat", "raincoat", &["travel", "outdoor", "everyday"], &["polyester", "waxed cotton", "nylon"]),
            style("biker", "biker jacket", &["casual", "evening", "weekend"], &["leather", "faux leather"]),
        ],
    },
    CategoryRules {
        category: Category::Sandal,
        keyword: "sandal",
        gender_weights: [30, 55, 15],
        sizing: Sizing::Shoes,
        price_range: (14, 99),
        colours: &["brown", "black", "tan", "white", "beige", "gold", "silver", "navy"],
        brands: &["Clarks", "Steve Madden", "Zara", "Mango", "Ecco", "Geox", "Sam Edelman", "H&M"],
        styles: &[
            style("flip-flop", "flip-flops", &["beach", "summer", "lounge"], &["rubber", "EVA foam"]),
            style("slide", "slides", &["beach", "summer", "casual"], &["rubber", "leather", "EVA foam"]),
            style("gladiator", "gladiator sandals", &["summer", "casual", "beach"], &["leather", "faux leather"]),
            style("sport", "sport sandals", &["outdoor", "travel", "summer"], &["nylon webbing", "synthetic"]),
            style("footbed", "footbed sandals", &["summer", "casual", "everyday", "travel"], &["leather", "suede", "cork"]),
            women("strappy", "strappy sandals", &["summer", "party", "evening", "wedding"], &["leather", "suede"]),
            women("wedge", "wedge sandals", &["summer", "party", "wedding"], &["cork", "leather", "jute"]),
            women("heeled", "heeled sandals", &["party", "evening", "wedding"], &["leather", "satin", "suede"]),
        ],
    },
    CategoryRules {
        category: Category::Shirt,
        keyword: "shirt",
        gender_weights: [50, 40, 10],
        sizing: Sizing::Letters,
        price_range: (14, 119),
        colours: &["white", "light blue", "blue", "pink", "grey", "black", "navy", "olive"],
        brands: &["Ralph Lauren", "Tommy Hilfiger", "Hugo Boss", "Uniqlo", "Charles Tyrwhitt", "Zara", "H&M", "Gant"],
        styles: &[
            style("oxford", "oxford shirt", &["office", "casual", "everyday"], &["oxford cotton"]),
            style("formal", "formal shirt", &["formal", "business", "wedding", "office"], &["poplin", "cotton", "silk"]),
            style("flannel", "flannel shirt", &["casual", "weekend", "winter"], &["flannel", "brushed cotton"]),
            style("denim", "denim shirt", &["casual", "weekend"], &["denim", "chambray"]),
            style("linen", "linen shirt", &["summer", "beach", "casual"], &["linen", "linen blend"]),
            style("button-down", "button-down shirt", &["office", "everyday", "business"], &["cotton", "poplin"]),
            style("hawaiian", "hawaiian shirt", &["beach", "summer", "party"], &["viscose", "cotton"]),
            women("blouse", "blouse", &["office", "evening", "everyday"], &["silk", "viscose", "chiffon"]),
        ],
    },
    CategoryRules {
        category: Category::Sneaker,
        keyword: "sneaker",
        gender_weights: [30, 30, 40],
        sizing: Sizing::Shoes,
        price_range: (39, 199),
        colours: &["white", "black", "grey", "navy", "red", "blue", "beige", "green"],
        brands: &["Nike", "Adidas", "Puma", "New Balance", "Converse", "Vans", "Reebok", "Asics"],
        styles: &[
            style("running", "running shoes", &["sport", "gym", "everyday"], &["mesh", "knit", "synthetic"]),
            style("lace-up", "lace-up sneakers", &["casual", "everyday", "weekend"], &["canvas", "leather", "suede"]),
            style("slip-on", "slip-on sneakers", &["casual", "weekend", "travel"], &["canvas", "knit", "leather"]),
            style("high-top", "high-top sneakers", &["casual", "weekend"], &["canvas", "leather", "suede"]),
            style("retro", "retro trainers", &["casual", "everyday"], &["suede", "leather", "nylon"]),
            style("training", "training shoes", &["gym", "sport"], &["mesh", "synthetic"]),
            women("platform", "platform sneakers", &["casual", "weekend", "party"], &["leather", "canvas"]),
        ],
    },
    CategoryRules {
        category: Category::Bag,
        keyword: "bag",
        gender_weights: [10, 45, 45],
        sizing: Sizing::OneSize,
        price_range: (19, 349),
        colours: &["black", "brown", "tan", "beige", "navy", "red", "grey", "olive"],
        brands: &["Michael Kors", "Coach", "Longchamp", "Herschel", "Fjallraven", "Zara", "Mango", "Kate Spade"],
        styles: &[
            style("tote", "tote bag", &["everyday", "office", "travel"], &["canvas", "leather", "faux leather"]),
            style("backpack", "backpack", &["travel", "everyday", "outdoor"], &["nylon", "canvas", "leather"]),
            style("crossbody", "crossbody bag", &["everyday", "casual", "travel"], &["leather", "faux leather", "nylon"]),
            style("shoulder", "shoulder bag", &["office", "everyday", "evening"], &["leather", "faux leather", "suede"]),
            style("duffel", "duffel bag", &["travel", "sport", "gym"], &["nylon", "canvas", "leather"]),
            style("messenger", "messenger bag", &["office", "business", "everyday"], &["leather", "canvas", "nylon"]),
            style("belt", "belt bag", &["travel", "casual", "outdoor"], &["nylon", "leather"]),
            style("beach", "beach bag", &["beach", "summer"], &["straw", "jute", "canvas"]),
            women("clutch", "clutch", &["party", "evening", "wedding"], &["satin", "leather", "velvet"]),
        ],
    },
    CategoryRules {
        category: Category::AnkleBoot,
        keyword: "ankle boot",
        gender_weights: [30, 60, 10],
        sizing: Sizing::Shoes,
        price_range: (49, 279),
        colours: &["black", "brown", "tan", "grey", "burgundy", "taupe", "beige"],
        brands: &["Dr. Martens", "Clarks", "Timberland", "Steve Madden", "Blundstone", "Zara", "Ecco", "Mango"],
        styles: &[
            style("chelsea", "chelsea boots", &["everyday", "casual", "office"], &["leather", "suede"]),
            style("lace-up", "lace-up ankle boots", &["casual", "winter", "outdoor"], &["leather", "nubuck"]),
            style("combat", "combat boots", &["casual", "winter", "weekend"], &["leather", "faux leather"]),
            style("western", "western ankle boots", &["casual", "weekend"], &["leather", "suede"]),
            style("hiking", "hiking boots", &["outdoor", "winter", "travel"], &["nubuck", "waterproof leather", "synthetic"]),
            style("lined", "lined winter boots", &["winter", "everyday"], &["suede", "sheepskin"]),
            style("desert", "desert boots", &["casual", "everyday", "weekend"], &["suede"]),
            women("heeled", "heeled ankle boots", &["party", "evening", "office"], &["leather", "suede", "faux leather"]),
        ],
    },
];

/// How dark a palette colour looks in a grayscale picture, for matching it to the picture's tone;
/// None for a word that is no palette colour.
pub fn colour_tone(colour: &str) -> Option<Tone> {
    match colour {
        "black" | "navy" | "brown" | "burgundy" | "olive" => Some(Tone::Dark),
        "grey" | "red" | "blue" | "green" | "khaki" | "camel" | "tan" | "taupe" => Some(Tone::Mid),
        "white" | "cream" | "silver" | "beige" | "light blue" | "yellow" | "gold" | "pink" => {
            Some(Tone::Light)
        }
        _ => None,
    }
}

/// How an occasion reads inside a sentence ("perfect for {phrase}").
pub fn occasion_phrase(occasion: &str) -> &'static str {
    match occasion {
        "everyday" => "everyday wear",
        "casual" => "casual days out",
        "weekend" => "the weekend",
        "lounge" => "lounging at home",
        "sport" => "sport",
        "gym" => "the gym",
        "office" => "the office",
        "business" => "business meetings",
        "formal" => "formal occasions",
        "wedding" => "weddings",
        "party" => "parties",
        "evening" => "evenings out",
        "date night" => "date nights",
        "summer" => "summer days",
        "beach" => "the beach",
        "winter" => "cold winter days",
        "outdoor" => "the outdoors",
        "travel" => "travel",
        _ => "any occasion",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_palette_colour_has_a_tone() {
        for rules in RULES.iter() {
            for colour in rules.colours {
                assert!(colour_tone(colour).is_some(), "{colour}");
            }
        }
        assert_eq!(colour_tone("plaid"), None);
    }
}
