//! Attributes: the values of a table's other indexed columns (gender, category, price, ...)
//! stored beside each row's vector and code, so that a scan checks a query's WHERE clauses on
//! them before it scores the row or the database fetches it.
//!
//! Each value is stored as a 64-bit key: the integer itself for integers and booleans,
//! an order-preserving image of a float (so ranges compare keys), a hash of the bytes for text
//! (equality only). Keys only ever reject rows that cannot match; a row a key accepts is checked
//! again by the database (a text hash may collide, a numeric rounds to a float), so a filter
//! never needs to be exact, only never wrong in rejecting.
//!
//! Stored bytes of a row with `n > 0` attributes: a word whose bit `i` says attribute `i` is
//! NULL, then the `n` keys, native-endian u64 each. A row of an index without attributes
//! stores nothing.

use xxhash_rust::xxh3::xxh3_64;

/// Most attributes one index stores (bits of the NULL word, with room to spare).
pub const MAX_ATTRIBUTES: usize = 16;

/// Bytes one row's attributes take.
pub(crate) fn stored_bytes(attributes: usize) -> usize {
    if attributes == 0 {
        0
    } else {
        8 * (attributes + 1)
    }
}

/// Writes one row's attributes (`None` is SQL NULL) as stored; appends nothing without any.
pub fn encode(values: &[Option<u64>], out: &mut Vec<u8>) {
    if values.is_empty() {
        return;
    }
    let nulls = values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_none())
        .fold(0u64, |bits, (i, _)| bits | 1 << i);
    out.extend_from_slice(&nulls.to_ne_bytes());
    for v in values {
        out.extend_from_slice(&v.unwrap_or(0).to_ne_bytes());
    }
}

/// The keys of a row's `attributes` attributes stored as `stored` (`None`: NULL, or missing).
pub(crate) fn stored_keys(
    stored: &[u8],
    attributes: usize,
) -> impl Iterator<Item = Option<u64>> + '_ {
    let nulls = stored_word(stored, 0).unwrap_or(u64::MAX);
    (0..attributes).map(move |a| {
        if nulls >> a & 1 == 1 {
            None
        } else {
            stored_word(stored, a + 1)
        }
    })
}

/// Word `i` of a row's stored attributes (0: the NULL bits; `a + 1`: attribute `a`'s key).
#[inline]
pub(crate) fn stored_word(stored: &[u8], i: usize) -> Option<u64> {
    stored
        .get(i * 8..i * 8 + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_ne_bytes)
}

/// The key of an integer (any width), ordered as the integers are.
pub fn int_key(value: i64) -> u64 {
    (value as u64) ^ (1 << 63)
}

/// The key of a float, ordered as PostgreSQL orders floats: -0 equals 0, NaN equals NaN and is
/// greater than every other value (+infinity included).
pub fn float_key(value: f64) -> u64 {
    let value = if value == 0.0 {
        0.0
    } else if value.is_nan() {
        f64::NAN
    } else {
        value
    };
    let bits = value.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// The key of a text (or any byte string): a hash, for equality only.
pub fn bytes_key(value: &[u8]) -> u64 {
    xxh3_64(value)
}

/// The key of a boolean.
pub fn bool_key(value: bool) -> u64 {
    value as u64
}

/// What one attribute's key must satisfy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Test {
    /// One of these keys (an empty set matches nothing).
    AnyOf(Vec<u64>),
    /// At least this key.
    AtLeast(u64),
    /// At most this key.
    AtMost(u64),
}

impl Test {
    /// Whether some key from `least` to `greatest` (none if `least > greatest`) passes.
    pub(crate) fn may_meet(&self, least: u64, greatest: u64) -> bool {
        least <= greatest
            && match self {
                Test::AnyOf(keys) => keys.iter().any(|k| (least..=greatest).contains(k)),
                Test::AtLeast(low) => greatest >= *low,
                Test::AtMost(high) => least <= *high,
            }
    }
}

/// A conjunction of tests on attributes; a NULL attribute passes none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    tests: Vec<(usize, Test)>,
}

impl Filter {
    /// A filter that every row passes.
    pub fn new() -> Self {
        Filter::default()
    }

    /// Adds a test of attribute `attribute` (0-based).
    pub fn and(mut self, attribute: usize, test: Test) -> Self {
        let test = match test {
            Test::AnyOf(mut keys) => {
                keys.sort_unstable();
                keys.dedup();
                Test::AnyOf(keys)
            }
            other => other,
        };
        self.tests.push((attribute, test));
        self
    }

    /// Whether the filter tests anything.
    pub fn is_empty(&self) -> bool {
        self.tests.is_empty()
    }

    /// The tests, each with the attribute it reads.
    pub(crate) fn tests(&self) -> &[(usize, Test)] {
        &self.tests
    }

    /// The highest attribute a test reads, if any.
    pub(crate) fn highest_attribute(&self) -> Option<usize> {
        self.tests.iter().map(|(a, _)| *a).max()
    }

    /// Whether a row whose attributes are stored as `stored` may match.
    pub(crate) fn matches(&self, stored: &[u8]) -> bool {
        if self.tests.is_empty() {
            return true;
        }
        let nulls = stored_word(stored, 0).unwrap_or(u64::MAX);
        self.tests.iter().all(|(attribute, test)| {
            if nulls >> attribute & 1 == 1 {
                return false;
            }
            let Some(key) = stored_word(stored, attribute + 1) else {
                return false;
            };
            match test {
                Test::AnyOf(keys) => keys.binary_search(&key).is_ok(),
                Test::AtLeast(low) => key >= *low,
                Test::AtMost(high) => key <= *high,
            }
        })
    }
}

/// One row's attributes as stored, for tests.
#[cfg(test)]
pub(crate) fn encoded(values: &[Option<u64>]) -> Vec<u8> {
    let mut out = Vec::new();
    encode(values, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_the_order_of_their_values() {
        let ints = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        assert!(ints.windows(2).all(|w| int_key(w[0]) < int_key(w[1])));
        let floats = [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -0.0,
            1e-300,
            3.0,
            f64::INFINITY,
            f64::NAN,
        ];
        assert!(floats
            .windows(2)
            .all(|w| float_key(w[0]) <= float_key(w[1])));
        assert!(floats
            .windows(2)
            .filter(|w| w[0] != 0.0 || w[1] != 0.0)
            .all(|w| float_key(w[0]) < float_key(w[1])));
        assert_eq!(float_key(-0.0), float_key(0.0));
        assert_eq!(float_key(f64::NAN), float_key(-f64::NAN));
        assert_ne!(bytes_key(b"men"), bytes_key(b"women"));
    }

    #[test]
    fn filters_check_every_test_and_reject_nulls() {
        let row = encoded(&[Some(bytes_key(b"men")), Some(int_key(120)), None]);
        assert_eq!(row.len(), stored_bytes(3));
        let men = Filter::new().and(
            0,
            Test::AnyOf(vec![bytes_key(b"unisex"), bytes_key(b"men")]),
        );
        assert!(men.matches(&row));
        assert!(!Filter::new()
            .and(0, Test::AnyOf(vec![bytes_key(b"women")]))
            .matches(&row));
        assert!(!Filter::new().and(0, Test::AnyOf(vec![])).matches(&row));
        let cheap = men.clone().and(1, Test::AtMost(int_key(100)));
        assert!(!cheap.matches(&row));
        let range = men
            .and(1, Test::AtLeast(int_key(100)))
            .and(1, Test::AtMost(int_key(120)));
        assert!(range.matches(&row));
        assert!(
            !Filter::new().and(2, Test::AtLeast(0)).matches(&row),
            "NULL passes no test"
        );
        assert!(Filter::new().matches(&row));
        assert!(encoded(&[]).is_empty());
    }
}
