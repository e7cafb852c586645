//! Ctrl-C during a long command: the statement running in the server is cancelled at once (it
//! would otherwise run to its end and then be rolled back) and the command stops between
//! transactions, saying what was kept. A second Ctrl-C exits without waiting.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use postgres::{CancelToken, NoTls};

/// Whether the user asked to stop.
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Installs the Ctrl-C handler for the connection that `cancel` belongs to.
    pub fn cancelling(cancel: CancelToken) -> Result<Interrupt> {
        let asked = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&asked);
        ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            // If the cancel request cannot reach the server, the batch finishes and the
            // command stops after it: nothing is lost either way.
            let _ = cancel.cancel_query(NoTls);
        })
        .context("cannot install the Ctrl-C handler")?;
        Ok(Interrupt(asked))
    }

    /// True once Ctrl-C was pressed.
    pub fn asked(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
