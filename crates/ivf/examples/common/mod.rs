//! Shared by the benchmark programs: data loading, exact ground truth, timing, arguments.

#![allow(dead_code)]

use std::collections::{BinaryHeap, HashMap};
use std::path::Path;
use std::time::Instant;

use fashrec_ivf::{Metric, Neighbor, Tid};

/// Where Debian's dataset-fashion-mnist package puts the data.
pub const FMNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Vectors of one dimension, one after another.
pub struct Vectors {
    pub dims: usize,
    pub data: Vec<f32>,
}

impl Vectors {
    pub fn len(&self) -> usize {
        self.data.len() / self.dims
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dims..(i + 1) * self.dims]
    }
}

/// SplitMix64 and Box-Muller: reproducible gaussians without a dependency.
pub struct Gauss(pub u64);

impl Gauss {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
    }
}

/// Fashion-MNIST images of one idx file (`train` or `t10k`) as f32 pixel values 0..=255,
/// unscaled: the same numbers FAISS gets.
pub fn fmnist_images(split: &str) -> Vectors {
    let path = format!("{FMNIST_DIR}/{split}-images-idx3-ubyte.gz");
    let images =
        fashrec_catalog::idx::read_images(Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    Vectors {
        dims: images.rows * images.cols,
        data: images.pixels.iter().map(|&b| f32::from(b)).collect(),
    }
}

/// Fashion-MNIST labels of one idx file (`train` or `t10k`).
pub fn fmnist_labels(split: &str) -> Vec<u8> {
    let path = format!("{FMNIST_DIR}/{split}-labels-idx1-ubyte.gz");
    fashrec_catalog::idx::read_labels(Path::new(&path)).unwrap_or_else(|e| panic!("{e}"))
}

/// A deterministic pseudo-random value in 0..100 for a row: a synthetic attribute that is
/// independent of the vector.
pub fn attribute(row: usize) -> u32 {
    let mut z = (row as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) % 100) as u32
}

/// Builds an index of every row of `base` (row i as `tid(i)`) into the empty `rel`.
pub fn build_rows(
    rel: &fashrec_ivf::MemoryRelation,
    base: &Vectors,
    options: fashrec_ivf::BuildOptions,
) -> fashrec_ivf::BuildReport {
    let rows = || (0..base.len()).map(|i| (tid(i), base.row(i)));
    fashrec_ivf::build(rel, base.dims, options, rows, &mut |_| {}).expect("build")
}

/// `vectors` times a fixed N(0, 1) matrix of `dims` rows, each result scaled to unit length.
pub fn project(vectors: &Vectors, matrix: &[f32], dims: usize) -> Vectors {
    let mut data = Vec::with_capacity(vectors.len() * dims);
    for i in 0..vectors.len() {
        let row = vectors.row(i);
        let start = data.len();
        data.extend(
            matrix
                .chunks_exact(vectors.dims)
                .map(|m| fashrec_distance::dot(m, row)),
        );
        let norm = fashrec_distance::norm_squared(&data[start..]).sqrt();
        data[start..]
            .iter_mut()
            .for_each(|x| *x /= norm.max(f32::MIN_POSITIVE));
    }
    Vectors { dims, data }
}

/// The row numbers of the first `k` rows a streaming scan returns (fewer if it runs out).
pub fn first_rows<R: fashrec_ivf::Relation>(
    scan: &mut fashrec_ivf::Scan,
    rel: &R,
    k: usize,
) -> Vec<usize> {
    let mut got = Vec::with_capacity(k);
    while got.len() < k {
        match scan.next(rel).expect("scan") {
            Some(n) => got.push(row_of(n.tid)),
            None => break,
        }
    }
    got
}

/// Row number to tid and back: 256 rows per heap block, like a real table would spread them.
pub fn tid(row: usize) -> Tid {
    Tid::new((row / 256) as u32, (row % 256 + 1) as u16)
}

pub fn row_of(tid: Tid) -> usize {
    tid.block as usize * 256 + tid.offset as usize - 1
}

/// Top-k by brute force, one query at a time over every row: the "exact scan" a database
/// without an index does (a score per row, a bounded heap).
pub fn exact_scan(
    base: &Vectors,
    metric: Metric,
    query: &[f32],
    k: usize,
    keep: impl Fn(usize) -> bool,
) -> Vec<Neighbor> {
    let mut heap = BinaryHeap::with_capacity(k + 1);
    for i in 0..base.len() {
        if !keep(i) {
            continue;
        }
        let n = Neighbor {
            tid: tid(i),
            score: metric.score(query, base.row(i)),
        };
        keep_best(&mut heap, n, k);
    }
    heap.into_sorted_vec()
}

/// Adds `n` to a max-heap of the `k` best neighbours seen so far.
fn keep_best(heap: &mut BinaryHeap<Neighbor>, n: Neighbor, k: usize) {
    if heap.len() < k {
        heap.push(n);
    } else if let Some(mut worst) = heap.peek_mut() {
        if n < *worst {
            *worst = n;
        }
    }
}

/// Exact top-k row numbers for every query, computed on `threads` threads in cache-sized
/// tiles (many queries against one block of base rows) so that it takes seconds, not minutes.
pub fn ground_truth(
    base: &Vectors,
    queries: &Vectors,
    k: usize,
    threads: usize,
    keep: &(dyn Fn(usize) -> bool + Sync),
) -> Vec<Vec<usize>> {
    let dims = base.dims;
    let tile_queries = 32;
    let tile_rows = ((512 << 10) / (dims * 4)).max(16);
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); queries.len()];
    let per_thread = queries.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        for (t, part) in out.chunks_mut(per_thread).enumerate() {
            scope.spawn(move || {
                let first = t * per_thread;
                for (tile, slots) in part.chunks_mut(tile_queries).enumerate() {
                    let q0 = first + tile * tile_queries;
                    let mut heaps: Vec<BinaryHeap<Neighbor>> =
                        (0..slots.len()).map(|_| Default::default()).collect();
                    for r0 in (0..base.len()).step_by(tile_rows) {
                        let r1 = (r0 + tile_rows).min(base.len());
                        for (j, heap) in heaps.iter_mut().enumerate() {
                            let q = queries.row(q0 + j);
                            for r in r0..r1 {
                                if !keep(r) {
                                    continue;
                                }
                                let n = Neighbor {
                                    tid: tid(r),
                                    score: fashrec_distance::l2_squared(q, base.row(r)),
                                };
                                keep_best(heap, n, k);
                            }
                        }
                    }
                    for (slot, heap) in slots.iter_mut().zip(heaps) {
                        *slot = heap
                            .into_sorted_vec()
                            .iter()
                            .map(|n| row_of(n.tid))
                            .collect();
                    }
                }
            });
        }
    });
    out
}

/// Unfiltered exact top-k for every query on all threads, saying how long it took.
pub fn timed_ground_truth(base: &Vectors, queries: &Vectors, k: usize) -> Vec<Vec<usize>> {
    let start = Instant::now();
    let truth = ground_truth(base, queries, k, fashrec_ivf::default_threads(), &|_| true);
    println!(
        "ground truth (tiled brute force, all threads): {:.1} s",
        seconds(start)
    );
    truth
}

/// Mean recall@k of `Searcher::search` at `probes` over every query of `truth`, with the
/// section's (wall, on-CPU) seconds.
pub fn search_recall<R: fashrec_ivf::Relation>(
    searcher: &fashrec_ivf::Searcher,
    rel: &R,
    queries: &Vectors,
    truth: &[Vec<usize>],
    k: usize,
    probes: u32,
) -> (f64, f64, f64) {
    let timer = Timer::start();
    let mut total = 0.0;
    for (qi, expected) in truth.iter().enumerate() {
        let got: Vec<usize> = searcher
            .search(rel, queries.row(qi), k, probes)
            .expect("search")
            .iter()
            .map(|n| row_of(n.tid))
            .collect();
        total += recall_at(&got, expected, k);
    }
    let (wall, cpu) = timer.stop();
    (total / truth.len() as f64, wall, cpu)
}

/// |got ∩ truth| / |truth| over the first k of each.
pub fn recall_at(got: &[usize], truth: &[usize], k: usize) -> f64 {
    let truth = &truth[..truth.len().min(k)];
    if truth.is_empty() {
        return 1.0;
    }
    got.iter().take(k).filter(|r| truth.contains(r)).count() as f64 / truth.len() as f64
}

/// Seconds this thread has spent on a CPU (Linux schedstat), so that timings are not
/// inflated by time slices other processes took on this shared machine.
pub fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|ns| ns.parse::<u64>().ok())
        })
        .map_or(f64::NAN, |ns| ns as f64 * 1e-9)
}

/// Seconds all threads of this process have spent on a CPU (user + system, from
/// /proc/self/stat in USER_HZ = 100 ticks per second), to time multi-threaded builds.
pub fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Wall and on-CPU seconds of one measured section.
pub struct Timer {
    wall: Instant,
    cpu: f64,
}

impl Timer {
    pub fn start() -> Timer {
        Timer {
            wall: Instant::now(),
            cpu: thread_cpu_seconds(),
        }
    }

    /// (wall seconds, on-CPU seconds) since start.
    pub fn stop(&self) -> (f64, f64) {
        (seconds(self.wall), thread_cpu_seconds() - self.cpu)
    }
}

/// Seconds since `start`.
pub fn seconds(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// `--name value` arguments.
pub struct Args(HashMap<String, String>);

impl Args {
    pub fn parse() -> Args {
        let mut map = HashMap::new();
        let mut args = std::env::args().skip(1);
        while let Some(name) = args.next() {
            let Some(name) = name.strip_prefix("--") else {
                panic!("unexpected argument {name}; arguments are --name value");
            };
            let value = args
                .next()
                .unwrap_or_else(|| panic!("--{name} needs a value"));
            map.insert(name.to_string(), value);
        }
        Args(map)
    }

    pub fn get<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        match self.0.get(name) {
            Some(v) => v
                .parse()
                .unwrap_or_else(|_| panic!("--{name}: cannot parse {v}")),
            None => default,
        }
    }

    pub fn list(&self, name: &str, default: &str) -> Vec<u32> {
        self.0
            .get(name)
            .map(String::as_str)
            .unwrap_or(default)
            .split(',')
            .map(|p| {
                p.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("--{name}: cannot parse {p}"))
            })
            .collect()
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// Writes ground truth as little-endian i32 rows of k, the format faiss_ivfflat.py reads.
pub fn write_ground_truth(path: &str, truth: &[Vec<usize>], k: usize) {
    let mut bytes = Vec::with_capacity(truth.len() * k * 4);
    for row in truth {
        for j in 0..k {
            bytes.extend_from_slice(&(row.get(j).map_or(-1, |&r| r as i32)).to_le_bytes());
        }
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
}

/// Reads ground truth written by `write_ground_truth`, if the file exists and has `queries`
/// rows of `k`.
pub fn read_ground_truth(path: &str, queries: usize, k: usize) -> Option<Vec<Vec<usize>>> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() != queries * k * 4 {
        return None;
    }
    let ids: Vec<i32> = bytes
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Some(
        ids.chunks_exact(k)
            .map(|row| {
                row.iter()
                    .filter(|&&r| r >= 0)
                    .map(|&r| r as usize)
                    .collect()
            })
            .collect(),
    )
}
