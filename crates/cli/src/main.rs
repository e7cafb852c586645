//! `fashrec`: load the Fashion-MNIST product catalog into PostgreSQL, embed its images, or export
//! it for training.

mod connect;
mod embed;
mod export;
mod interrupt;
mod load;
mod progress;
mod schema;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use fashrec_catalog::{Dataset, Selection, DEFAULT_DIR, DEFAULT_SEED};

#[derive(Parser)]
#[command(
    name = "fashrec",
    version,
    about = "Fashion-MNIST as an e-commerce catalog for the fashrec PostgreSQL extension",
    long_about = "Fashion-MNIST as an e-commerce catalog for the fashrec PostgreSQL extension.\n\n\
        Every Fashion-MNIST image becomes a product: train image i is product id i (0..59999), \
        test image i is product id 60000 + i. Each product gets shop metadata (gender, size, price, \
        colour, material, style, occasion, brand, descriptions, keywords) chosen by per-category \
        rules from a seed, the colour among those as dark as the product in its picture, so the \
        same seed and id always give the same product.\n\n\
        The images come from the Debian package dataset-fashion-mnist."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the products table if absent and bulk-load the catalog into it.
    #[command(
        long_about = "Create the products table if absent and bulk-load the catalog into it.\n\n\
        Columns: id, name, category, gender, size, price, colour, material, style, occasion, brand, \
        description, short_description, keywords, split ('train'/'test'), image (PNG bytea), \
        embedding (vector, NULL until computed), keywords_tsv (generated tsvector, GIN-indexed).\n\n\
        Safe to rerun: products already in the table are left alone and only missing ids are \
        copied, so a rerun neither duplicates nor loses rows. Rows already there are never \
        updated, not even for another --seed: drop the table to reload a different catalog. \
        The database needs the fashrec extension (CREATE EXTENSION fashrec).\n\n\
        Connection: --url or DATABASE_URL; else the PG* variables (PGHOST, PGPORT, PGUSER, \
        PGDATABASE, PGPASSWORD) as libpq reads them; else the project-local cluster \
        127.0.0.1:5499, user postgres, database fashrec."
    )]
    Load {
        #[command(flatten)]
        catalog: CatalogArgs,
        /// PostgreSQL connection URL (postgresql://user@host:port/dbname) or key=value string
        #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
        url: Option<String>,
    },
    /// Compute the product vector (picture and words) of every product that has none, in the server.
    #[command(
        long_about = "Compute the product vector of every product that has none, in the server.\n\n\
        Fills products.embedding where it is NULL by calling the extension's embed_products() on the \
        image and keywords of --batch rows at a time. Each batch is its own transaction: stopping the command (Ctrl-C, a \
        lost connection, statement_timeout) loses at most the batch in flight, and a rerun carries \
        on with the rows still NULL. Ctrl-C cancels the batch in the server at once; a second \
        Ctrl-C exits without waiting. Two runs at once share the work. A product whose image the \
        extension cannot embed is named at the end and left NULL (exit status 1); the other rows \
        are embedded.\n\n\
        The models run in the server backend of this connection, on fashrec.model_threads threads \
        (a superuser setting, default 1). Prints the rows embedded, the seconds taken and the \
        products per second.\n\n\
        Connection: as for `fashrec load` (--url or DATABASE_URL; else the PG* variables; else \
        the project-local cluster 127.0.0.1:5499, user postgres, database fashrec)."
    )]
    Embed {
        /// Rows per statement and transaction; larger batches cost less per row, but a failed or
        /// cancelled batch is redone whole
        #[arg(long, value_name = "N", default_value_t = embed::DEFAULT_BATCH,
              value_parser = clap::value_parser!(u32).range(1..=65536))]
        batch: u32,
        /// PostgreSQL connection URL (postgresql://user@host:port/dbname) or key=value string
        #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
        url: Option<String>,
    },
    /// Write the catalog as JSON lines plus a raw image file for training.
    #[command(
        long_about = "Write the catalog as JSON lines plus a raw image file for training.\n\n\
        OUT/catalog.jsonl holds one JSON object per product (id, split, label, category and all \
        metadata), OUT/images.u8 the 28x28 uint8 pixels of the same products in the same order \
        (numpy: np.fromfile(path, np.uint8).reshape(-1, 28, 28)), OUT/export.json the shapes, \
        order and seed. export.json is written last: its presence means a complete export."
    )]
    Export {
        #[command(flatten)]
        catalog: CatalogArgs,
        /// Directory to write into (created if needed)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// Options choosing the products, shared by every subcommand.
#[derive(Args)]
pub struct CatalogArgs {
    /// Only the first N products of each class of the train split (N per class, 10 classes;
    /// the seed report used 500)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=6000))]
    balanced: Option<u16>,
    /// Catalog seed: the same seed and product id always give the same attributes
    #[arg(long, value_name = "SEED", default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Directory holding the Fashion-MNIST idx files ({train,t10k}-{images-idx3,labels-idx1}-ubyte.gz)
    #[arg(long, value_name = "DIR", env = "FASHREC_DATA", default_value = DEFAULT_DIR)]
    data: PathBuf,
}

impl CatalogArgs {
    /// Which products the options select.
    fn selection(&self) -> Selection {
        match self.balanced {
            Some(n) => Selection::Balanced(usize::from(n)),
            None => Selection::All,
        }
    }
}

/// Reads the dataset behind a spinner.
fn read_dataset(dir: &Path) -> Result<Dataset> {
    let step = progress::spinner("reading Fashion-MNIST");
    let data = Dataset::load(dir)?;
    progress::done(&step);
    Ok(data)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Load { catalog, url } => load::run(catalog, url.as_deref()),
        Command::Embed { batch, url } => embed::run(url.as_deref(), *batch),
        Command::Export { catalog, out } => export::run(catalog, out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
