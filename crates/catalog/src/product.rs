//! A catalog product: the Fashion-MNIST image's id, class and split plus generated shop metadata.

use serde::{Serialize, Serializer};

/// The ten Fashion-MNIST classes, in label order 0..9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    TShirtTop,
    Trouser,
    Pullover,
    Dress,
    Coat,
    Sandal,
    Shirt,
    Sneaker,
    Bag,
    AnkleBoot,
}

impl Category {
    /// All categories, index = Fashion-MNIST label.
    pub const ALL: [Category; 10] = [
        Category::TShirtTop,
        Category::Trouser,
        Category::Pullover,
        Category::Dress,
        Category::Coat,
        Category::Sandal,
        Category::Shirt,
        Category::Sneaker,
        Category::Bag,
        Category::AnkleBoot,
    ];

    /// The category of a Fashion-MNIST label, or None for a label above 9.
    pub fn from_label(label: u8) -> Option<Category> {
        Category::ALL.get(usize::from(label)).copied()
    }

    /// The Fashion-MNIST label (0..9).
    pub fn label(self) -> u8 {
        self as u8
    }

    /// The class name exactly as Fashion-MNIST spells it (stored in `products.category`).
    pub fn name(self) -> &'static str {
        match self {
            Category::TShirtTop => "T-shirt/top",
            Category::Trouser => "Trouser",
            Category::Pullover => "Pullover",
            Category::Dress => "Dress",
            Category::Coat => "Coat",
            Category::Sandal => "Sandal",
            Category::Shirt => "Shirt",
            Category::Sneaker => "Sneaker",
            Category::Bag => "Bag",
            Category::AnkleBoot => "Ankle boot",
        }
    }
}

impl Serialize for Category {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Who a product is for, as stored in `products.gender`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    Men,
    Women,
    Unisex,
}

impl Gender {
    /// All genders, in the order of the weights in the category rules.
    pub const ALL: [Gender; 3] = [Gender::Men, Gender::Women, Gender::Unisex];

    /// 'men', 'women' or 'unisex'.
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Men => "men",
            Gender::Women => "women",
            Gender::Unisex => "unisex",
        }
    }
}

/// Which Fashion-MNIST file an image comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Test,
}

impl Split {
    /// 'train' or 'test'.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

/// One product of the catalog; the JSONL export writes exactly these fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    pub id: u32,
    pub split: Split,
    pub label: u8,
    pub category: Category,
    pub name: String,
    pub gender: Gender,
    pub size: &'static str,
    /// Price in cents: exact, unlike a float; the database column is numeric(10,2).
    #[serde(rename = "price", serialize_with = "cents_as_number")]
    pub price_cents: u32,
    pub colour: &'static str,
    pub material: &'static str,
    pub style: &'static str,
    pub occasion: &'static str,
    pub brand: &'static str,
    pub description: String,
    pub short_description: String,
    pub keywords: String,
}

impl Product {
    /// The price as decimal text with two places, e.g. "24.99".
    pub fn price_text(&self) -> String {
        format!("{}.{:02}", self.price_cents / 100, self.price_cents % 100)
    }
}

/// Writes cents as a JSON number of currency units (2499 -> 24.99).
fn cents_as_number<S: Serializer>(cents: &u32, s: S) -> Result<S::Ok, S::Error> {
    // Division is correctly rounded, so the shortest repr of the result is the 2-place decimal.
    s.serialize_f64(f64::from(*cents) / 100.0)
}
