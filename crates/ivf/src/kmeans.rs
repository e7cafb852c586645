//! Clustering: reservoir sampling, k-means++ seeding, and Hamerly's exact accelerated Lloyd.
//!
//! Hamerly's algorithm gives the same assignments as plain Lloyd iterations but skips most
//! distance computations once centroids settle, using one upper bound (distance to the own
//! centroid) and one lower bound (to the second nearest) per point: O(n) extra memory, where
//! Elkan's needs O(n k). Threads split the points; they only compute.

use crate::assign::Assigner;
use crate::metric::{l2_bounded, Metric};
use crate::parallel::map_chunks;
use crate::rng::Rng;

/// A uniform random sample of a stream of vectors of unknown length (Algorithm R).
pub struct Reservoir {
    dims: usize,
    capacity: usize,
    seen: u64,
    data: Vec<f32>,
    rng: Rng,
}

impl Reservoir {
    /// A reservoir keeping at most `capacity` vectors of `dims` dimensions.
    pub fn new(dims: usize, capacity: usize, seed: u64) -> Self {
        Reservoir {
            dims,
            capacity,
            seen: 0,
            data: Vec::new(),
            rng: Rng::new(seed),
        }
    }

    /// Offers one vector (of `dims` elements); it is kept with probability capacity / seen.
    pub fn offer(&mut self, vector: &[f32]) {
        self.seen += 1;
        if self.len() < self.capacity {
            self.data.extend_from_slice(vector);
            return;
        }
        let slot = self.rng.below(self.seen) as usize;
        if slot < self.capacity {
            self.data[slot * self.dims..(slot + 1) * self.dims].copy_from_slice(vector);
        }
    }

    /// Vectors kept.
    pub fn len(&self) -> usize {
        self.data.len() / self.dims.max(1)
    }

    /// Whether nothing was kept.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Vectors offered.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The kept vectors, one after another.
    pub fn samples(&self) -> &[f32] {
        &self.data
    }

    /// Reorders the dimensions of every kept vector: position i takes dimension `order[i]`.
    pub fn permute(&mut self, order: &[u16]) {
        let mut row = vec![0f32; self.dims];
        for vector in self.data.chunks_exact_mut(self.dims) {
            for (slot, &d) in row.iter_mut().zip(order) {
                *slot = vector[d as usize];
            }
            vector.copy_from_slice(&row);
        }
    }
}

/// How to cluster.
#[derive(Clone, Debug)]
pub struct KMeansOptions {
    /// Number of centroids.
    pub k: usize,
    /// Upper bound on Lloyd iterations; it stops earlier once no point changes cluster.
    pub max_iterations: u32,
    /// Worker threads.
    pub threads: usize,
    /// Seed of the random choices, so that runs are reproducible.
    pub seed: u64,
    /// Keep centroids at unit length (spherical k-means, for cosine).
    pub spherical: bool,
}

/// Points per centroid k-means++ seeding looks at: seeding is O(points * k * dims) and its
/// benefit saturates long before the whole sample.
const SEEDING_POINTS_PER_CENTROID: usize = 32;

/// Beyond this many centroids, the O(k^2) centroid-separation bound costs more than it saves.
const MAX_K_FOR_SEPARATION: usize = 4096;

/// Result of clustering.
#[derive(Clone, Debug)]
pub struct Clusters {
    /// `k` centroids, one after another.
    pub centroids: Vec<f32>,
    /// Lloyd iterations run.
    pub iterations: u32,
}

/// Bytes `kmeans` needs besides the samples themselves.
pub fn memory_required(samples: usize, dims: usize, k: usize, threads: usize) -> usize {
    let bounds = samples * std::mem::size_of::<Bound>();
    let seeding = samples.min(k * SEEDING_POINTS_PER_CENTROID) * 12;
    let centroids = 2 * k * dims * 4 + 4 * k * 8;
    let sums = threads.max(1) * k * (dims * 8 + 8);
    bounds + seeding + centroids + sums
}

/// Clusters `samples` (vectors of `dims`, one after another) into `options.k` centroids.
/// `progress(iteration, max_iterations)` is called on this thread after each iteration.
pub fn kmeans(
    samples: &[f32],
    dims: usize,
    options: &KMeansOptions,
    progress: &mut dyn FnMut(u32, u32),
) -> Clusters {
    let k = options.k;
    let n = samples.len() / dims.max(1);
    let mut rng = Rng::new(options.seed);
    if n <= k {
        // Too few points to cluster: use them all, and spread the rest around them.
        return Clusters {
            centroids: pad_centroids(samples, dims, k, options.spherical, &mut rng),
            iterations: 0,
        };
    }
    let mut centroids = seed_plus_plus(samples, dims, k, options.threads, &mut rng);
    let mut lloyd = Lloyd::new(samples, dims, options.threads);
    lloyd.assign_all(&centroids);
    let mut iterations = 0;
    while iterations < options.max_iterations {
        iterations += 1;
        let (new_centroids, counts) = lloyd.means(&centroids, options.spherical, &mut rng);
        let moved: Vec<f32> = centroids
            .chunks_exact(dims)
            .zip(new_centroids.chunks_exact(dims))
            .map(|(old, new)| fashrec_distance::l2_squared(old, new).sqrt())
            .collect();
        centroids = new_centroids;
        debug_assert_eq!(counts.len(), k);
        progress(iterations, options.max_iterations);
        if iterations == options.max_iterations || moved.iter().all(|&m| m == 0.0) {
            break;
        }
        if lloyd.reassign(&centroids, &moved) == 0 {
            break;
        }
    }
    Clusters {
        centroids,
        iterations,
    }
}

/// Per-point state of Hamerly's algorithm.
#[derive(Clone, Copy, Debug)]
struct Bound {
    /// Current cluster.
    assign: u32,
    /// Upper bound on the distance to the own centroid.
    upper: f32,
    /// Lower bound on the distance to every other centroid.
    lower: f32,
}

/// The points and their bounds.
struct Lloyd<'a> {
    samples: &'a [f32],
    dims: usize,
    threads: usize,
    bounds: Vec<Bound>,
}

impl<'a> Lloyd<'a> {
    fn new(samples: &'a [f32], dims: usize, threads: usize) -> Self {
        let n = samples.len() / dims;
        Lloyd {
            samples,
            dims,
            threads,
            bounds: vec![
                Bound {
                    assign: 0,
                    upper: 0.0,
                    lower: 0.0
                };
                n
            ],
        }
    }

    /// Assigns every point from scratch.
    fn assign_all(&mut self, centroids: &[f32]) {
        let (samples, dims) = (self.samples, self.dims);
        let assigner = Assigner::new(centroids, dims, Metric::L2);
        map_chunks(self.threads, &mut self.bounds, |offset, bounds| {
            let points = &samples[offset * dims..(offset + bounds.len()) * dims];
            assigner.candidates(points, 2, |i, point, lists| {
                bounds[i] = nearest_two_of(point, &assigner, lists);
            });
        });
    }

    /// Moves the bounds by how far the centroids `moved`, then reassigns the points whose
    /// bounds no longer prove their cluster; returns how many changed cluster.
    fn reassign(&mut self, centroids: &[f32], moved: &[f32]) -> usize {
        let (samples, dims) = (self.samples, self.dims);
        let separation = half_separation(centroids, dims, self.threads);
        let (mut far, mut far_index, mut second) = (0.0f32, usize::MAX, 0.0f32);
        for (j, &m) in moved.iter().enumerate() {
            if m > far {
                (second, far, far_index) = (far, m, j);
            } else if m > second {
                second = m;
            }
        }
        let assigner = Assigner::new(centroids, dims, Metric::L2);
        let changes = map_chunks(self.threads, &mut self.bounds, |offset, bounds| {
            // Points whose bounds fail are scored against every centroid together, as one
            // matrix product (see assign.rs).
            let mut stale = Vec::new();
            for (i, bound) in bounds.iter_mut().enumerate() {
                let own = bound.assign as usize;
                bound.upper += moved[own];
                bound.lower -= if own == far_index { second } else { far };
                let limit = bound.lower.max(separation[own]);
                if bound.upper <= limit {
                    continue;
                }
                let point = &samples[(offset + i) * dims..(offset + i + 1) * dims];
                bound.upper =
                    fashrec_distance::l2_squared(point, &centroids[own * dims..(own + 1) * dims])
                        .sqrt();
                if bound.upper <= limit {
                    continue;
                }
                stale.push(i);
            }
            let mut points = Vec::with_capacity(stale.len() * dims);
            for &i in &stale {
                points.extend_from_slice(&samples[(offset + i) * dims..(offset + i + 1) * dims]);
            }
            let mut changed = 0;
            assigner.candidates(&points, 2, |s, point, lists| {
                let bound = &mut bounds[stale[s]];
                let own = bound.assign;
                *bound = nearest_two_of(point, &assigner, lists);
                changed += (bound.assign != own) as usize;
            });
            changed
        });
        changes.into_iter().sum()
    }

    /// The mean of every cluster (unit length if `spherical`), and the cluster sizes. An empty
    /// cluster takes half of the largest one, as FAISS does.
    fn means(&mut self, old: &[f32], spherical: bool, rng: &mut Rng) -> (Vec<f32>, Vec<u64>) {
        let (samples, dims) = (self.samples, self.dims);
        let k = old.len() / dims;
        let partial = map_chunks(self.threads, &mut self.bounds, |offset, bounds| {
            let mut sums = vec![0f64; k * dims];
            let mut counts = vec![0u64; k];
            for (i, bound) in bounds.iter().enumerate() {
                let j = bound.assign as usize;
                counts[j] += 1;
                let point = &samples[(offset + i) * dims..(offset + i + 1) * dims];
                for (sum, &x) in sums[j * dims..(j + 1) * dims].iter_mut().zip(point) {
                    *sum += x as f64;
                }
            }
            (sums, counts)
        });
        let mut parts = partial.into_iter();
        let (mut sums, mut counts) = parts
            .next()
            .unwrap_or_else(|| (vec![0.0; k * dims], vec![0; k]));
        for (s, c) in parts {
            sums.iter_mut().zip(s).for_each(|(a, b)| *a += b);
            counts.iter_mut().zip(c).for_each(|(a, b)| *a += b);
        }
        let mut centroids = old.to_vec();
        for j in 0..k {
            if counts[j] > 0 {
                let inverse = 1.0 / counts[j] as f64;
                for (c, s) in centroids[j * dims..(j + 1) * dims]
                    .iter_mut()
                    .zip(&sums[j * dims..])
                {
                    *c = (s * inverse) as f32;
                }
            }
        }
        split_empty(&mut centroids, &mut counts, dims, rng);
        if spherical {
            centroids.chunks_exact_mut(dims).for_each(normalize);
        }
        (centroids, counts)
    }
}

/// Nearest and second-nearest centroid of a point, as a fresh bound (ties: lower index).
#[cfg(test)]
fn nearest_two(point: &[f32], centroids: &[f32], dims: usize) -> Bound {
    nearest_two_of(
        point,
        &Assigner::new(centroids, dims, Metric::L2),
        0..centroids.len() / dims,
    )
}

/// Nearest and second-nearest of the centroids `lists` (in increasing order), which hold the
/// point's two nearest (see [`Assigner::candidates`]), as a fresh bound (ties: lower index).
fn nearest_two_of(point: &[f32], assigner: &Assigner, lists: impl Iterator<Item = usize>) -> Bound {
    let (mut best, mut best_index, mut second) = (f32::INFINITY, 0usize, f32::INFINITY);
    for j in lists {
        let centroid = assigner.centroid(j);
        // Past the current second best a distance matters no more: stop summing there.
        let d = l2_bounded(point, centroid, second);
        if d < best {
            (second, best, best_index) = (best, d, j);
        } else if d < second {
            second = d;
        }
    }
    Bound {
        assign: best_index as u32,
        upper: best.sqrt(),
        lower: second.sqrt(),
    }
}

/// Half the distance from each centroid to its nearest other centroid: a point closer than
/// that to its own centroid cannot be nearer to another. Zeros (no pruning) for huge k.
fn half_separation(centroids: &[f32], dims: usize, threads: usize) -> Vec<f32> {
    let k = centroids.len() / dims;
    let mut half = vec![0f32; k];
    if !(2..=MAX_K_FOR_SEPARATION).contains(&k) {
        return half;
    }
    map_chunks(threads, &mut half, |offset, part| {
        for (i, h) in part.iter_mut().enumerate() {
            let j = offset + i;
            let own = &centroids[j * dims..(j + 1) * dims];
            let nearest = centroids
                .chunks_exact(dims)
                .enumerate()
                .filter(|&(other, _)| other != j)
                .map(|(_, c)| fashrec_distance::l2_squared(own, c))
                .fold(f32::INFINITY, f32::min);
            *h = 0.5 * nearest.sqrt();
        }
    });
    half
}

/// Gives every empty cluster half of the largest one: both centroids move apart slightly.
fn split_empty(centroids: &mut [f32], counts: &mut [u64], dims: usize, rng: &mut Rng) {
    const NUDGE: f32 = 1.0 / 1024.0;
    for empty in 0..counts.len() {
        if counts[empty] > 0 {
            continue;
        }
        let Some(big) = (0..counts.len()).max_by_key(|&j| (counts[j], std::cmp::Reverse(j))) else {
            return;
        };
        if counts[big] < 2 {
            return;
        }
        let scale = centroids[big * dims..(big + 1) * dims]
            .iter()
            .map(|x| x.abs())
            .sum::<f32>()
            / dims as f32;
        for d in 0..dims {
            let sign = if rng.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
            let delta = sign * NUDGE * (centroids[big * dims + d].abs() + scale + f32::EPSILON);
            centroids[empty * dims + d] = centroids[big * dims + d] + delta;
            centroids[big * dims + d] -= delta;
        }
        counts[empty] = counts[big] / 2;
        counts[big] -= counts[empty];
    }
}

/// k-means++: each next centroid is a point drawn with probability proportional to its squared
/// distance to the nearest centroid so far. Runs on a random subset of the points.
fn seed_plus_plus(
    samples: &[f32],
    dims: usize,
    k: usize,
    threads: usize,
    rng: &mut Rng,
) -> Vec<f32> {
    let n = samples.len() / dims;
    let m = n.min(k * SEEDING_POINTS_PER_CENTROID);
    // A partial Fisher-Yates shuffle picks the subset.
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in 0..m {
        let j = i + rng.below((n - i) as u64) as usize;
        order.swap(i, j);
    }
    order.truncate(m);
    let point = |i: usize| &samples[order[i] as usize * dims..(order[i] as usize + 1) * dims];

    let mut centroids = Vec::with_capacity(k * dims);
    let mut nearest = vec![(f32::INFINITY, 0u32); m];
    let mut chosen = rng.below(m as u64) as usize;
    for _ in 0..k {
        let centroid = point(chosen).to_vec();
        map_chunks(threads, &mut nearest, |offset, part| {
            for (i, d) in part.iter_mut().enumerate() {
                d.0 = d.0.min(l2_bounded(point(offset + i), &centroid, d.0));
            }
        });
        centroids.extend_from_slice(&centroid);
        let total: f64 = nearest.iter().map(|d| d.0 as f64).sum();
        chosen = if total > 0.0 {
            let mut target = rng.unit() * total;
            nearest
                .iter()
                .position(|d| {
                    target -= d.0 as f64;
                    target < 0.0 && d.0 > 0.0
                })
                .unwrap_or_else(|| nearest.iter().rposition(|d| d.0 > 0.0).unwrap_or(0))
        } else {
            // Every point coincides with a centroid: duplicates are all that is left.
            rng.below(m as u64) as usize
        };
    }
    centroids
}

/// Centroids when there are no more points than lists: every point, then points nudged by
/// noise on the scale of the data (or unit gaussians when there are no points at all).
fn pad_centroids(
    samples: &[f32],
    dims: usize,
    k: usize,
    spherical: bool,
    rng: &mut Rng,
) -> Vec<f32> {
    let n = samples.len() / dims.max(1);
    let mut centroids = samples[..n.min(k) * dims].to_vec();
    let spread = if n == 0 {
        1.0
    } else {
        let mean_abs = samples.iter().map(|x| x.abs() as f64).sum::<f64>() / samples.len() as f64;
        if mean_abs > 0.0 {
            0.1 * mean_abs
        } else {
            1.0
        }
    };
    while centroids.len() < k * dims {
        let base = if n == 0 {
            None
        } else {
            Some(rng.below(n as u64) as usize)
        };
        for d in 0..dims {
            let center = base.map_or(0.0, |b| samples[b * dims + d] as f64);
            centroids.push((center + spread * rng.normal()) as f32);
        }
    }
    if spherical {
        centroids.chunks_exact_mut(dims).for_each(normalize);
    }
    centroids
}

/// Scales a vector to unit length (left alone if zero).
fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x = (*x as f64 / norm) as f32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(k: usize, threads: usize) -> KMeansOptions {
        KMeansOptions {
            k,
            max_iterations: 50,
            threads,
            seed: 3,
            spherical: false,
        }
    }

    /// `clusters` tight blobs of `per` points around far-apart centres.
    fn blobs(clusters: usize, per: usize, dims: usize, rng: &mut Rng) -> Vec<f32> {
        let mut data = Vec::new();
        for c in 0..clusters {
            for _ in 0..per {
                for d in 0..dims {
                    let centre = if d == c % dims {
                        100.0 * (1 + c / dims) as f64
                    } else {
                        0.0
                    };
                    data.push((centre + rng.normal()) as f32);
                }
            }
        }
        data
    }

    /// Plain Lloyd iterations from the same seeds, for comparison.
    fn plain_lloyd(
        samples: &[f32],
        dims: usize,
        mut centroids: Vec<f32>,
        iterations: u32,
    ) -> Vec<u32> {
        let n = samples.len() / dims;
        let k = centroids.len() / dims;
        let mut assign = vec![0u32; n];
        for it in 0..=iterations {
            for i in 0..n {
                assign[i] =
                    nearest_two(&samples[i * dims..(i + 1) * dims], &centroids, dims).assign;
            }
            if it == iterations {
                break;
            }
            let mut sums = vec![0f64; k * dims];
            let mut counts = vec![0u64; k];
            for i in 0..n {
                let j = assign[i] as usize;
                counts[j] += 1;
                for d in 0..dims {
                    sums[j * dims + d] += samples[i * dims + d] as f64;
                }
            }
            for j in 0..k {
                if counts[j] > 0 {
                    for d in 0..dims {
                        centroids[j * dims + d] = (sums[j * dims + d] / counts[j] as f64) as f32;
                    }
                }
            }
        }
        assign
    }

    #[test]
    fn reservoir_keeps_a_uniform_sample() {
        let mut reservoir = Reservoir::new(1, 100, 9);
        for i in 0..10_000 {
            reservoir.offer(&[i as f32]);
        }
        assert_eq!(reservoir.len(), 100);
        assert_eq!(reservoir.seen(), 10_000);
        let mean = reservoir.samples().iter().sum::<f32>() / 100.0;
        assert!((3000.0..7000.0).contains(&mean), "mean {mean}");
        let mut small = Reservoir::new(2, 10, 1);
        small.offer(&[1.0, 2.0]);
        assert_eq!(small.samples(), &[1.0, 2.0]);
    }

    #[test]
    fn finds_well_separated_blobs() {
        let mut rng = Rng::new(1);
        let dims = 8;
        let data = blobs(6, 200, dims, &mut rng);
        for threads in [1, 2] {
            let result = kmeans(&data, dims, &options(6, threads), &mut |_, _| {});
            // Every blob's points land on one centroid, and each centroid on one blob.
            let mut owner = [None; 6];
            for blob in 0..6 {
                for i in 0..200 {
                    let p = &data[(blob * 200 + i) * dims..(blob * 200 + i + 1) * dims];
                    let c = nearest_two(p, &result.centroids, dims).assign as usize;
                    assert!(owner[c].is_none() || owner[c] == Some(blob));
                    owner[c] = Some(blob);
                }
            }
            assert!(result.iterations >= 1);
        }
    }

    #[test]
    fn hamerly_matches_plain_lloyd() {
        let mut rng = Rng::new(5);
        let dims = 4;
        // Overlapping blobs, so points really move between clusters.
        let data: Vec<f32> = (0..3000).map(|_| rng.normal() as f32).collect();
        let k = 12;
        let seeds = seed_plus_plus(&data, dims, k, 1, &mut Rng::new(8));
        for iterations in [1, 3, 10] {
            let expected = plain_lloyd(&data, dims, seeds.clone(), iterations);
            let mut lloyd = Lloyd::new(&data, dims, 2);
            let mut centroids = seeds.clone();
            lloyd.assign_all(&centroids);
            for _ in 0..iterations {
                let (new, _) = lloyd.means(&centroids, false, &mut Rng::new(0));
                let moved: Vec<f32> = centroids
                    .chunks_exact(dims)
                    .zip(new.chunks_exact(dims))
                    .map(|(a, b)| fashrec_distance::l2_squared(a, b).sqrt())
                    .collect();
                centroids = new;
                lloyd.reassign(&centroids, &moved);
            }
            let got: Vec<u32> = lloyd.bounds.iter().map(|b| b.assign).collect();
            let differ = got.iter().zip(&expected).filter(|(a, b)| a != b).count();
            // Rounding in the bounds may flip a point sitting exactly between two centroids.
            assert!(differ <= 3, "{differ} of {} assignments differ", got.len());
        }
    }

    #[test]
    fn few_points_still_give_k_distinct_centroids() {
        for n in [0usize, 1, 3, 5] {
            let data: Vec<f32> = (0..n * 3).map(|i| i as f32).collect();
            let result = kmeans(&data, 3, &options(5, 1), &mut |_, _| {});
            assert_eq!(result.centroids.len(), 15);
            assert!(result.centroids.iter().all(|x| x.is_finite()));
            for i in 0..n.min(5) {
                assert_eq!(&result.centroids[i * 3..i * 3 + 3], &data[i * 3..i * 3 + 3]);
            }
        }
    }

    #[test]
    fn duplicates_and_empty_clusters_are_survivable() {
        // 100 copies of two points, 8 clusters: most seeds coincide and clusters go empty.
        let mut data = Vec::new();
        for i in 0..100 {
            data.extend_from_slice(if i % 2 == 0 {
                &[1.0, 1.0]
            } else {
                &[-1.0, 5.0]
            });
        }
        let result = kmeans(&data, 2, &options(8, 2), &mut |_, _| {});
        assert_eq!(result.centroids.len(), 16);
        assert!(result.centroids.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn spherical_centroids_are_unit_length() {
        let mut rng = Rng::new(2);
        let mut data: Vec<f32> = (0..2000).map(|_| rng.normal() as f32).collect();
        data.chunks_exact_mut(4).for_each(normalize);
        let mut opts = options(7, 2);
        opts.spherical = true;
        let mut calls = 0;
        let result = kmeans(&data, 4, &opts, &mut |_, _| calls += 1);
        assert!(calls >= 1);
        for c in result.centroids.chunks_exact(4) {
            let norm: f32 = c.iter().map(|x| x * x).sum();
            assert!((norm - 1.0).abs() < 1e-4);
        }
    }
}
