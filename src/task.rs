//! Detached background tasks. [`spawn_named`] is the gateway's one way to start a task that
//! nobody awaits; clippy's `disallowed-methods` (clippy.toml) rejects `tokio::spawn` elsewhere.
//!
//! A detached task outlives its caller, and its result reaches no one, so:
//! * the caller states, in a comment at the call, why the work cannot run inline (it outlives
//!   the request, it drives a connection, it must not delay the caller, ...);
//! * the future returns `()`: it handles (logs, counts) its own errors;
//! * a panic inside it is caught by tokio (the runtime keeps running); it is also logged here
//!   under the task's name, since the default panic message names only the worker thread.
//!
//! Tests may call `tokio::spawn` directly.

use std::future::Future;

use tokio::task::JoinHandle;

/// Starts `fut` on the current tokio runtime as a detached task called `name` (a short noun
/// phrase: "ledger postgres connection"). Panics like `tokio::spawn` outside a runtime.
pub fn spawn_named<F>(name: &'static str, fut: F) -> JoinHandle<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    #[allow(clippy::disallowed_methods)] // the one call of `tokio::spawn` outside tests
    tokio::spawn(async move {
        let guard = PanicLog(name);
        fut.await;
        std::mem::forget(guard);
    })
}

/// Logs the task's name when dropped while unwinding from a panic inside the task.
struct PanicLog(&'static str);

impl Drop for PanicLog {
    fn drop(&mut self) {
        if std::thread::panicking() {
            log::error!("background task `{}` panicked", self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn runs_the_future_to_completion() {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        spawn_named(
            "test task",
            async move { flag.store(true, Ordering::SeqCst) },
        )
        .await
        .unwrap();
        assert!(done.load(Ordering::SeqCst));
    }

    /// The panic guard's `Drop` runs during the unwind (so the log line is written) and the
    /// panic stays contained in the task.
    #[tokio::test]
    async fn a_panic_unwinds_through_the_guard_and_stays_in_the_task() {
        struct Probe(Arc<AtomicBool>);
        impl Drop for Probe {
            fn drop(&mut self) {
                self.0.store(std::thread::panicking(), Ordering::SeqCst);
            }
        }
        let unwound = Arc::new(AtomicBool::new(false));
        let probe = Probe(unwound.clone());
        let joined = spawn_named("panicking test task", async move {
            let _probe = probe;
            tokio::task::yield_now().await;
            panic!("planned test panic");
        })
        .await;
        assert!(joined.unwrap_err().is_panic());
        assert!(
            unwound.load(Ordering::SeqCst),
            "locals of a panicking task are dropped while unwinding"
        );
    }
}
