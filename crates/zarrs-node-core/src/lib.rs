//! zarrs-node-core: the plain-Rust engine behind zarrs-node.
//!
//! Stores, groups and arrays on top of [`zarrs`], with the behaviour the Node binding promises:
//! typed errors ([`Error`]/[`ErrorCode`]), atomic local writes, key validation, consolidated
//! metadata kept in step with writes, decoding straight into typed output buffers, and one
//! configurable thread pool. No N-API here: everything is testable with `cargo test`.

pub mod array;
pub mod codecs;
pub mod consolidated;
pub mod copy;
pub mod dtype;
pub mod error;
pub mod group;
pub mod layout;
pub mod metadata;
pub mod node;
pub mod numpy;
pub mod precheck;
pub mod pyjson;
pub mod remote_read;
pub mod runtime;
pub mod scalar;
pub mod selection;
pub mod source;
pub mod sparse;
pub mod sparse_take;
pub mod store;

use std::sync::atomic::{AtomicU64, Ordering};

pub use array::{ArrayInfo, ObjectCheck, WriteValue, ZArray};
pub use dtype::{DType, TypedVec};
pub use error::{Error, ErrorCode, Result};
pub use group::{Consolidated, Member, Mode, ZGroup};
pub use metadata::CreateArrayOptions;
pub use runtime::CancelToken;
pub use selection::DimSpec;
pub use store::{ConsolidatedWrites, Store, StoreOptions};

static MAX_ALLOC: AtomicU64 = AtomicU64::new(0);

/// The largest output buffer a read may allocate. Defaults to the physical memory of the
/// machine (when it can be read) so an absurd selection fails cleanly instead of aborting the
/// process on allocation failure.
#[must_use]
pub fn max_alloc_bytes() -> u64 {
    match MAX_ALLOC.load(Ordering::Relaxed) {
        0 => physical_memory(),
        n => n,
    }
}

/// Override [`max_alloc_bytes`] (0 restores the default).
pub fn set_max_alloc_bytes(n: u64) {
    MAX_ALLOC.store(n, Ordering::Relaxed);
}

/// The machine's memory (1 TiB when unknown), read once: every read checks its output against
/// it, and reading `/proc/meminfo` cost ~10 us, a tenth of a one-element read.
fn physical_memory() -> u64 {
    static TOTAL: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TOTAL.get_or_init(|| {
        let kib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            });
        kib.map_or(1 << 40, |k| k * 1024)
    })
}

/// Consolidate the metadata below the group at `path`.
///
/// # Errors
/// See [`consolidated::consolidate`].
pub fn consolidate_metadata(store: &Store, path: &str) -> Result<()> {
    consolidated::consolidate(store, &store::normalize_node_path(path)?)
}
