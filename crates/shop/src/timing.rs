//! Where a request's time went, for its Server-Timing header: the waits for a pooled connection
//! and the database's answers, beside the whole handler's time. Under load the wait is the
//! queue for one of the few connections; the database time is the work itself.

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

tokio::task_local! {
    static SPENT: Spent;
}

/// Totals over one request (a page may run several queries).
#[derive(Default)]
struct Spent {
    pool: Cell<Duration>,
    db: Cell<Duration>,
}

/// Runs a request's future; with its output, the Server-Timing entries of what it spent waiting
/// for connections and in queries (milliseconds), to follow the handler's own.
pub async fn measured<F: Future>(request: F) -> (F::Output, String) {
    SPENT
        .scope(Spent::default(), async {
            let output = request.await;
            let entries = SPENT.with(|s| {
                format!(
                    "pool;dur={:.2}, db;dur={:.2}",
                    s.pool.get().as_secs_f64() * 1000.0,
                    s.db.get().as_secs_f64() * 1000.0
                )
            });
            (output, entries)
        })
        .await
}

/// Counts a wait for a pooled connection (nothing outside `measured`).
pub fn waited(d: Duration) {
    let _ = SPENT.try_with(|s| s.pool.set(s.pool.get() + d));
}

/// Counts a query's time, from sending it to its last row.
pub fn queried(d: Duration) {
    let _ = SPENT.try_with(|s| s.db.set(s.db.get() + d));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sums_the_request_and_ignores_the_rest() {
        waited(Duration::from_millis(5)); // outside a request: dropped, no panic
        let ((), entries) = measured(async {
            waited(Duration::from_millis(2));
            queried(Duration::from_millis(3));
            queried(Duration::from_millis(4));
        })
        .await;
        assert_eq!(entries, "pool;dur=2.00, db;dur=7.00");
    }
}
