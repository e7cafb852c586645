//! Checks against the installed Debian package; skipped (with a note) where it is absent.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use fashrec_catalog::attributes::RULES;
use fashrec_catalog::png::encode_png;
use fashrec_catalog::{Category, Dataset, Selection, DEFAULT_DIR, DEFAULT_SEED};

/// Keywords of two products of the default catalog.
const PINNED_0: &str = "ankle boot unisex brown suede desert timberland weekend";
const PINNED_69999: &str = "sandal men white rubber slide sam edelman summer";

/// The installed dataset, read once for all tests, or None (printing why) when the package is
/// not installed.
fn installed() -> Option<&'static Dataset> {
    static DATA: OnceLock<Option<Dataset>> = OnceLock::new();
    let data = DATA.get_or_init(|| {
        Path::new(DEFAULT_DIR)
            .is_dir()
            .then(|| Dataset::load(Path::new(DEFAULT_DIR)).unwrap_or_else(|e| panic!("{e}")))
    });
    if data.is_none() {
        eprintln!("skipped: {DEFAULT_DIR} absent (apt-get install dataset-fashion-mnist)");
    }
    data.as_ref()
}

#[test]
fn full_dataset_is_70000_balanced_products() {
    let Some(data) = installed() else { return };
    assert_eq!(data.len(), 70_000);
    let all = data.select(Selection::All).unwrap();
    assert_eq!(all.len(), 70_000);
    let mut per_class = [0usize; 10];
    for &id in &all {
        per_class[usize::from(data.category(id).unwrap().label())] += 1;
    }
    assert_eq!(per_class, [7_000; 10]);

    let balanced = data.select(Selection::Balanced(500)).unwrap();
    assert_eq!(balanced.len(), 5_000);
    assert!(balanced.iter().all(|&id| id < 60_000));
    assert!(data.select(Selection::Balanced(6_001)).is_err());
    assert_eq!(
        data.select(Selection::Balanced(6_000)).unwrap().len(),
        60_000
    );
}

#[test]
fn first_images_have_their_known_classes() {
    let Some(data) = installed() else { return };
    // Fashion-MNIST's first train image is an ankle boot, its first test image too.
    assert_eq!(data.category(0), Some(Category::AnkleBoot));
    assert_eq!(data.category(60_000), Some(Category::AnkleBoot));
    assert_eq!(data.category(1), Some(Category::TShirtTop));
}

#[test]
fn the_default_catalog_is_pinned() {
    // Training data and stored tables rely on these staying put: changing the generator
    // changes the catalog, so such a change must be deliberate and this test updated with it.
    let Some(data) = installed() else { return };
    assert_eq!(data.product(DEFAULT_SEED, 0).unwrap().keywords, PINNED_0);
    assert_eq!(
        data.product(DEFAULT_SEED, 69_999).unwrap().keywords,
        PINNED_69999
    );
}

/// The product's pixels as a shopper sees them: the PNG decoded and shown the right way round
/// (255 - value, as demo/sheet.py draws it), without the white page around the product.
/// Written apart from the generator's own darkness measure on purpose.
fn shown_product_pixels(png: &[u8]) -> Vec<u8> {
    let decoder = ::png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap_or_else(|e| panic!("{e}"));
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("{e}"));
    buf[..info.buffer_size()]
        .iter()
        .map(|&v| 255 - v)
        .filter(|&shown| shown < 255)
        .collect()
}

/// How light a picture looks, from its shown product pixels.
type Lightness = fn(&[u8]) -> f64;

/// Two ways to say it: the product pixels' mean and their median.
fn mean_lightness(pixels: &[u8]) -> f64 {
    pixels.iter().map(|&v| f64::from(v)).sum::<f64>() / pixels.len().max(1) as f64
}

fn median_lightness(pixels: &[u8]) -> f64 {
    let mut sorted = pixels.to_vec();
    sorted.sort_unstable();
    sorted
        .get(sorted.len() / 2)
        .map_or(255.0, |&v| f64::from(v))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

#[test]
fn named_colours_agree_with_the_picture() {
    let Some(data) = installed() else { return };
    // Per category, the shown pixels of the products named black or navy, and of those named
    // white, cream or silver.
    let mut dark: HashMap<Category, Vec<Vec<u8>>> = HashMap::new();
    let mut light: HashMap<Category, Vec<Vec<u8>>> = HashMap::new();
    for id in data.select(Selection::All).unwrap() {
        let p = data.product(DEFAULT_SEED, id).unwrap();
        let group = match p.colour {
            "black" | "navy" => &mut dark,
            "white" | "cream" | "silver" => &mut light,
            _ => continue,
        };
        let png = encode_png(id, data.image(id).unwrap()).unwrap();
        group
            .entry(p.category)
            .or_default()
            .push(shown_product_pixels(&png));
    }
    let measures: [(&str, Lightness); 2] = [("mean", mean_lightness), ("median", median_lightness)];
    for (name, lightness) in measures {
        let (mut dark_total, mut dark_lighter, mut light_total, mut light_darker) = (0, 0, 0, 0);
        for category in Category::ALL {
            let (Some(d), Some(l)) = (dark.get(&category), light.get(&category)) else {
                continue; // no white, cream or silver in its palette: nothing to compare with
            };
            let d: Vec<f64> = d.iter().map(|p| lightness(p)).collect();
            let l: Vec<f64> = l.iter().map(|p| lightness(p)).collect();
            let (dark_median, light_median) = (median(&d), median(&l));
            let lighter = d.iter().filter(|&&x| x > light_median).count();
            let darker = l.iter().filter(|&&x| x < dark_median).count();
            eprintln!(
                "{name} {:12} black/navy {} (median {dark_median:.0}), {lighter} lighter than the white/cream/silver median; \
                 white/cream/silver {} (median {light_median:.0}), {darker} darker than the black/navy median",
                category.name(),
                d.len(),
                l.len()
            );
            (dark_total, dark_lighter) = (dark_total + d.len(), dark_lighter + lighter);
            (light_total, light_darker) = (light_total + l.len(), light_darker + darker);
        }
        let share = |n: usize, of: usize| n as f64 / of as f64;
        eprintln!(
            "{name}: {dark_lighter} of {dark_total} black/navy lighter ({:.2}%), {light_darker} of {light_total} white/cream/silver darker ({:.2}%)",
            100.0 * share(dark_lighter, dark_total),
            100.0 * share(light_darker, light_total)
        );
        assert!(dark_total > 5_000 && light_total > 5_000);
        assert!(share(dark_lighter, dark_total) < 0.02, "{name}");
        assert!(share(light_darker, light_total) < 0.02, "{name}");
    }
}

#[test]
fn every_colour_keeps_its_share() {
    let Some(data) = installed() else { return };
    let mut counts: HashMap<(Category, &str), usize> = HashMap::new();
    for id in data.select(Selection::All).unwrap() {
        let p = data.product(DEFAULT_SEED, id).unwrap();
        *counts.entry((p.category, p.colour)).or_default() += 1;
    }
    for rules in RULES.iter() {
        let fair = 7_000.0 / rules.colours.len() as f64;
        for colour in rules.colours {
            let n = counts.get(&(rules.category, colour)).copied().unwrap_or(0) as f64;
            assert!(
                (0.7 * fair..1.3 * fair).contains(&n),
                "{} {colour}: {n} of 7000, {fair:.0} would be fair",
                rules.category.name()
            );
        }
    }
}
