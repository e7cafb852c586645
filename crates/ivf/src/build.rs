//! Building an index: sample the rows, cluster the sample, then load every row into the list
//! of its nearest centroid.
//!
//! The extension drives it with two heap scans:
//!
//! ```text
//! let mut builder = Builder::new(dims, options)?;     // checks options and the memory budget
//! for row in heap { builder.sample(&vector)?; }       // pass 1: reservoir sample
//! let mut loader = builder.train(&rel, progress)?;    // k-means; meta, centroid, first list pages
//! for row in heap { loader.add(tid, &vector)?; }      // pass 2: assign in batches, fill pages
//! let report = loader.finish(progress)?;              // flush, insert hints, row count
//! ```
//!
//! Memory stays within `memory_budget`: the sample is shrunk to fit (down to
//! `min_samples_per_list` per list, below which the build refuses with
//! [`Error::MemoryBudget`]), and loading needs only one page buffer per list plus one batch.
//! Pages are written as they fill, each list's chain growing one linked page at a time.

use crate::centroids::nearest_in;
use crate::error::{Error, Result};
use crate::kmeans::{self, KMeansOptions, Reservoir};
use crate::meta::Meta;
use crate::metric::Metric;
use crate::page::{Page, PageKind, PAGE_SIZE};
use crate::parallel::{default_threads, map_chunks};
use crate::storage::{BlockNumber, Relation, WriteSet};
use crate::{encode_tid, Tid, FLAG_ZERO_NORM};

/// With fewer sampled rows per list than this, recall is poor until the index is rebuilt.
pub const LOW_DATA_ROWS_PER_LIST: u64 = 10;

/// Rows assigned per parallel batch are sized to about this many bytes.
const BATCH_BYTES: usize = 4 << 20;

/// How to build.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// Number of lists (k-means centroids).
    pub lists: u32,
    /// Distance the index orders by.
    pub metric: Metric,
    /// Rows per list to train k-means on, when there are that many and memory allows.
    pub samples_per_list: u32,
    /// Fewest rows per list the sample may shrink to under the memory budget.
    pub min_samples_per_list: u32,
    /// Most Lloyd iterations.
    pub max_iterations: u32,
    /// Worker threads for k-means and assignment.
    pub threads: usize,
    /// Seed of every random choice, so that builds are reproducible.
    pub seed: u64,
    /// Bytes the build may use (the extension passes maintenance_work_mem).
    pub memory_budget: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            lists: 100,
            metric: Metric::L2,
            samples_per_list: 256,
            min_samples_per_list: 32,
            max_iterations: 25,
            threads: default_threads(),
            seed: 0x5EED,
            memory_budget: usize::MAX,
        }
    }
}

/// What the build is doing, reported on the calling thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildProgress {
    /// Finished a k-means iteration.
    KMeans { iteration: u32, max: u32 },
    /// Loaded this many rows so far.
    Loading { rows: u64 },
}

/// What a finished build did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildReport {
    /// Rows loaded.
    pub rows: u64,
    /// Rows k-means was trained on.
    pub samples: u64,
    /// Lists created.
    pub lists: u32,
    /// k-means iterations run.
    pub iterations: u32,
    /// Too few rows per list for good clusters: recall will be poor until REINDEX.
    pub low_data: bool,
    /// Blocks in the finished index.
    pub blocks: BlockNumber,
}

/// Pass 1: collects the k-means sample.
pub struct Builder {
    meta: Meta,
    options: BuildOptions,
    capacity: usize,
    reservoir: Reservoir,
    scratch: Vec<f32>,
}

impl Builder {
    /// Checks the options and sizes the sample to the memory budget.
    pub fn new(dims: usize, options: BuildOptions) -> Result<Builder> {
        let meta = Meta::new(dims, options.lists, options.metric)?;
        if options.threads == 0 {
            return Err(Error::InvalidOption("threads must be at least 1".into()));
        }
        let lists = options.lists as usize;
        let wanted = lists.saturating_mul(options.samples_per_list as usize);
        let least = lists
            .saturating_mul(options.min_samples_per_list as usize)
            .min(wanted);
        let need = |samples: usize| peak_memory(dims, lists, options.threads, samples);
        if need(least) > options.memory_budget {
            return Err(Error::MemoryBudget {
                required: need(least),
                budget: options.memory_budget,
            });
        }
        // The largest sample that fits: memory grows with the sample, so bisect.
        let (mut fits, mut too_big) = (least, wanted.saturating_add(1));
        while too_big - fits > 1 {
            let mid = fits + (too_big - fits) / 2;
            if need(mid) <= options.memory_budget {
                fits = mid;
            } else {
                too_big = mid;
            }
        }
        Ok(Builder {
            meta,
            capacity: fits,
            reservoir: Reservoir::new(dims, fits, options.seed),
            options,
            scratch: Vec::with_capacity(dims),
        })
    }

    /// How many rows the k-means sample holds at most.
    pub fn sample_capacity(&self) -> usize {
        self.capacity
    }

    /// Offers one row to the sample (pass 1). Zero vectors under cosine have no direction and
    /// are left out of the sample (they are still loaded in pass 2).
    pub fn sample(&mut self, vector: &[f32]) -> Result<()> {
        let dims = self.meta.dims as usize;
        if self.options.metric.prepare(vector, dims, &mut self.scratch)? {
            self.reservoir.offer(&self.scratch);
        }
        Ok(())
    }

    /// Clusters the sample and writes the meta page, the centroid pages and an empty first page
    /// for every list into `rel`, which must be empty. `progress` runs on this thread.
    pub fn train<'r, R: Relation>(
        mut self,
        rel: &'r R,
        progress: &mut dyn FnMut(BuildProgress),
    ) -> Result<Loader<'r, R>> {
        if rel.nblocks() != 0 {
            return Err(Error::InvalidOption("the index relation must be empty to build".into()));
        }
        let dims = self.meta.dims as usize;
        let clusters = kmeans::kmeans(
            self.reservoir.samples(),
            dims,
            &KMeansOptions {
                k: self.options.lists as usize,
                max_iterations: self.options.max_iterations,
                threads: self.options.threads,
                seed: self.options.seed ^ 0x6B6D_6561_6E73,
                spherical: self.options.metric == Metric::Cosine,
            },
            &mut |iteration, max| progress(BuildProgress::KMeans { iteration, max }),
        );
        self.meta.sample_rows = self.reservoir.len() as u64;
        // The reservoir is no longer needed: free it before loading needs its own memory.
        drop(std::mem::replace(&mut self.reservoir, Reservoir::new(dims, 0, 0)));

        write_new_page(rel, 0, |page| self.meta.write(page))?;
        let stride = self.meta.stride();
        let first_list = self.meta.first_list_block();
        for (index, chunk) in clusters
            .centroids
            .chunks(self.meta.per_page() * dims)
            .enumerate()
        {
            let block = self.meta.centroid_slot(0).0 + index as BlockNumber;
            write_new_page(rel, block, |page| {
                page.init(PageKind::Centroid);
                for (i, centroid) in chunk.chunks_exact(dims).enumerate() {
                    let list = (index * self.meta.per_page() + i) as BlockNumber;
                    // Cannot fail: per_page items of this stride fit by construction.
                    let pushed = page.push_item([first_list + list, first_list + list], centroid);
                    debug_assert!(pushed);
                }
                debug_assert_eq!(page.count() * stride, chunk.len() / dims * stride);
            })?;
        }
        let mut buffers = Vec::with_capacity(self.options.lists as usize);
        for list in 0..self.options.lists {
            let block = first_list + list;
            write_new_page(rel, block, |page| page.init(PageKind::List))?;
            let mut page = Page::zeroed();
            page.init(PageKind::List);
            buffers.push(ListBuffer { block, page });
        }
        let batch_rows = (BATCH_BYTES / (dims * 4 + 12)).clamp(256, 16384);
        Ok(Loader {
            rel,
            meta: self.meta,
            threads: self.options.threads,
            centroids: clusters.centroids,
            iterations: clusters.iterations,
            batch: Vec::with_capacity(batch_rows * dims),
            batch_tids: Vec::with_capacity(batch_rows),
            batch_rows,
            scratch: self.scratch,
            buffers,
            rows: 0,
        })
    }
}

/// Peak bytes of a build with a sample of `samples` rows: the larger of the k-means phase
/// (sample, bounds, per-thread sums) and the loading phase (one page per list, one batch).
fn peak_memory(dims: usize, lists: usize, threads: usize, samples: usize) -> usize {
    let clustering = samples * dims * 4 + kmeans::memory_required(samples, dims, lists, threads);
    let batch_rows = (BATCH_BYTES / (dims * 4 + 12)).clamp(256, 16384);
    let loading = lists * (PAGE_SIZE + 16) + lists * dims * 4 + batch_rows * (dims * 4 + 16);
    clustering.max(loading)
}

/// Appends block `expected` to `rel` and fills it with `fill`, in one atomic change.
fn write_new_page<R: Relation>(
    rel: &R,
    expected: BlockNumber,
    fill: impl FnOnce(&mut Page),
) -> Result<()> {
    let mut ws = rel.begin();
    let (slot, block) = ws.extend()?;
    if block != expected {
        return Err(Error::corrupt(block, "the index relation grew during the build"));
    }
    fill(ws.page_mut(slot));
    Ok(())
}

/// The page of a list being filled, and the block it will be written to.
struct ListBuffer {
    block: BlockNumber,
    page: Box<Page>,
}

/// Pass 2: puts every row into the list of its nearest centroid.
pub struct Loader<'r, R: Relation> {
    rel: &'r R,
    meta: Meta,
    threads: usize,
    centroids: Vec<f32>,
    iterations: u32,
    batch: Vec<f32>,
    batch_tids: Vec<(Tid, u16)>,
    batch_rows: usize,
    scratch: Vec<f32>,
    buffers: Vec<ListBuffer>,
    rows: u64,
}

impl<R: Relation> Loader<'_, R> {
    /// Adds one row (pass 2). Rows are assigned in parallel batches; pages are written as
    /// they fill.
    pub fn add(&mut self, tid: Tid, vector: &[f32]) -> Result<()> {
        let dims = self.meta.dims as usize;
        let nonzero = self.meta.metric.prepare(vector, dims, &mut self.scratch)?;
        self.batch.extend_from_slice(&self.scratch);
        self.batch_tids.push((tid, if nonzero { 0 } else { FLAG_ZERO_NORM }));
        if self.batch_tids.len() >= self.batch_rows {
            self.flush_batch()?;
        }
        Ok(())
    }

    /// The centroids k-means found, one after another.
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// Assigns the batched rows to lists (in parallel) and appends them to the list pages.
    fn flush_batch(&mut self) -> Result<()> {
        let dims = self.meta.dims as usize;
        let scorer = self.meta.metric.scorer();
        let (batch, centroids) = (&self.batch, &self.centroids);
        let mut lists = vec![0u32; self.batch_tids.len()];
        map_chunks(self.threads, &mut lists, |offset, part| {
            for (i, list) in part.iter_mut().enumerate() {
                let row = &batch[(offset + i) * dims..(offset + i + 1) * dims];
                *list = nearest_in(centroids, dims, scorer, row);
            }
        });
        for (i, &list) in lists.iter().enumerate() {
            let (tid, flags) = self.batch_tids[i];
            let row = &self.batch[i * dims..(i + 1) * dims];
            append(self.rel, &mut self.buffers[list as usize], encode_tid(tid, flags), row)?;
        }
        self.rows += lists.len() as u64;
        self.batch.clear();
        self.batch_tids.clear();
        Ok(())
    }

    /// Writes the partly filled pages, points every list's insert block at its last page, and
    /// records the row count on the meta page.
    pub fn finish(mut self, progress: &mut dyn FnMut(BuildProgress)) -> Result<BuildReport> {
        self.flush_batch()?;
        progress(BuildProgress::Loading { rows: self.rows });
        for buffer in &self.buffers {
            if buffer.page.count() > 0 {
                let mut ws = self.rel.begin();
                let slot = ws.lock(buffer.block)?;
                ws.page_mut(slot).copy_from(&buffer.page);
            }
        }
        let stride = self.meta.stride();
        for (index, lists) in self.buffers.chunks(self.meta.per_page()).enumerate() {
            let mut ws = self.rel.begin();
            let slot = ws.lock(self.meta.centroid_slot(0).0 + index as BlockNumber)?;
            let page = ws.page_mut(slot);
            for (i, buffer) in lists.iter().enumerate() {
                let first = self.meta.first_list_block() + (index * self.meta.per_page() + i) as BlockNumber;
                page.set_item_header(i, stride, [first, buffer.block]);
            }
        }
        self.meta.built_rows = self.rows;
        {
            let mut ws = self.rel.begin();
            let slot = ws.lock(crate::meta::META_BLOCK)?;
            self.meta.write(ws.page_mut(slot));
        }
        Ok(BuildReport {
            rows: self.rows,
            samples: self.meta.sample_rows,
            lists: self.meta.lists,
            iterations: self.iterations,
            low_data: self.meta.sample_rows < self.meta.lists as u64 * LOW_DATA_ROWS_PER_LIST,
            blocks: self.rel.nblocks(),
        })
    }
}

/// Appends one item to a list's buffer; a full buffer is written out, linked to a new page.
fn append<R: Relation>(rel: &R, buffer: &mut ListBuffer, header: [u32; 2], row: &[f32]) -> Result<()> {
    if buffer.page.push_item(header, row) {
        return Ok(());
    }
    // One atomic change writes the full page and links the new, initialised one.
    let mut ws = rel.begin();
    let full = ws.lock(buffer.block)?;
    let (fresh, next) = ws.extend()?;
    buffer.page.set_next(next);
    ws.page_mut(full).copy_from(&buffer.page);
    ws.page_mut(fresh).init(PageKind::List);
    ws.commit();
    buffer.block = next;
    buffer.page.init(PageKind::List);
    if buffer.page.push_item(header, row) {
        Ok(())
    } else {
        Err(Error::corrupt(next, "one item does not fit on an empty page"))
    }
}

/// Builds an index in the empty `rel` from `rows`, which is called twice (sampling, loading).
pub fn build<R, I, V>(
    rel: &R,
    dims: usize,
    options: BuildOptions,
    rows: impl Fn() -> I,
    progress: &mut dyn FnMut(BuildProgress),
) -> Result<BuildReport>
where
    R: Relation,
    I: IntoIterator<Item = (Tid, V)>,
    V: AsRef<[f32]>,
{
    let mut builder = Builder::new(dims, options)?;
    for (_, vector) in rows() {
        builder.sample(vector.as_ref())?;
    }
    let mut loader = builder.train(rel, progress)?;
    for (tid, vector) in rows() {
        loader.add(tid, vector.as_ref())?;
    }
    loader.finish(progress)
}
