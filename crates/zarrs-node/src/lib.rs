//! N-API glue for zarrs-node: argument conversion, libuv tasks, cancellation, error mapping
//! and panic containment. No format logic lives here; see `zarrs-node-core`.

// napi-derive registers exports only in the real build; the test harness sees them unused.
#![cfg_attr(test, allow(dead_code))]

mod convert;
mod handles;
mod job;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::job::{job, sync, Job};

/// Set the worker thread count (also read from `ZARRS_NODE_THREADS` at first use).
#[napi]
pub fn set_threads(n: u32) -> Result<()> {
    sync(|| zarrs_node_core::runtime::set_threads(n as usize))
}

/// The worker thread count.
#[napi]
pub fn get_threads() -> u32 {
    zarrs_node_core::runtime::threads() as u32
}

/// Cap on a single read's output allocation in bytes (0 restores the default: physical memory).
#[napi]
pub fn set_max_alloc_bytes(n: f64) {
    zarrs_node_core::set_max_alloc_bytes(n.max(0.0) as u64);
}

/// Versions of this addon and of the zarrs crate it was built with.
#[napi]
pub fn native_versions() -> String {
    format!(
        "{{\"zarrsNode\":\"{}\",\"zarrs\":\"0.23\"}}",
        env!("CARGO_PKG_VERSION")
    )
}

/// Test hook: panic on the JS thread (`'sync'`) or on a worker (`'async'`), to prove panics
/// become `ZarrsError`s with code `Internal` instead of aborting the process.
#[napi(js_name = "__testPanic", ts_return_type = "Promise<void> | void")]
pub fn __test_panic(where_: String) -> Result<Either<AsyncTask<Job<()>>, ()>> {
    if where_ == "async" {
        return Ok(Either::A(job(|| -> zarrs_node_core::Result<()> {
            zarrs_node_core::runtime::run(|| panic!("test panic on a worker thread"))
        })));
    }
    sync(|| -> zarrs_node_core::Result<()> { panic!("test panic on the JS thread") }).map(Either::B)
}
