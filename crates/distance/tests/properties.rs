//! Every kernel this CPU runs, and the dispatched API, against an f64 reference.

mod common;

use common::{kernels_under_test, Numbers};
use fashrec_distance::{cosine_distance, cosine_from_sums};
use proptest::collection::vec;
use proptest::prelude::*;

/// A sum computed in f64, with the sum of absolute terms that bounds its f32 rounding error.
#[derive(Clone, Copy, Debug)]
struct Reference {
    value: f64,
    magnitude: f64,
}

/// Sums the terms in f64, which is exact enough to judge f32 sums of up to 2000 terms.
fn reference(terms: impl Iterator<Item = f64>) -> Reference {
    terms.fold(
        Reference {
            value: 0.0,
            magnitude: 0.0,
        },
        |r, t| Reference {
            value: r.value + t,
            magnitude: r.magnitude + t.abs(),
        },
    )
}

/// Squared Euclidean distance in f64.
fn reference_l2_squared(a: &[f32], b: &[f32]) -> Reference {
    reference(
        a.iter()
            .zip(b)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)),
    )
}

/// Inner product in f64.
fn reference_dot(a: &[f32], b: &[f32]) -> Reference {
    reference(a.iter().zip(b).map(|(&x, &y)| f64::from(x) * f64::from(y)))
}

/// pgvector's cosine distance, with every sum in f64.
fn reference_cosine(a: &[f32], b: &[f32]) -> f64 {
    let similarity =
        reference_dot(a, b).value / (reference_dot(a, a).value * reference_dot(b, b).value).sqrt();
    1.0 - similarity.clamp(-1.0, 1.0)
}

/// Worst-case relative error of summing `n` f32 products in any order (Higham's gamma_n, with
/// room for the rounding of `a - b` in L2): (n + 2) * 2^-23, relative to the sum of |terms|.
fn relative_tolerance(n: usize) -> f64 {
    (n as f64 + 2.0) * f64::from(f32::EPSILON)
}

/// Asserts an f32 sum is within the rounding bound of its reference.
fn assert_close(what: &str, kernel: &str, n: usize, got: f32, want: Reference) {
    let bound = relative_tolerance(n) * want.magnitude + f64::from(f32::MIN_POSITIVE);
    let error = (f64::from(got) - want.value).abs();
    assert!(
        error <= bound,
        "{kernel} {what} n={n}: got {got}, want {}, error {error:e} > bound {bound:e}",
        want.value
    );
}

/// Checks all four sums and the cosine distance of every kernel on one pair of vectors.
fn check_pair(a: &[f32], b: &[f32]) {
    let n = a.len();
    let (want_l2, want_dot) = (reference_l2_squared(a, b), reference_dot(a, b));
    let (want_norm_a, want_norm_b) = (reference_dot(a, a), reference_dot(b, b));
    for k in kernels_under_test() {
        assert_close("l2_squared", k.name, n, (k.l2_squared)(a, b), want_l2);
        assert_close("dot", k.name, n, (k.dot)(a, b), want_dot);
        assert_close("norm_squared", k.name, n, (k.norm_squared)(a), want_norm_a);
        let (dot, norm_a, norm_b) = (k.dot_and_norms)(a, b);
        assert_close("dot_and_norms.0", k.name, n, dot, want_dot);
        assert_close("dot_and_norms.1", k.name, n, norm_a, want_norm_a);
        assert_close("dot_and_norms.2", k.name, n, norm_b, want_norm_b);
        check_cosine(k.name, a, b, cosine_from_sums(dot, norm_a, norm_b));
    }
    check_cosine("cosine_distance", a, b, cosine_distance(a, b));
}

/// Cosine is within twice the sum bound (one for the dot, one for the norms), or NaN for a zero vector.
fn check_cosine(kernel: &str, a: &[f32], b: &[f32], got: f64) {
    let want = reference_cosine(a, b);
    if want.is_nan() {
        assert!(got.is_nan(), "{kernel} cosine: got {got}, want NaN");
        return;
    }
    let bound = 3.0 * relative_tolerance(a.len()) + 1e-12;
    assert!(
        (got - want).abs() <= bound,
        "{kernel} cosine n={}: got {got}, want {want}",
        a.len()
    );
    assert!(
        (0.0..=2.0).contains(&got),
        "{kernel} cosine {got} outside [0, 2]"
    );
}

/// Small integers make every partial sum an exact f32, so every kernel must be exact: this
/// catches a lane read twice or skipped, which a tolerance could hide.
fn check_exact(a: &[f32], b: &[f32]) {
    let int = |x: &f32| *x as i64;
    let l2: i64 = a.iter().zip(b).map(|(x, y)| (int(x) - int(y)).pow(2)).sum();
    let dot: i64 = a.iter().zip(b).map(|(x, y)| int(x) * int(y)).sum();
    let norm_a: i64 = a.iter().map(|x| int(x).pow(2)).sum();
    let norm_b: i64 = b.iter().map(|y| int(y).pow(2)).sum();
    for k in kernels_under_test() {
        let n = a.len();
        assert_eq!(
            (k.l2_squared)(a, b),
            l2 as f32,
            "{} l2_squared n={n}",
            k.name
        );
        assert_eq!((k.dot)(a, b), dot as f32, "{} dot n={n}", k.name);
        assert_eq!(
            (k.norm_squared)(a),
            norm_a as f32,
            "{} norm_squared n={n}",
            k.name
        );
        let want = (dot as f32, norm_a as f32, norm_b as f32);
        assert_eq!(
            (k.dot_and_norms)(a, b),
            want,
            "{} dot_and_norms n={n}",
            k.name
        );
    }
}

/// Lengths around every lane count and unroll block (8, 16, 32, 64) are where tails go wrong.
#[test]
fn every_short_length_and_block_boundary() {
    let boundaries = [63, 64, 65, 95, 96, 97, 127, 128, 129];
    let mut numbers = Numbers::new(7);
    for n in (0..=33).chain(boundaries) {
        // Each offset gives a differently aligned start.
        for skip in 0..8 {
            let (a, b) = (numbers.vector(skip + n), numbers.vector(n + 1));
            let (a, b) = (&a[skip..], &b[1..]);
            check_pair(a, b);
            let small_integers =
                |v: &[f32]| v.iter().map(|x| (x * 8.0).trunc()).collect::<Vec<_>>();
            check_exact(&small_integers(a), &small_integers(b));
        }
    }
}

/// Two buffers and where each vector starts in its buffer: the vectors have one length, and
/// the offsets give the kernels unaligned starts too.
type Unaligned<T> = (Vec<T>, usize, Vec<T>, usize);

fn unaligned_pair<T: std::fmt::Debug + Clone>(
    element: impl Strategy<Value = T> + Clone,
) -> impl Strategy<Value = Unaligned<T>> {
    (0usize..2000, 0usize..16, 0usize..16).prop_flat_map(move |(n, skip_a, skip_b)| {
        (
            vec(element.clone(), skip_a + n),
            Just(skip_a),
            vec(element.clone(), skip_b + n),
            Just(skip_b),
        )
    })
}

proptest! {
    #[test]
    fn kernels_match_reference((a, skip_a, b, skip_b) in unaligned_pair(-100.0f32..100.0)) {
        check_pair(&a[skip_a..], &b[skip_b..]);
    }

    #[test]
    fn kernels_exact_on_small_integers((a, skip_a, b, skip_b) in unaligned_pair((-8i32..=8).prop_map(|x| x as f32))) {
        check_exact(&a[skip_a..], &b[skip_b..]);
    }
}
