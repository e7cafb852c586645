//! The shopper's filters (gender mode, category, price range) as the forms send them, and what
//! they mean for the extension's functions.

use serde::Deserialize;

use crate::db::{self, DbError};
use deadpool_postgres::Pool;

/// Products a page shows at most.
pub const PAGE: i32 = 24;
/// With a price range the functions' best matches are filtered afterwards (they take no price
/// argument): this many are asked for, and an empty page says so.
pub const PRICED_DEPTH: i32 = 500;

/// The gender modes of the extension (fashrec_genders), as the select lists them.
pub const GENDER_MODES: [(&str, &str); 4] = [
    ("everyone", "Everyone"),
    ("men", "Men (men and unisex)"),
    ("women", "Women (women and unisex)"),
    ("unisex", "Unisex only"),
];

/// The filter fields of a query string or form, as sent.
#[derive(Deserialize, Default, Clone)]
pub struct FilterForm {
    pub gender: Option<String>,
    pub category: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
}

/// The filters, checked. The strings are kept as typed, to show them back in the form.
#[derive(Clone)]
pub struct Filters {
    pub gender: String,
    pub category: String,
    pub min: String,
    pub max: String,
    min_price: Option<f64>,
    max_price: Option<f64>,
    problem: Option<String>,
}

impl Filters {
    /// The filters of a form; a price that is not an amount is no bound, and the problem.
    pub fn from_form(form: &FilterForm) -> Self {
        let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
        let (min, max) = (text(&form.min), text(&form.max));
        let (min_price, max_price) = (price(&min), price(&max));
        Filters {
            gender: match text(&form.gender) {
                g if g.is_empty() => "everyone".to_string(),
                g => g,
            },
            category: text(&form.category),
            problem: min_price.clone().err().or(max_price.clone().err()),
            min_price: min_price.unwrap_or(None),
            max_price: max_price.unwrap_or(None),
            min,
            max,
        }
    }

    /// What is wrong with the filters as typed, if anything.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// The gender preference argument of the functions: NULL for everyone. Any other value goes
    /// to the database as typed, which refuses what it does not know.
    pub fn preference(&self) -> Option<&str> {
        (self.gender != "everyone").then_some(self.gender.as_str())
    }

    /// The in_category argument: NULL for every category.
    pub fn in_category(&self) -> Option<&str> {
        (!self.category.is_empty()).then_some(self.category.as_str())
    }

    pub fn min_price(&self) -> Option<f64> {
        self.min_price
    }

    pub fn max_price(&self) -> Option<f64> {
        self.max_price
    }

    fn priced(&self) -> bool {
        self.min_price.is_some() || self.max_price.is_some()
    }

    /// How many products to ask the functions for.
    pub fn depth(&self) -> i32 {
        if self.priced() {
            PRICED_DEPTH
        } else {
            PAGE
        }
    }

    /// The query string that carries these filters to the next page.
    pub fn query_string(&self) -> String {
        let pairs = [
            ("gender", &self.gender),
            ("category", &self.category),
            ("min", &self.min),
            ("max", &self.max),
        ];
        let set: Vec<_> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
        serde_urlencoded::to_string(set).unwrap_or_default()
    }

    /// Why a query with these filters returned nothing, in a sentence, checked against the
    /// catalog: no product admitted by the gender mode and category, or none at the price.
    pub async fn why_empty(&self, pool: &Pool) -> Result<String, DbError> {
        let rows = db::query(
            pool,
            "SELECT count(*) FROM products WHERE embedding IS NOT NULL
               AND ($1::text IS NULL OR gender = ANY (fashrec_genders($1)))
               AND ($2::text IS NULL OR category = $2)",
            &[&self.preference(), &self.in_category()],
        )
        .await?;
        let admitted: i64 = rows.first().map_or(Ok(0), |r| r.try_get(0))?;
        let who = match self.preference() {
            None => "for anyone".to_string(),
            Some("unisex") => "that is unisex".to_string(),
            Some(g) => format!("for {g} (or unisex)"),
        };
        let category = self
            .in_category()
            .map_or(String::new(), |c| format!(" in category {c}"));
        Ok(if admitted == 0 {
            format!("No products: the catalog has no product {who}{category}.")
        } else if self.priced() {
            format!(
                "No products: none of the {PRICED_DEPTH} best matches {who}{category} costs {}. Widen the price range.",
                self.price_range()
            )
        } else {
            format!("No products: the database returned none, although {admitted} products {who}{category} exist.")
        })
    }

    fn price_range(&self) -> String {
        match (self.min_price, self.max_price) {
            (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
            (Some(lo), None) => format!("{lo} or more"),
            (None, Some(hi)) => format!("{hi} or less"),
            (None, None) => "anything".to_string(),
        }
    }
}

/// A price as typed: empty is no bound; anything but a finite number is refused.
fn price(text: &str) -> Result<Option<f64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(Some(p)),
        _ => Err(format!(
            "The price \"{text}\" is not an amount: type a number such as 25 or 49.90."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(gender: &str, category: &str, min: &str, max: &str) -> FilterForm {
        FilterForm {
            gender: Some(gender.into()),
            category: Some(category.into()),
            min: Some(min.into()),
            max: Some(max.into()),
        }
    }

    #[test]
    fn everyone_and_no_category_are_null_arguments() {
        let f = Filters::from_form(&FilterForm::default());
        assert_eq!(
            (f.preference(), f.in_category(), f.depth()),
            (None, None, PAGE)
        );
        let f = Filters::from_form(&form("men", "Dress", "", " 40 "));
        assert_eq!(f.problem(), None);
        assert_eq!(
            (f.preference(), f.in_category()),
            (Some("men"), Some("Dress"))
        );
        assert_eq!(
            (f.min_price(), f.max_price(), f.depth()),
            (None, Some(40.0), PRICED_DEPTH)
        );
    }

    #[test]
    fn a_price_that_is_not_an_amount_is_refused_by_name() {
        for bad in ["cheap", "-3", "NaN", "inf"] {
            let f = Filters::from_form(&form("", "", "", bad));
            let err = f.problem().unwrap();
            assert_eq!(f.max_price(), None);
            assert!(err.contains(&format!("\"{bad}\"")), "{err}");
        }
    }

    #[test]
    fn the_query_string_carries_the_filters_encoded() {
        let f = Filters::from_form(&form("women", "T-shirt/top", "", "9.5"));
        assert_eq!(
            f.query_string(),
            "gender=women&category=T-shirt%2Ftop&max=9.5"
        );
    }
}
