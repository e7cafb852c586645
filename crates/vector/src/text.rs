//! pgvector's text format: `[1,2.5,3]`, whitespace allowed around every token.

use crate::{check_dims, check_element, check_typmod, VectorError, MAX_DIM};
use std::fmt::Write;

/// Parses `[x, y, ...]` into its elements, checking them and the expected dimensions (`typmod`, -1 for any).
pub fn parse_text(input: &str, typmod: i32) -> Result<Vec<f32>, VectorError> {
    let syntax = |detail| VectorError::Syntax {
        input: input.to_string(),
        detail,
    };
    let bytes = input.as_bytes();
    let mut pos = skip_space(bytes, 0);
    if bytes.get(pos) != Some(&b'[') {
        return Err(syntax(Some("Vector contents must start with \"[\".")));
    }
    pos = skip_space(bytes, pos + 1);
    if bytes.get(pos) == Some(&b']') {
        return Err(VectorError::Empty);
    }
    let mut values = Vec::new();
    loop {
        if values.len() == MAX_DIM {
            return Err(VectorError::TooManyDims(MAX_DIM + 1));
        }
        pos = skip_space(bytes, pos);
        let end = scan_float(bytes, pos);
        if end == pos {
            return Err(syntax(None));
        }
        let token = &input[pos..end];
        let x: f32 = token.parse().map_err(|_| syntax(None))?;
        if x.is_infinite() && !is_infinity_word(token) {
            return Err(VectorError::OutOfRange(token.to_string()));
        }
        check_element(x)?;
        values.push(x);
        pos = skip_space(bytes, end);
        match bytes.get(pos) {
            Some(b',') => pos += 1,
            Some(b']') => {
                pos += 1;
                break;
            }
            _ => return Err(syntax(None)),
        }
    }
    if skip_space(bytes, pos) != bytes.len() {
        return Err(syntax(Some("Junk after closing right brace.")));
    }
    check_dims(values.len())?;
    check_typmod(typmod, values.len())?;
    Ok(values)
}

/// Formats elements as `[x,y,...]` with PostgreSQL's shortest float4 notation.
pub fn format_text(values: &[f32]) -> String {
    let mut out = String::with_capacity(values.len() * 10 + 2);
    out.push('[');
    for (i, &x) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_float(&mut out, x);
    }
    out.push(']');
    out
}

/// Writes the shortest round-tripping form, switching to exponent notation where PostgreSQL's
/// float4out does (decimal exponent below -4 or at least 15) so output matches pgvector's.
fn write_float(out: &mut String, x: f32) {
    let sci = format!("{x:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if x == 0.0 || (-4..15).contains(&exponent) {
        let _ = write!(out, "{x}");
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "{mantissa}e{sign}{:02}", exponent.abs());
    }
}

/// Skips C `isspace` whitespace, as pgvector does.
fn skip_space(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        pos += 1;
    }
    pos
}

/// Returns the end of the longest prefix at `pos` that `strtof` would read as a decimal number,
/// infinity or NaN (the latter two are then rejected with their own messages).
fn scan_float(bytes: &[u8], start: usize) -> usize {
    let mut pos = start;
    if matches!(bytes.get(pos), Some(b'+' | b'-')) {
        pos += 1;
    }
    for word in ["infinity", "inf", "nan"] {
        let end = pos + word.len();
        if end <= bytes.len() && bytes[pos..end].eq_ignore_ascii_case(word.as_bytes()) {
            return end;
        }
    }
    let digits = |mut p: usize| {
        while p < bytes.len() && bytes[p].is_ascii_digit() {
            p += 1;
        }
        p
    };
    let int_end = digits(pos);
    let mut end = int_end;
    if bytes.get(end) == Some(&b'.') {
        end = digits(end + 1);
    }
    // A lone sign or dot is not a number.
    if end - pos <= usize::from(end > int_end) {
        return start;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut exp = end + 1;
        if matches!(bytes.get(exp), Some(b'+' | b'-')) {
            exp += 1;
        }
        let exp_end = digits(exp);
        if exp_end > exp {
            end = exp_end;
        }
    }
    end
}

fn is_infinity_word(token: &str) -> bool {
    let word = token.trim_start_matches(['+', '-']);
    word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_with_whitespace() {
        assert_eq!(parse_text(" [ 1 ,2.5,\t3 ] ", -1), Ok(vec![1.0, 2.5, 3.0]));
        assert_eq!(parse_text("[-1e3,+.5,2.]", -1), Ok(vec![-1000.0, 0.5, 2.0]));
    }

    #[test]
    fn rejects_bad_text() {
        for bad in [
            "", "1,2", "[1,2", "[1,,2]", "[1 2]", "[a]", "[1]x", "[.]", "[-]", "[1e]", "[,]",
        ] {
            let err = parse_text(bad, -1).unwrap_err();
            assert!(err.is_syntax(), "{bad}: {err}");
        }
        assert_eq!(parse_text("[]", -1), Err(VectorError::Empty));
        assert_eq!(parse_text("[NaN]", -1), Err(VectorError::NaN));
        assert_eq!(parse_text("[1,-Infinity]", -1), Err(VectorError::Infinite));
        assert_eq!(
            parse_text("[1e39]", -1),
            Err(VectorError::OutOfRange("1e39".into()))
        );
        assert_eq!(
            parse_text("[1,2]", 3),
            Err(VectorError::DimsMismatch {
                expected: 3,
                got: 2
            })
        );
        assert_eq!(parse_text("[1e-50]", -1), Ok(vec![0.0]));
    }

    #[test]
    fn dimension_limit() {
        let ok = format!("[{}]", vec!["1"; MAX_DIM].join(","));
        assert_eq!(parse_text(&ok, -1).map(|v| v.len()), Ok(MAX_DIM));
        let too_many = format!("[{}]", vec!["1"; MAX_DIM + 1].join(","));
        assert!(matches!(
            parse_text(&too_many, -1),
            Err(VectorError::TooManyDims(_))
        ));
    }

    #[test]
    fn formats_like_float4out() {
        assert_eq!(format_text(&[1.0, 2.5, -3.0]), "[1,2.5,-3]");
        assert_eq!(
            format_text(&[0.1, 1e-5, 1e30, 123456.7, 1.5e15, -0.0]),
            "[0.1,1e-05,1e+30,123456.7,1.5e+15,-0]"
        );
        assert_eq!(format_text(&[0.0001, 1e14]), "[0.0001,100000000000000]");
    }

    proptest! {
        #[test]
        fn text_round_trips(values in prop::collection::vec(prop::num::f32::NORMAL | prop::num::f32::SUBNORMAL | prop::num::f32::ZERO, 1..50)) {
            prop_assert_eq!(parse_text(&format_text(&values), -1), Ok(values));
        }

        #[test]
        fn never_panics(input in ".{0,40}") {
            let _ = parse_text(&input, -1);
        }
    }
}
