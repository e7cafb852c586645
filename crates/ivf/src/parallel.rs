//! Splitting pure computation over threads. Workers only compute: they never call back into
//! the caller (PostgreSQL cannot be called from another thread), and every callback the crate
//! offers runs on the calling thread, between parallel sections.
//!
//! Workers start with every signal blocked, so that the host's signal handlers (PostgreSQL's
//! query cancel, latch wake-ups) keep running on the thread that installed them.

use fashrec_signals::BlockedSignals;
use std::num::NonZeroUsize;

/// The machine's parallelism, a sensible default for `threads` options.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// Below this many items per thread, spawning costs more than it saves.
const MIN_ITEMS_PER_THREAD: usize = 256;

/// Runs `work(offset, chunk)` over contiguous chunks of `items`, one per thread, and returns the
/// results in chunk order (so reductions over them are deterministic for a given `threads`).
pub(crate) fn map_chunks<T, R, F>(threads: usize, items: &mut [T], work: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(usize, &mut [T]) -> R + Sync,
{
    let threads = threads
        .max(1)
        .min(items.len().div_ceil(MIN_ITEMS_PER_THREAD).max(1));
    if threads == 1 {
        return vec![work(0, items)];
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let work = &work;
        let mut parts = items.chunks_mut(chunk);
        let own = parts.next();
        // The calling thread takes the first chunk; workers, spawned with signals blocked
        // (they inherit the mask, the caller gets its own back at once), take the rest.
        let handles: Vec<_> = {
            let _blocked = BlockedSignals::new();
            parts
                .enumerate()
                .map(|(i, part)| scope.spawn(move || work((i + 1) * chunk, part)))
                .collect()
        };
        let mut results = Vec::with_capacity(threads);
        results.extend(own.map(|part| work(0, part)));
        for handle in handles {
            match handle.join() {
                Ok(result) => results.push(result),
                // A worker panicked (a bug, workers do not fail otherwise): pass it on.
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        results
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_everything_once_in_order() {
        for threads in [1, 2, 3, 8] {
            let mut items: Vec<usize> = vec![0; 2000];
            let sums = map_chunks(threads, &mut items, |offset, part| {
                for (i, x) in part.iter_mut().enumerate() {
                    *x = offset + i;
                }
                part.len()
            });
            assert_eq!(sums.iter().sum::<usize>(), 2000);
            assert!(items.iter().enumerate().all(|(i, &x)| i == x));
        }
        let mut empty: Vec<u8> = Vec::new();
        assert_eq!(map_chunks(4, &mut empty, |_, part| part.len()), vec![0]);
    }

    #[cfg(unix)]
    #[test]
    fn workers_block_signals_and_the_caller_keeps_its_mask() {
        let mut items = vec![0u8; 4096];
        let caller = std::thread::current().id();
        let seen = map_chunks(4, &mut items, |_, _| {
            (
                std::thread::current().id() == caller,
                fashrec_signals::is_blocked(libc::SIGINT),
            )
        });
        assert_eq!(seen.len(), 4);
        assert!(seen
            .iter()
            .all(|&(on_caller, blocked)| on_caller != blocked));
        assert!(!fashrec_signals::is_blocked(libc::SIGINT));
    }
}
