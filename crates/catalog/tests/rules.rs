//! The catalog's category rules, checked on generated products.

use std::collections::{HashMap, HashSet};

use fashrec_catalog::attributes::{colour_tone, CategoryRules, Sizing, RULES};
use fashrec_catalog::{generate, Category, Gender, Product, Split, Tone, DEFAULT_SEED};
use proptest::prelude::*;

/// Every product of the first `n` ids of each category, as if those were its images, their
/// darkness spread evenly from lightest to darkest.
fn sample(seed: u64, n: u32) -> Vec<Product> {
    Category::ALL
        .iter()
        .flat_map(|&c| {
            (0..n).map(move |id| {
                let darkness = (f64::from(id) + 0.5) / f64::from(n);
                generate(seed, id * 10 + c.label() as u32, c, darkness)
            })
        })
        .collect()
}

/// Checks every rule on one product; returns the broken rule, if any.
fn check(p: &Product) -> Result<(), String> {
    let rules = CategoryRules::of(p.category);
    let style = rules
        .styles
        .iter()
        .find(|s| s.name == p.style)
        .ok_or("style not of the category")?;
    let fields = [
        &p.name[..],
        p.size,
        p.colour,
        p.material,
        p.style,
        p.occasion,
        p.brand,
        &p.description,
        &p.short_description,
        &p.keywords,
    ];
    if fields.iter().any(|f| f.trim().is_empty()) {
        return Err("an empty field".into());
    }
    if p.label != p.category.label() {
        return Err("label and category disagree".into());
    }
    if !style.occasions.contains(&p.occasion) {
        return Err(format!("occasion {} not of style {}", p.occasion, p.style));
    }
    if !style.materials.contains(&p.material) {
        return Err(format!("material {} not of style {}", p.material, p.style));
    }
    if style.women_only && p.gender != Gender::Women {
        return Err(format!(
            "{} style {} for {:?}",
            p.category.name(),
            p.style,
            p.gender
        ));
    }
    if !rules.colours.contains(&p.colour) || !rules.brands.contains(&p.brand) {
        return Err("colour or brand not of the category".into());
    }
    if !rules.sizing.sizes(p.gender).contains(&p.size) {
        return Err(format!(
            "size {} not for {:?} {}",
            p.size,
            p.gender,
            p.category.name()
        ));
    }
    let (lo, hi) = rules.price_cents_range();
    if !(lo..=hi).contains(&p.price_cents) {
        return Err(format!("price {} outside {lo}..={hi}", p.price_cents));
    }
    if rules.gender_weights[Gender::ALL.iter().position(|&g| g == p.gender).unwrap_or(0)] == 0 {
        return Err(format!(
            "gender {:?} never sold in {}",
            p.gender,
            p.category.name()
        ));
    }
    let expected_split = if p.id < 60_000 {
        Split::Train
    } else {
        Split::Test
    };
    if p.split != expected_split {
        return Err("wrong split".into());
    }
    let keywords = format!(
        "{} {} {} {} {}",
        rules.keyword,
        p.gender.as_str(),
        p.colour,
        p.material,
        p.style
    )
    .to_lowercase();
    if !p.keywords.starts_with(&keywords) || !p.keywords.ends_with(p.occasion) {
        return Err(format!("keywords {:?}", p.keywords));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_product_follows_the_rules(seed in any::<u64>(), id in 0u32..70_000, label in 0u8..10,
                                       darkness in 0.0f64..1.0) {
        let Some(category) = Category::from_label(label) else { unreachable!() };
        let p = generate(seed, id, category, darkness);
        prop_assert_eq!(check(&p), Ok(()), "{:?}", p);
    }

    #[test]
    fn same_seed_and_id_same_product(seed in any::<u64>(), id in 0u32..70_000, label in 0u8..10,
                                     darkness in 0.0f64..1.0) {
        let Some(category) = Category::from_label(label) else { unreachable!() };
        prop_assert_eq!(generate(seed, id, category, darkness), generate(seed, id, category, darkness));
    }

    #[test]
    fn the_darkness_changes_only_the_colour(seed in any::<u64>(), id in 0u32..70_000, label in 0u8..10,
                                            a in 0.0f64..1.0, b in 0.0f64..1.0) {
        let Some(category) = Category::from_label(label) else { unreachable!() };
        let (x, y) = (generate(seed, id, category, a), generate(seed, id, category, b));
        prop_assert_eq!((x.gender, x.style, x.material, x.occasion), (y.gender, y.style, y.material, y.occasion));
        prop_assert_eq!((x.brand, x.size, x.price_cents), (y.brand, y.size, y.price_cents));
    }
}

#[test]
fn generation_does_not_depend_on_order() {
    let forward: Vec<Product> = (0..500)
        .map(|id| generate(DEFAULT_SEED, id, Category::Coat, 0.5))
        .collect();
    let mut backward: Vec<Product> = (0..500)
        .rev()
        .map(|id| generate(DEFAULT_SEED, id, Category::Coat, 0.5))
        .collect();
    backward.reverse();
    assert_eq!(forward, backward);
}

#[test]
fn seeds_change_the_catalog() {
    let a = sample(1, 20);
    let b = sample(2, 20);
    let same = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x.description == y.description)
        .count();
    assert!(same < a.len() / 4, "{same} of {} identical", a.len());
}

#[test]
fn no_absurd_products() {
    for p in sample(DEFAULT_SEED, 2_000) {
        if let Err(broken) = check(&p) {
            panic!("{broken}: {p:?}");
        }
        match p.category {
            Category::Sandal => assert!(p.occasion != "winter" && p.style != "winter", "{p:?}"),
            Category::Dress => assert!(matches!(p.gender, Gender::Women | Gender::Unisex), "{p:?}"),
            Category::Sneaker => assert!(
                !["formal", "business", "wedding"].contains(&p.occasion),
                "{p:?}"
            ),
            Category::Bag => assert_eq!(p.size, "One Size"),
            _ => {}
        }
        if p.gender == Gender::Men {
            assert!(
                !p.style.contains("heeled") && p.style != "clutch" && p.style != "crop",
                "{p:?}"
            );
        }
    }
}

#[test]
fn sizes_fit_the_category() {
    for p in sample(DEFAULT_SEED, 500) {
        let sizing = CategoryRules::of(p.category).sizing;
        match p.category {
            Category::Sandal | Category::Sneaker | Category::AnkleBoot => {
                assert_eq!(sizing, Sizing::Shoes)
            }
            Category::Trouser => assert!(p.size.starts_with('W'), "{p:?}"),
            Category::Bag => assert_eq!(sizing, Sizing::OneSize),
            _ => assert!(
                ["XS", "S", "M", "L", "XL", "XXL"].contains(&p.size),
                "{p:?}"
            ),
        }
        if sizing == Sizing::Shoes && p.gender == Gender::Women {
            assert!(
                p.size.parse::<u32>().is_ok_and(|s| (36..=42).contains(&s)),
                "{p:?}"
            );
        }
    }
}

#[test]
fn gender_mix_follows_the_weights() {
    let n = 5_000;
    for rules in RULES.iter() {
        let mut counts: HashMap<Gender, u32> = HashMap::new();
        for id in 0..n {
            *counts
                .entry(generate(DEFAULT_SEED, id, rules.category, 0.5).gender)
                .or_default() += 1;
        }
        for (k, g) in Gender::ALL.iter().enumerate() {
            let share = f64::from(counts.get(g).copied().unwrap_or(0)) / f64::from(n) * 100.0;
            let want = f64::from(rules.gender_weights[k]);
            assert!(
                (share - want).abs() < 3.0,
                "{} {g:?}: {share:.1}% vs {want}%",
                rules.category.name()
            );
        }
    }
}

#[test]
fn every_attribute_value_is_used() {
    // Lists with values the generator can never reach are dead rules.
    let products = sample(DEFAULT_SEED, 3_000);
    for rules in RULES.iter() {
        let mine: Vec<&Product> = products
            .iter()
            .filter(|p| p.category == rules.category)
            .collect();
        let seen = |f: fn(&Product) -> &str| mine.iter().map(|p| f(p)).collect::<HashSet<&str>>();
        assert_eq!(
            seen(|p| p.colour).len(),
            rules.colours.len(),
            "{}",
            rules.category.name()
        );
        assert_eq!(
            seen(|p| p.brand).len(),
            rules.brands.len(),
            "{}",
            rules.category.name()
        );
        assert_eq!(
            seen(|p| p.style).len(),
            rules.styles.len(),
            "{}",
            rules.category.name()
        );
        let all_sizes: HashSet<&str> = Gender::ALL
            .iter()
            .flat_map(|&g| rules.sizing.sizes(g).iter().copied())
            .collect();
        let used_sizes = seen(|p| p.size);
        assert!(used_sizes.is_subset(&all_sizes));
    }
}

#[test]
fn the_lightest_pictures_get_light_colours_and_the_darkest_dark_ones() {
    // Every palette here holds a light and a dark colour; the bar's colours are among them.
    for rules in RULES.iter() {
        for id in 0..200 {
            let lightest = generate(DEFAULT_SEED, id, rules.category, 0.001);
            let darkest = generate(DEFAULT_SEED, id, rules.category, 0.999);
            assert_eq!(
                colour_tone(lightest.colour),
                Some(Tone::Light),
                "{lightest:?}"
            );
            assert_eq!(colour_tone(darkest.colour), Some(Tone::Dark), "{darkest:?}");
        }
    }
}

#[test]
fn descriptions_come_in_several_formats() {
    let products = sample(DEFAULT_SEED, 200);
    let starts: HashSet<&str> = products
        .iter()
        .map(|p| p.description.split(' ').next().unwrap_or(""))
        .collect();
    assert!(
        starts.contains("Looking") && starts.contains("Brand:"),
        "{starts:?}"
    );
    assert!(products
        .iter()
        .any(|p| p.description.starts_with("men ") || p.description.starts_with("women ")));
}
