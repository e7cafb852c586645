//! The connection pool, the shop's error kinds and the one row shape every result has.

use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use crate::timing;

/// A pool of connections made on demand, so the shop starts (and says so on every page) while
/// the database is down; the timeouts make an unreachable database a quick answer, not a hang.
pub fn pool(url: &str, size: usize) -> Result<Pool, String> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| format!("--url is not a PostgreSQL connection URL: {e}"))?;
    config.application_name("fashrec-shop");
    config.connect_timeout(Duration::from_secs(3));
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(Duration::from_secs(5)))
        .wait_timeout(Some(Duration::from_secs(30)))
        .build()
        .map_err(|e| format!("cannot make the connection pool: {e}"))
}

/// Why a request found no answer in the database.
#[derive(Debug)]
pub enum DbError {
    /// No connection: the server is down, refuses the role, or the connection broke.
    Unreachable(String),
    /// The database answered with an ERROR: its message (and hint) are the shopper's answer.
    Refused(String),
}

impl DbError {
    /// The sentence a page shows.
    pub fn explain(&self) -> String {
        match self {
            DbError::Unreachable(e) => format!("The database is unreachable: {e}"),
            DbError::Refused(message) => format!("The database refused the request: {message}"),
        }
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => {
                let mut message = db.message().to_string();
                if let Some(hint) = db.hint() {
                    message = format!("{message} ({hint})");
                }
                DbError::Refused(message)
            }
            None => DbError::Unreachable(with_causes(&e)),
        }
    }
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => DbError::from(e),
            other => DbError::Unreachable(with_causes(&other)),
        }
    }
}

/// An error's message followed by its causes' ("error connecting to server: Connection refused").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}

/// A product as the pages list it; score is absent where no query ranked it (a liked product).
pub struct Product {
    pub id: i32,
    pub name: String,
    pub category: String,
    pub gender: String,
    pub price: String,
    pub score: Option<f64>,
}

/// The columns a query must select, in this order, for `query_products`.
pub const PRODUCT_COLUMNS: &str = "id, name, category, gender, price::text, score";

impl Product {
    pub fn from_row(row: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Product {
            id: row.try_get(0)?,
            name: row.try_get(1)?,
            category: row.try_get(2)?,
            gender: row.try_get(3)?,
            price: row.try_get(4)?,
            score: row.try_get(5)?,
        })
    }
}

/// Runs a query selecting `PRODUCT_COLUMNS`.
pub async fn query_products(
    pool: &Pool,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Product>, DbError> {
    let rows = query(pool, sql, params).await?;
    Ok(rows
        .iter()
        .map(Product::from_row)
        .collect::<Result<_, _>>()?)
}

/// Runs a query on a pooled connection (each statement prepared once per connection); the wait
/// for the connection and the query's time go to the request's Server-Timing.
pub async fn query(
    pool: &Pool,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, DbError> {
    let began = Instant::now();
    let client = pool.get().await;
    timing::waited(began.elapsed());
    let client = client?;
    let began = Instant::now();
    let rows = async {
        let statement = client.prepare_cached(sql).await?;
        client.query(&statement, params).await
    }
    .await;
    timing::queried(began.elapsed());
    Ok(rows?)
}
