//! Exact answers for inputs where there is no rounding to hide behind.

mod common;

use common::{kernels_under_test, Numbers};
use fashrec_distance::{
    active_kernel, available_kernels, cosine_distance, cosine_from_sums, l2_squared,
};

#[test]
fn integer_example_is_exact() {
    let distance = l2_squared(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]);
    assert_eq!(distance, 8.0);
    assert_eq!(f64::from(distance).sqrt(), 2.828_427_124_746_190_3);
}

#[test]
fn empty_slices_give_zero_sums_and_nan_cosine() {
    for k in kernels_under_test() {
        assert_eq!((k.l2_squared)(&[], &[]), 0.0, "{}", k.name);
        assert_eq!((k.dot)(&[], &[]), 0.0, "{}", k.name);
        assert_eq!((k.norm_squared)(&[]), 0.0, "{}", k.name);
        assert_eq!((k.dot_and_norms)(&[], &[]), (0.0, 0.0, 0.0), "{}", k.name);
    }
    assert!(cosine_distance(&[], &[]).is_nan());
}

#[test]
fn zero_vector_has_nan_cosine() {
    let mut numbers = Numbers::new(1);
    for n in [1, 7, 16, 33, 384] {
        let zero = vec![0.0f32; n];
        let other = numbers.vector(n);
        assert!(cosine_distance(&zero, &other).is_nan(), "n={n}");
        assert!(cosine_distance(&other, &zero).is_nan(), "n={n}");
        assert!(cosine_distance(&zero, &zero).is_nan(), "n={n}");
        for k in kernels_under_test() {
            let (dot, norm_a, norm_b) = (k.dot_and_norms)(&zero, &other);
            assert!(
                cosine_from_sums(dot, norm_a, norm_b).is_nan(),
                "{} n={n}",
                k.name
            );
        }
    }
}

#[test]
fn identical_vectors_have_cosine_zero_and_opposite_two() {
    let mut numbers = Numbers::new(2);
    for n in (1..=40).chain([384, 784, 1999]) {
        let a = numbers.vector(n);
        if a.iter().all(|&x| x == 0.0) {
            continue;
        }
        let minus_a: Vec<f32> = a.iter().map(|x| -x).collect();
        // dot and norm are summed in the same order, so these are exact, not approximate.
        assert_eq!(cosine_distance(&a, &a), 0.0, "n={n}");
        assert_eq!(cosine_distance(&a, &minus_a), 2.0, "n={n}");
        for k in kernels_under_test() {
            let (dot, norm_a, norm_b) = (k.dot_and_norms)(&a, &a);
            assert_eq!(
                cosine_from_sums(dot, norm_a, norm_b),
                0.0,
                "{} n={n}",
                k.name
            );
            let (dot, norm_a, norm_b) = (k.dot_and_norms)(&a, &minus_a);
            assert_eq!(
                cosine_from_sums(dot, norm_a, norm_b),
                2.0,
                "{} n={n}",
                k.name
            );
            assert_eq!((k.l2_squared)(&a, &a), 0.0, "{} n={n}", k.name);
        }
    }
}

#[test]
fn scaling_a_vector_keeps_its_cosine_distance() {
    let a = [3.0f32, 4.0];
    assert_eq!(cosine_distance(&a, &[6.0, 8.0]), 0.0);
    assert_eq!(cosine_distance(&a, &[-4.0, 3.0]), 1.0);
}

#[test]
fn the_best_detected_kernel_is_active() {
    #[cfg(target_arch = "x86_64")]
    let expected = if is_x86_feature_detected!("avx512f") {
        "avx512"
    } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        "avx2+fma"
    } else {
        "scalar"
    };
    #[cfg(not(target_arch = "x86_64"))]
    let expected = "scalar";
    assert_eq!(active_kernel(), expected);
    let names: Vec<_> = available_kernels().iter().map(|k| k.name).collect();
    assert_eq!(names.first(), Some(&"scalar"));
    assert_eq!(names.last(), Some(&expected));
}

/// Release builds compare mismatched lengths over the shorter one instead of panicking.
#[cfg(not(debug_assertions))]
#[test]
fn mismatched_lengths_use_the_shorter_in_release() {
    let long: Vec<f32> = (0..100).map(|i| i as f32).collect();
    let short = &long[..37];
    for k in kernels_under_test() {
        assert_eq!((k.l2_squared)(&long, short), 0.0, "{}", k.name);
        assert_eq!((k.dot)(short, &long), (k.norm_squared)(short), "{}", k.name);
        let (dot, norm_a, norm_b) = (k.dot_and_norms)(&long, short);
        assert_eq!((dot, norm_a), (norm_b, norm_b), "{}", k.name);
    }
}

/// Debug builds catch a caller passing mismatched lengths.
#[cfg(debug_assertions)]
#[test]
#[should_panic]
fn mismatched_lengths_panic_in_debug() {
    l2_squared(&[1.0, 2.0], &[1.0]);
}
