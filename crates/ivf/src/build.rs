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
//! [`Error::MemoryBudget`]); loading buffers each list's pages in memory, as many as the
//! budget allows (at least one), and writes them as a run of consecutive blocks when the
//! buffer is full. With enough memory every list is one contiguous run, so a scan reads it
//! sequentially (the hardware prefetcher, or the operating system's read-ahead, does the rest).

use crate::assign::Assigner;
use crate::block::{BlockNumber, INVALID_BLOCK};
use crate::error::{Error, Result};
use crate::item::{CodeItem, ItemHeader, ListHead, RowItem, SummaryItem, Tid};
use crate::kmeans::{self, KMeansOptions, Reservoir};
use crate::meta::Meta;
use crate::metric::{Metric, L2_CHUNK};
use crate::page::{Element, Layout, Page, PageKind, PAGE_SIZE};
use crate::parallel::{default_threads, map_chunks};
use crate::quantizer::{CodeTerms, Quantizer};
use crate::row_order::RowOrder;
use crate::storage::{Relation, WriteSet};
use crate::summary::Change;

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
    /// Rows per list to train k-means on, when there are that many and memory allows. 64
    /// (pgvector samples 50, FAISS up to 256): on Fashion-MNIST, 784-d, 245 lists, 32, 64 and
    /// 256 gave recall@10 within 0.005 of each other at probes 4 and 8 (bench/ivf.md), and
    /// k-means is most of a build's time.
    pub samples_per_list: u32,
    /// Fewest rows per list the sample may shrink to under the memory budget.
    pub min_samples_per_list: u32,
    /// Most Lloyd iterations (10, FAISS's default for IVF training: on Fashion-MNIST 25 gave
    /// the same recall within 0.001 for twice the build time).
    pub max_iterations: u32,
    /// Worker threads for k-means and assignment.
    pub threads: usize,
    /// Seed of every random choice, so that builds are reproducible.
    pub seed: u64,
    /// Bytes the build may use (the extension passes maintenance_work_mem).
    pub memory_budget: usize,
    /// Under L2, store dimensions in decreasing order of variance (see [`crate::meta`]).
    pub reorder_dimensions: bool,
    /// Whether each list also gets a chain of one-byte codes, scanned before its vectors.
    pub codes: Codes,
    /// Attributes each row stores beside its vector (see [`crate::attributes`]); rows are then
    /// added with [`Loader::add_with_attributes`].
    pub attributes: u32,
}

/// Whether an index gets code chains (see the `quantizer` module): a scan then reads a list's
/// codes, about a quarter of its vectors' bytes, and reads a full vector only for rows whose
/// bound reaches the top.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codes {
    /// Codes for vectors of at least [`CODES_MIN_DIMS`] dimensions, where they measured
    /// faster (bench/ivf.md).
    Auto,
    /// Always codes.
    Always,
    /// Never codes: the index as before codes existed.
    Never,
}

/// Dimensions from which [`Codes::Auto`] builds codes.
pub const CODES_MIN_DIMS: usize = 128;

impl Codes {
    /// Whether vectors of `dims` get codes.
    fn enabled(self, dims: usize) -> bool {
        match self {
            Codes::Auto => dims >= CODES_MIN_DIMS,
            Codes::Always => true,
            Codes::Never => false,
        }
    }
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            lists: 100,
            metric: Metric::L2,
            samples_per_list: 64,
            min_samples_per_list: 32,
            max_iterations: 10,
            threads: default_threads(),
            seed: 0x5EED,
            memory_budget: usize::MAX,
            reorder_dimensions: true,
            codes: Codes::Auto,
            attributes: 0,
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
        let meta = Meta::with_attributes(
            dims,
            options.lists,
            options.metric,
            options.codes.enabled(dims),
            options.attributes,
        )?;
        if options.threads == 0 {
            return Err(Error::InvalidOption("threads must be at least 1".into()));
        }
        let lists = options.lists as usize;
        let wanted = lists.saturating_mul(options.samples_per_list as usize);
        let least = lists
            .saturating_mul(options.min_samples_per_list as usize)
            .min(wanted);
        let codes = meta.has_codes();
        let need = |samples: usize| peak_memory(dims, lists, options.threads, samples, codes);
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
        if self
            .options
            .metric
            .prepare(vector, dims, &mut self.scratch)?
        {
            self.reservoir.offer(&self.scratch);
        }
        Ok(())
    }

    /// Clusters the sample and writes the meta page and the centroid pages into `rel`, which
    /// must be empty. `progress` runs on this thread.
    pub fn train<'r, R: Relation>(
        mut self,
        rel: &'r R,
        progress: &mut dyn FnMut(BuildProgress),
    ) -> Result<Loader<'r, R>> {
        if rel.nblocks() != 0 {
            return Err(Error::InvalidOption(
                "the index relation must be empty to build".into(),
            ));
        }
        let dims = self.meta.dims as usize;
        // Reorder dimensions first, so that k-means' distance loops stop early too and the
        // centroids come out in stored order.
        if self.options.reorder_dimensions && self.meta.metric == Metric::L2 && dims > L2_CHUNK {
            self.meta.order = variance_order(self.reservoir.samples(), dims);
        }
        if let Some(order) = &self.meta.order {
            self.reservoir.permute(order);
        }
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
        let centroids = clusters.centroids;
        let quantizer = self
            .meta
            .codes
            .map(|_| Quantizer::fit(self.meta.metric, self.reservoir.samples(), dims));
        // The reservoir is no longer needed: free it before loading needs its own memory.
        drop(std::mem::replace(
            &mut self.reservoir,
            Reservoir::new(dims, 0, 0),
        ));

        write_new_page(rel, 0, |page| self.meta.write(page))?;
        // List heads are not known yet: `finish` fills them in.
        let layout = self.meta.centroid_layout;
        for (index, chunk) in centroids.chunks(self.meta.per_page() * dims).enumerate() {
            let block = self.meta.centroid_slot(0).0 + index as BlockNumber;
            write_new_page(rel, block, |page| {
                page.init(PageKind::Centroid);
                for centroid in chunk.chunks_exact(dims) {
                    // Cannot fail: the chunk holds at most a page's worth of centroids.
                    page.push_item(&layout, ListHead::UNSET, centroid);
                }
            })?;
        }
        let lists = self.options.lists as usize;
        if let (Some(region), Some(quantizer)) = (self.meta.codes, &quantizer) {
            for index in 0..region.quantizer_pages {
                write_new_page(rel, region.quantizer + index, |page| {
                    quantizer.write_page(index, page)
                })?;
            }
            let per_page = region.head_layout.capacity();
            for index in 0..region.head_pages {
                let heads = (lists - index as usize * per_page).min(per_page);
                write_new_page(rel, region.heads + index, |page| {
                    page.init(PageKind::CodeHeads);
                    for _ in 0..heads {
                        page.push_item(&region.head_layout, ListHead::UNSET, &[]);
                    }
                })?;
            }
        }
        if let Some(region) = self.meta.summaries {
            let empty = region.empty();
            for index in 0..region.pages {
                write_new_page(rel, region.first + index, |page| {
                    page.init(PageKind::Summary);
                    for _ in 0..region.items_on(index, lists as u32) {
                        page.push_item(&region.layout, SummaryItem::default(), &empty);
                    }
                })?;
            }
        }
        let summaries = Summaries::new(&self.meta);
        let row_order = RowOrder::new(self.meta.attributes as usize);
        let codes = self.meta.has_codes();
        let batch_rows = batch_rows(dims);
        let fixed = loading_memory(dims, lists, 0, codes);
        let per_run_page = loading_memory(dims, lists, 1, codes) - fixed;
        let run_pages = (self.options.memory_budget.saturating_sub(fixed) / per_run_page).max(1);
        let buffers = (0..lists).map(|_| ListBuffer::new(&self.meta)).collect();
        Ok(Loader {
            rel,
            meta: self.meta,
            threads: self.options.threads,
            centroids,
            iterations: clusters.iterations,
            batch: Vec::with_capacity(batch_rows * dims),
            batch_items: Vec::with_capacity(batch_rows),
            batch_attributes: Vec::new(),
            batch_rows,
            scratch: self.scratch,
            buffers,
            summaries,
            row_order,
            quantizer,
            code: Vec::with_capacity(dims),
            run_pages,
            rows: 0,
        })
    }
}

/// Dimensions sorted by decreasing variance over `samples` (ties by position), if any.
fn variance_order(samples: &[f32], dims: usize) -> Option<Vec<u16>> {
    let n = samples.len() / dims;
    if n == 0 {
        return None;
    }
    let mut mean = vec![0f64; dims];
    for row in samples.chunks_exact(dims) {
        mean.iter_mut().zip(row).for_each(|(m, &x)| *m += x as f64);
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut variance = vec![0f64; dims];
    for row in samples.chunks_exact(dims) {
        for ((v, m), &x) in variance.iter_mut().zip(&mean).zip(row) {
            *v += (x as f64 - m) * (x as f64 - m);
        }
    }
    let mut order: Vec<u16> = (0..dims as u16).collect();
    order.sort_by(|&a, &b| {
        variance[b as usize]
            .total_cmp(&variance[a as usize])
            .then(a.cmp(&b))
    });
    Some(order)
}

/// Memory one buffered page costs (the page and its box).
const BUFFER_PAGE_BYTES: usize = PAGE_SIZE + 64;

/// Rows per assignment batch for vectors of `dims`.
fn batch_rows(dims: usize) -> usize {
    (BATCH_BYTES / (dims * 4 + 12)).clamp(256, 16384)
}

/// Bytes of the loading phase with `run_pages` buffered list pages per list; with codes, each
/// list also holds the codes of those rows (until their vectors' blocks are known) and up to
/// as many code pages as they fill, plus one.
fn loading_memory(dims: usize, lists: usize, run_pages: usize, codes: bool) -> usize {
    let mut per_list = run_pages * BUFFER_PAGE_BYTES + 64;
    if codes {
        let rows = run_pages * Layout::<RowItem, f32>::new(dims).map_or(1, |l| l.capacity());
        let per_code_page = Layout::<CodeItem, u8>::new(dims).map_or(1, |l| l.capacity());
        per_list += rows * (dims + size_of::<PendingCode>())
            + (rows.div_ceil(per_code_page) + 1) * BUFFER_PAGE_BYTES;
    }
    lists * per_list + lists * dims * 4 + batch_rows(dims) * (dims * 4 + 16)
}

/// Peak bytes of a build with a sample of `samples` rows: the larger of the k-means phase
/// (sample, bounds, per-thread sums) and the loading phase with one buffered page per list.
fn peak_memory(dims: usize, lists: usize, threads: usize, samples: usize, codes: bool) -> usize {
    let clustering = samples * dims * 4 + kmeans::memory_required(samples, dims, lists, threads);
    clustering.max(loading_memory(dims, lists, 1, codes))
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
        return Err(Error::corrupt(
            block,
            "the index relation grew during the build",
        ));
    }
    fill(ws.page_mut(slot));
    Ok(())
}

/// One chain while loading: pages filled in memory and not yet written, and the chain so far.
struct ChainBuffer<H, T> {
    layout: Layout<H, T>,
    kind: PageKind,
    pages: Vec<Box<Page>>,
    first: Option<BlockNumber>,
    last: Option<BlockNumber>,
}

impl<H: ItemHeader, T: Element> ChainBuffer<H, T> {
    fn new(layout: Layout<H, T>, kind: PageKind) -> Self {
        ChainBuffer {
            layout,
            kind,
            pages: Vec::new(),
            first: None,
            last: None,
        }
    }

    /// Adds one item, starting a new buffered page when the last is full; returns the index of
    /// its page among the buffered ones, or `None` when that would exceed `max_pages` (the
    /// caller writes the run out first).
    fn push(&mut self, max_pages: usize, header: H, values: &[T]) -> Option<usize> {
        if let Some(page) = self.pages.last_mut() {
            if page.push_item(&self.layout, header, values) {
                return Some(self.pages.len() - 1);
            }
        }
        if self.pages.len() >= max_pages {
            return None;
        }
        let mut page = Page::zeroed();
        page.init(self.kind);
        // Cannot fail on an empty page: Layout guarantees one item fits.
        page.push_item(&self.layout, header, values);
        self.pages.push(page);
        Some(self.pages.len() - 1)
    }

    /// Orders the buffered items by the keys of the attributes whose ranges the pages keep, in
    /// the order of `attributes` (see [`crate::row_order`]; equal keys keep their order), and
    /// refills the pages with them, so that each page holds few distinct values and narrow key
    /// ranges; returns, for each item in the new order, its index in the old one and its page
    /// among the buffered ones.
    fn order_by_attributes(&mut self, attributes: &[usize]) -> Vec<(usize, usize)> {
        let mut items: Vec<(H, Vec<T>)> = Vec::new();
        for page in &self.pages {
            // Cannot fail: the pages were filled with this layout.
            if let Ok(page_items) = page.items(&self.layout, INVALID_BLOCK) {
                items.extend(page_items.iter().map(|(h, v)| (h, v.to_vec())));
            }
        }
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_cached_key(|&i| {
            let keys = self.layout.keys_of(&items[i].1);
            attributes
                .iter()
                .filter_map(|&a| keys.get(a).copied())
                .collect::<Vec<_>>()
        });
        self.pages.clear();
        order
            .into_iter()
            .map(|i| {
                let (header, values) = &items[i];
                (i, self.push(usize::MAX, *header, values).unwrap_or(0))
            })
            .collect()
    }

    /// Writes the first `count` buffered pages as consecutive new blocks, linked in order, then
    /// links the run from the chain's last page; returns the run's first block. Until that
    /// last change the run is unreachable, so the chain is consistent after every commit;
    /// consecutive blocks let scans read a chain sequentially.
    fn write_run<R: Relation>(&mut self, rel: &R, count: usize) -> Result<BlockNumber> {
        let start = rel.nblocks();
        let count = count.min(self.pages.len());
        let end = start + count as BlockNumber;
        for (i, page) in self.pages.iter_mut().take(count).enumerate() {
            let block = start + i as BlockNumber;
            page.set_next(if block + 1 < end {
                block + 1
            } else {
                INVALID_BLOCK
            });
            write_new_page(rel, block, |target| target.copy_from(page))?;
        }
        if count == 0 {
            return Ok(start);
        }
        match self.last {
            Some(last) => {
                let mut ws = rel.begin();
                let slot = ws.lock(last)?;
                ws.page(slot).expect_kind(self.kind, last)?;
                ws.page_mut(slot).set_next(start);
            }
            None => self.first = Some(start),
        }
        self.last = Some(end - 1);
        self.pages.drain(..count);
        Ok(start)
    }

    /// Writes whatever is buffered (at least one page, so that inserts never create a
    /// chain) and returns the chain's head.
    fn finish<R: Relation>(&mut self, rel: &R) -> Result<ListHead> {
        if self.pages.is_empty() && self.last.is_none() {
            let mut page = Page::zeroed();
            page.init(self.kind);
            self.pages.push(page);
        }
        self.write_run(rel, self.pages.len())?;
        match (self.first, self.last) {
            (Some(first), Some(last)) => Ok(ListHead {
                first,
                insert: last,
            }),
            _ => Err(Error::corrupt(
                INVALID_BLOCK,
                "a list was left without pages",
            )),
        }
    }
}

/// A row's code waiting for its vector's block: the code's header, with the index of the
/// vector's page among the buffered ones in place of the block.
#[derive(Clone, Copy)]
struct PendingCode {
    item: CodeItem,
    page: usize,
}

/// A row's values as a list page stores them: the vector, then its attributes' bytes in f32
/// slots (bit for bit; they are never read as numbers).
pub(crate) fn stored_row<'a>(
    out: &'a mut Vec<f32>,
    vector: &[f32],
    attributes: &[u8],
) -> &'a [f32] {
    out.clear();
    out.extend_from_slice(vector);
    out.extend(
        attributes
            .chunks_exact(4)
            .map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
    );
    out
}

/// Checks that a row comes with as many attributes as the index stores.
pub(crate) fn check_attributes(meta: &Meta, attributes: &[Option<u64>]) -> Result<()> {
    if attributes.len() == meta.attributes as usize {
        Ok(())
    } else {
        Err(Error::InvalidOption(format!(
            "the index stores {} attributes per row, {} given",
            meta.attributes,
            attributes.len()
        )))
    }
}

/// One list while loading: its vector chain and, with codes, its code chain.
struct ListBuffer {
    vectors: ChainBuffer<RowItem, f32>,
    codes: Option<ChainBuffer<CodeItem, u8>>,
    pending: Vec<PendingCode>,
    /// The pending codes' bytes, each followed by its row's attributes.
    pending_codes: Vec<u8>,
    /// Bytes of one pending code and its attributes.
    code_bytes: usize,
    /// A row's values as stored: the vector, then the attributes' bytes.
    row_values: Vec<f32>,
}

impl ListBuffer {
    fn new(meta: &Meta) -> Self {
        ListBuffer {
            vectors: ChainBuffer::new(meta.layout, PageKind::List),
            codes: meta
                .codes
                .map(|region| ChainBuffer::new(region.layout, PageKind::Code)),
            pending: Vec::new(),
            pending_codes: Vec::new(),
            code_bytes: meta.dims as usize + meta.attribute_bytes(),
            row_values: Vec::new(),
        }
    }

    /// Adds a row and, with codes, its code and terms; writes the buffered runs first (rows in
    /// `order`) when the row's page would exceed `run_pages`.
    #[allow(clippy::too_many_arguments)]
    fn push<R: Relation>(
        &mut self,
        rel: &R,
        run_pages: usize,
        order: &RowOrder,
        row: RowItem,
        vector: &[f32],
        attributes: &[u8],
        code: Option<(&[u8], CodeTerms)>,
    ) -> Result<()> {
        let mut values = std::mem::take(&mut self.row_values);
        stored_row(&mut values, vector, attributes);
        let page = match self.vectors.push(run_pages, row, &values) {
            Some(page) => page,
            None => {
                self.write_runs(rel, false, order)?;
                // Cannot fail: the buffer is empty now.
                self.vectors.push(run_pages, row, &values).unwrap_or(0)
            }
        };
        self.row_values = values;
        if let Some((code, terms)) = code {
            self.pending.push(PendingCode {
                item: CodeItem {
                    row,
                    vector_block: INVALID_BLOCK,
                    terms,
                },
                page,
            });
            self.pending_codes.extend_from_slice(code);
            self.pending_codes.extend_from_slice(attributes);
        }
        Ok(())
    }

    /// Writes the buffered vector pages as a run, rows in `order` where pages keep key
    /// ranges; then, now that the blocks of their vectors are known, adds the pending codes to
    /// the code pages and writes those, except a last page with room unless `finishing`.
    fn write_runs<R: Relation>(
        &mut self,
        rel: &R,
        finishing: bool,
        order: &RowOrder,
    ) -> Result<()> {
        // Pages that keep key ranges are skipped best when rows alike share them.
        if self.vectors.layout.has_key_ranges() {
            self.order_by_attributes(&order.attributes());
        }
        let start = self.vectors.write_run(rel, self.vectors.pages.len())?;
        let Some(codes) = &mut self.codes else {
            return Ok(());
        };
        for (pending, code) in self
            .pending
            .iter()
            .zip(self.pending_codes.chunks_exact(self.code_bytes))
        {
            let item = CodeItem {
                vector_block: start + pending.page as BlockNumber,
                ..pending.item
            };
            codes.push(usize::MAX, item, code);
        }
        self.pending.clear();
        self.pending_codes.clear();
        let keep_last = !finishing
            && codes
                .pages
                .last()
                .is_some_and(|page| page.has_room(&codes.layout));
        codes.write_run(rel, codes.pages.len() - keep_last as usize)?;
        Ok(())
    }

    /// Orders the buffered rows by their attributes' keys (see
    /// [`ChainBuffer::order_by_attributes`]), and their pending codes the same.
    fn order_by_attributes(&mut self, attributes: &[usize]) {
        let order = self.vectors.order_by_attributes(attributes);
        if self.codes.is_none() {
            return;
        }
        let code_bytes = self.code_bytes;
        let (pending, codes) = (&self.pending, &self.pending_codes);
        let mut sorted = Vec::with_capacity(pending.len());
        let mut sorted_codes = Vec::with_capacity(codes.len());
        for &(old, page) in &order {
            if let Some(code) = pending.get(old) {
                sorted.push(PendingCode { page, ..*code });
                sorted_codes.extend_from_slice(&codes[old * code_bytes..(old + 1) * code_bytes]);
            }
        }
        self.pending = sorted;
        self.pending_codes = sorted_codes;
    }
}

/// Pass 2: puts every row into the list of its nearest centroid.
pub struct Loader<'r, R: Relation> {
    rel: &'r R,
    meta: Meta,
    threads: usize,
    centroids: Vec<f32>,
    iterations: u32,
    batch: Vec<f32>,
    batch_items: Vec<RowItem>,
    /// The batched rows' attributes, as stored.
    batch_attributes: Vec<u8>,
    batch_rows: usize,
    scratch: Vec<f32>,
    buffers: Vec<ListBuffer>,
    summaries: Summaries,
    /// The order rows are stored in, from the keys seen so far.
    row_order: RowOrder,
    quantizer: Option<Quantizer>,
    code: Vec<u8>,
    /// List pages a list may buffer before they are written (what the memory budget allows).
    run_pages: usize,
    rows: u64,
}

impl<R: Relation> Loader<'_, R> {
    /// Adds one row (pass 2). Rows are assigned in parallel batches; a list's pages are
    /// written in runs of consecutive blocks as its buffer fills.
    pub fn add(&mut self, tid: Tid, vector: &[f32]) -> Result<()> {
        self.add_with_attributes(tid, vector, &[])
    }

    /// Adds one row with its attributes (`None` is NULL), as many as the index stores.
    pub fn add_with_attributes(
        &mut self,
        tid: Tid,
        vector: &[f32],
        attributes: &[Option<u64>],
    ) -> Result<()> {
        check_attributes(&self.meta, attributes)?;
        let nonzero = self.meta.prepare(vector, &mut self.scratch)?;
        crate::attributes::encode(attributes, &mut self.batch_attributes);
        self.batch.extend_from_slice(&self.scratch);
        self.batch_items.push(RowItem::new(tid, !nonzero));
        if self.batch_items.len() >= self.batch_rows {
            self.flush_batch()?;
        }
        Ok(())
    }

    /// The centroids k-means found, one after another (dimensions in stored order).
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// Assigns the batched rows to lists (in parallel) and adds them to the list buffers.
    fn flush_batch(&mut self) -> Result<()> {
        let dims = self.meta.dims as usize;
        let assigner = Assigner::new(&self.centroids, dims, self.meta.metric);
        let batch = &self.batch;
        let mut lists = vec![0u32; self.batch_items.len()];
        map_chunks(self.threads, &mut lists, |offset, part| {
            assigner.nearest(&batch[offset * dims..(offset + part.len()) * dims], part);
        });
        let stored = self.meta.attribute_bytes();
        for (i, &list) in lists.iter().enumerate() {
            let row = &self.batch[i * dims..(i + 1) * dims];
            let attributes = &self.batch_attributes[i * stored..(i + 1) * stored];
            self.summaries.count(&self.meta, list, attributes);
            self.row_order.count(attributes);
            let code = match &self.quantizer {
                Some(quantizer) => {
                    let terms = quantizer.encode(row, &mut self.code);
                    Some((&self.code[..], terms))
                }
                None => None,
            };
            self.buffers[list as usize].push(
                self.rel,
                self.run_pages,
                &self.row_order,
                self.batch_items[i],
                row,
                attributes,
                code,
            )?;
        }
        self.rows += lists.len() as u64;
        self.batch.clear();
        self.batch_items.clear();
        self.batch_attributes.clear();
        Ok(())
    }

    /// Writes what is still buffered, fills in every list's first and insert blocks (of both
    /// chains), and records the row count on the meta page.
    pub fn finish(mut self, progress: &mut dyn FnMut(BuildProgress)) -> Result<BuildReport> {
        self.flush_batch()?;
        progress(BuildProgress::Loading { rows: self.rows });
        let mut heads = Vec::with_capacity(self.buffers.len());
        let mut code_heads = Vec::with_capacity(self.buffers.len());
        for buffer in &mut self.buffers {
            buffer.write_runs(self.rel, true, &self.row_order)?;
            heads.push(buffer.vectors.finish(self.rel)?);
            if let Some(codes) = &mut buffer.codes {
                code_heads.push(codes.finish(self.rel)?);
            }
        }
        let layout = self.meta.centroid_layout;
        for (index, chunk) in heads.chunks(self.meta.per_page()).enumerate() {
            set_heads(
                self.rel,
                self.meta.centroid_slot(0).0 + index as BlockNumber,
                chunk,
                &layout,
            )?;
        }
        if let Some(region) = self.meta.codes {
            let per_page = region.head_layout.capacity();
            for (index, chunk) in code_heads.chunks(per_page).enumerate() {
                set_heads(
                    self.rel,
                    region.heads + index as BlockNumber,
                    chunk,
                    &region.head_layout,
                )?;
            }
        }
        self.summaries.write(self.rel, &self.meta)?;
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

/// Every list's summary while loading (see [`crate::summary`]), if the index has them.
struct Summaries {
    rows: Vec<u32>,
    /// Each list's values, one after another.
    values: Vec<u32>,
}

impl Summaries {
    fn new(meta: &Meta) -> Self {
        let lists = meta.lists as usize;
        Summaries {
            rows: meta.summaries.map_or(Vec::new(), |_| vec![0; lists]),
            values: meta
                .summaries
                .map_or(Vec::new(), |r| r.empty().repeat(lists)),
        }
    }

    /// Counts one row of `list`, with its attributes as stored, into the summaries of `meta`.
    fn count(&mut self, meta: &Meta, list: u32, attributes: &[u8]) {
        let list = list as usize;
        if let (Some(region), Some(rows)) = (&meta.summaries, self.rows.get_mut(list)) {
            *rows += 1;
            let words = region.layout.dims();
            region.count(
                &mut self.values[list * words..(list + 1) * words],
                attributes,
                Change::Add,
            );
        }
    }

    /// Writes the counted summaries over the empty ones, a page per atomic change.
    fn write<R: Relation>(&self, rel: &R, meta: &Meta) -> Result<()> {
        let Some(region) = meta.summaries else {
            return Ok(());
        };
        let (per_page, words) = (region.layout.capacity(), region.layout.dims());
        for index in 0..region.pages {
            let mut ws = rel.begin();
            let slot = ws.lock(region.first + index)?;
            let page = ws.page_mut(slot);
            for i in 0..region.items_on(index, meta.lists) {
                let list = index as usize * per_page + i;
                if let Some((item, values)) = page.item_mut(&region.layout, i) {
                    item.rows = self.rows[list];
                    values.copy_from_slice(&self.values[list * words..(list + 1) * words]);
                }
            }
        }
        Ok(())
    }
}

/// Overwrites the list heads of one page of heads, in one atomic change.
fn set_heads<R: Relation, T: Element>(
    rel: &R,
    block: BlockNumber,
    heads: &[ListHead],
    layout: &Layout<ListHead, T>,
) -> Result<()> {
    let mut ws = rel.begin();
    let slot = ws.lock(block)?;
    let page = ws.page_mut(slot);
    for (i, &head) in heads.iter().enumerate() {
        page.set_item_header(layout, i, head);
    }
    Ok(())
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
