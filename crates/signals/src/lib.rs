//! Threads started inside a PostgreSQL backend (k-means workers, ONNX Runtime's pool) inherit
//! the signal mask of the thread that starts them. Start them under [`BlockedSignals`] and they
//! never take PostgreSQL's signals (query cancel, statement_timeout, termination), which must
//! reach the backend's own thread.

/// Every signal blocked in the current thread until dropped, then the previous mask back (also
/// when unwinding).
pub struct BlockedSignals {
    #[cfg(unix)]
    previous: libc::sigset_t,
}

impl BlockedSignals {
    #[cfg(unix)]
    #[must_use = "signals are unblocked again when the guard is dropped"]
    pub fn new() -> Self {
        // SAFETY: both sets are plain values owned here; sigfillset initialises `all`, and
        // pthread_sigmask writes the old mask into `previous` and changes only this thread's.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut previous: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut previous);
            BlockedSignals { previous }
        }
    }

    #[cfg(not(unix))]
    #[must_use = "signals are unblocked again when the guard is dropped"]
    pub fn new() -> Self {
        BlockedSignals {}
    }
}

impl Default for BlockedSignals {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for BlockedSignals {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: restores the mask saved by `new` on this same thread.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.previous, std::ptr::null_mut());
        }
    }
}

/// Whether `signal` is blocked in the current thread.
#[cfg(unix)]
pub fn is_blocked(signal: i32) -> bool {
    // SAFETY: queries this thread's mask into a set owned here.
    unsafe {
        let mut mask: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask);
        libc::sigismember(&mask, signal) == 1
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn blocks_inherited_by_new_threads_and_restores() {
        assert!(!is_blocked(libc::SIGINT));
        let spawned = {
            let _blocked = BlockedSignals::new();
            assert!(is_blocked(libc::SIGINT) && is_blocked(libc::SIGALRM));
            std::thread::spawn(|| is_blocked(libc::SIGINT))
        };
        assert!(
            !is_blocked(libc::SIGINT),
            "the mask comes back when the guard drops"
        );
        assert!(
            spawned.join().unwrap(),
            "a thread started under the guard keeps signals blocked"
        );
    }

    #[test]
    fn restores_when_unwinding() {
        let result = std::panic::catch_unwind(|| {
            let _blocked = BlockedSignals::new();
            panic!("an ERROR unwinding through the guard");
        });
        assert!(result.is_err());
        assert!(!is_blocked(libc::SIGTERM));
    }
}
