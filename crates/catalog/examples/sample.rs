//! Prints a few generated products: `cargo run -p fashrec-catalog --example sample [N]`.

use fashrec_catalog::{generate, Category, DEFAULT_SEED};

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2);
    for category in Category::ALL {
        for id in 0..n {
            let p = generate(DEFAULT_SEED, id, category);
            println!(
                "{:<12} {} | {} | {} | {}",
                category.name(),
                p.name,
                p.short_description,
                p.keywords,
                p.price_text()
            );
            println!("             {}", p.description);
        }
    }
}
