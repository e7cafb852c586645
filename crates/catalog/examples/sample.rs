//! Prints a few products of the default catalog, the first N of each category:
//! `cargo run -p fashrec-catalog --example sample [N]` (needs the Debian dataset).

use std::path::Path;

use fashrec_catalog::{Dataset, Selection, DEFAULT_DIR, DEFAULT_SEED};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2);
    let data = Dataset::load(Path::new(DEFAULT_DIR)).unwrap_or_else(|e| panic!("{e}"));
    let ids = data
        .select(Selection::Balanced(n))
        .unwrap_or_else(|e| panic!("{e}"));
    for id in ids {
        let Some(p) = data.product(DEFAULT_SEED, id) else {
            continue;
        };
        println!(
            "{:<12} {} | {} | {} | {}",
            p.category.name(),
            p.name,
            p.short_description,
            p.keywords,
            p.price_text()
        );
        println!("             {}", p.description);
    }
}
