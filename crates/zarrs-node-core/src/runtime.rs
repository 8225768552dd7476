//! Thread configuration and cancellation.
//!
//! All heavy work runs inside one rayon pool whose size is set by `ZARRS_NODE_THREADS` or
//! [`set_threads`] and defaults to the core count. Callers on libuv's pool block while the
//! rayon pool works, so libuv threads x rayon threads never oversubscribe the cores.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use rayon::ThreadPool;
use zarrs_storage::storage_adapter::async_to_sync::AsyncToSyncBlockOn;

use crate::error::{Error, ErrorCode, Result};

fn pool_slot() -> &'static RwLock<Option<Arc<ThreadPool>>> {
    static POOL: OnceLock<RwLock<Option<Arc<ThreadPool>>>> = OnceLock::new();
    POOL.get_or_init(|| RwLock::new(None))
}

fn default_threads() -> usize {
    std::env::var("ZARRS_NODE_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

fn build_pool(n: usize) -> Result<Arc<ThreadPool>> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("zarrs-node-{i}"))
        .build()
        .map(Arc::new)
        .map_err(|e| {
            Error::new(
                ErrorCode::Internal,
                format!("cannot start thread pool: {e}"),
            )
        })
}

fn pool() -> Result<Arc<ThreadPool>> {
    if let Some(p) = pool_slot().read().map_err(|_| poisoned())?.as_ref() {
        return Ok(p.clone());
    }
    let mut slot = pool_slot().write().map_err(|_| poisoned())?;
    if let Some(p) = slot.as_ref() {
        return Ok(p.clone());
    }
    let p = build_pool(default_threads())?;
    configure_zarrs(p.current_num_threads());
    *slot = Some(p.clone());
    Ok(p)
}

fn poisoned() -> Error {
    Error::new(ErrorCode::Internal, "thread pool lock poisoned")
}

/// Apply our zarrs settings once per process (idempotent; called when a store opens).
pub fn configure() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| configure_zarrs(default_threads()));
}

fn configure_zarrs(threads: usize) {
    let mut config = zarrs::config::global_config_mut();
    config.set_codec_concurrent_target(threads);
    // Our attributes are the user's: no `_zarrs` provenance entry.
    config.set_include_zarrs_metadata(false);
}

/// Set the number of worker threads (takes effect for the next operation).
///
/// # Errors
/// `n == 0`, or the pool cannot be started.
pub fn set_threads(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::invalid_input("threads must be at least 1"));
    }
    let p = build_pool(n)?;
    configure_zarrs(n);
    *pool_slot().write().map_err(|_| poisoned())? = Some(p);
    Ok(())
}

/// The current number of worker threads.
#[must_use]
pub fn threads() -> usize {
    pool().map_or(1, |p| p.current_num_threads())
}

/// Run `f` inside the worker pool, converting panics into [`ErrorCode::Internal`] errors.
///
/// # Errors
/// Whatever `f` returns, or an internal error on panic.
pub fn run<T: Send>(f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    let p = pool()?;
    crate::error::catch_panic(|| p.install(f))
}

/// Run `f` on the calling thread (work too small to hand to the pool), converting panics into
/// [`ErrorCode::Internal`] errors. `f` should not use rayon: outside the pool, its parallel
/// loops would run on rayon's global pool instead of ours.
///
/// # Errors
/// Whatever `f` returns, or an internal error on panic.
pub fn run_here<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    crate::error::catch_panic(f)
}

/// Worker threads of the I/O runtime: object-store requests are network-bound, a couple of
/// threads drive hundreds of them.
const IO_THREADS: usize = 2;

/// The one process-wide tokio runtime that drives object-store requests. Built on first use;
/// it is ours, never napi's executor (zarrs' async-to-sync adapter must not block inside one).
fn io_runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(IO_THREADS)
            .thread_name("zarrs-node-io")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| {
        Error::new(
            ErrorCode::Internal,
            format!("cannot start the I/O runtime: {e}"),
        )
    })
}

/// Run `future` to completion on the I/O runtime, blocking the calling (rayon or libuv) thread.
///
/// # Errors
/// When the runtime cannot be started.
pub fn block_on_io<F: std::future::Future>(future: F) -> Result<F::Output> {
    Ok(io_runtime()?.block_on(future))
}

/// zarrs' async-to-sync adapter hook: blocks on the I/O runtime.
#[derive(Debug, Clone)]
pub struct IoBlockOn(tokio::runtime::Handle);

impl IoBlockOn {
    /// A handle to the I/O runtime (started here if needed).
    ///
    /// # Errors
    /// When the runtime cannot be started.
    pub fn new() -> Result<Self> {
        Ok(Self(io_runtime()?.handle().clone()))
    }
}

impl AsyncToSyncBlockOn for IoBlockOn {
    fn block_on<F: core::future::Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}

/// Shared cancellation flag: set from JS through an `AbortSignal`, polled between units of work.
/// A token made with [`CancelToken::never`] (no signal was passed) cannot be cancelled, which lets
/// reads and writes skip their cancellation checkpoints entirely.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Option<Arc<AtomicBool>>);

impl CancelToken {
    /// A token that can be cancelled later.
    #[must_use]
    pub fn new() -> Self {
        Self(Some(Arc::new(AtomicBool::new(false))))
    }

    /// A token that is never cancelled.
    #[must_use]
    pub fn never() -> Self {
        Self(None)
    }

    /// Whether [`cancel`](Self::cancel) can ever take effect.
    #[must_use]
    pub fn is_cancellable(&self) -> bool {
        self.0.is_some()
    }

    /// Request cancellation.
    pub fn cancel(&self) {
        if let Some(flag) = &self.0 {
            flag.store(true, Ordering::Release);
        }
    }

    /// Whether cancellation was requested.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.0.as_ref().is_some_and(|f| f.load(Ordering::Acquire))
    }

    /// `Err(Aborted)` once cancelled.
    ///
    /// # Errors
    /// [`ErrorCode::Aborted`].
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::aborted())
        } else {
            Ok(())
        }
    }
}
