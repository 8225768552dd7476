//! N-API glue for zarrs-node: argument conversion, libuv tasks, cancellation, error mapping
//! and panic containment. No format logic lives here; see `zarrs-node-core`.

// napi-derive registers exports only in the real build; the test harness sees them unused.
#![cfg_attr(test, allow(dead_code))]

#[global_allocator]
static GLOBAL: alloc::HugePages = alloc::HugePages;

mod alloc;
mod copy;
mod handles;
mod job;
mod marshal;
mod records;
mod sparse;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::job::{job, sync, Job};
use crate::marshal::{uint, uint_usize};

/// Set the worker thread count (also read from `ZARRS_NODE_THREADS` at first use).
#[napi]
pub fn set_threads(n: f64) -> Result<()> {
    sync(|| zarrs_node_core::runtime::set_threads(uint_usize(n, "threads")?))
}

/// The worker thread count.
#[napi]
pub fn get_threads() -> u32 {
    zarrs_node_core::runtime::threads() as u32
}

/// Cap on a single read's output allocation in bytes (0 restores the default: physical memory).
#[napi]
pub fn set_max_alloc_bytes(n: f64) -> Result<()> {
    sync(|| {
        zarrs_node_core::set_max_alloc_bytes(uint(n, "max alloc bytes")?);
        Ok(())
    })
}

/// Inner chunk and shard shapes of an AnnData array (the policy lives in the core's `layout`).
#[napi(object, object_from_js = false)]
pub struct NativeLayout {
    /// Inner chunk shape (chunk shape when unsharded).
    pub chunks: Vec<f64>,
    /// Shard shape, absent when unsharded.
    pub shards: Option<Vec<f64>>,
}

/// The layout of an array of `shape` with `itemSize`-byte elements holding `role` (`'dense'`,
/// `'sparse'`, `'indptr'`, `'column'`); `chunks` overrides the inner chunk shape.
#[napi]
pub fn layout_for(
    role: String,
    shape: Vec<f64>,
    item_size: f64,
    chunk_bytes: f64,
    shard_bytes: f64,
    chunks: Option<Vec<f64>>,
    sharded: bool,
) -> Result<NativeLayout> {
    use zarrs_node_core::layout::{role_layout, Role};
    sync(|| {
        let shape = crate::marshal::dims(&shape, "shape")?;
        let chunks = chunks
            .map(|c| crate::marshal::dims(&c, "chunks"))
            .transpose()?;
        let l = role_layout(
            Role::parse(&role)?,
            &shape,
            uint(item_size, "item size")?,
            uint(chunk_bytes, "chunk bytes")?,
            uint(shard_bytes, "shard bytes")?,
            chunks.as_deref(),
            sharded,
        );
        let f = |v: Vec<u64>| v.into_iter().map(|x| x as f64).collect();
        Ok(NativeLayout {
            chunks: f(l.chunks),
            shards: l.shards.map(f),
        })
    })
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
/// become `ZarrsError`s with code `Internal` instead of aborting the process. Only the
/// `test-panic` feature (the ci-profile addon the tests load) compiles it, and it is left out
/// of the generated `index.{js,d.ts}` so the committed binding is the same for every build;
/// the test reaches it on the loaded addon itself.
#[cfg(feature = "test-panic")]
#[napi(js_name = "__testPanic", skip_typescript)]
pub fn __test_panic(where_: String) -> Result<Either<AsyncTask<Job<()>>, ()>> {
    if where_ == "async" {
        return Ok(Either::A(job(|| -> zarrs_node_core::Result<()> {
            zarrs_node_core::runtime::run(|| panic!("test panic on a worker thread"))
        })));
    }
    sync(|| -> zarrs_node_core::Result<()> { panic!("test panic on the JS thread") }).map(Either::B)
}

/// Check a CSR/CSC structure (indptr monotone from 0 to nnz, indices in `[0, minor)`) over the
/// raw buffers in one call, on the worker pool. `indptr` / `indices` are the bytes of int32 or
/// int64 arrays (`*Is64` says which). Rejects with `InvalidInput` naming the first problem.
#[napi(ts_return_type = "Promise<void>")]
pub fn validate_compressed(
    indptr: Uint8Array,
    indptr_is64: bool,
    indices: Uint8Array,
    indices_is64: bool,
    nnz: f64,
    major: f64,
    minor: f64,
) -> Result<AsyncTask<Job<()>>> {
    let (nnz, major, minor) = sync(|| {
        Ok((
            uint_usize(nnz, "nnz")?,
            uint_usize(major, "major")?,
            uint_usize(minor, "minor")?,
        ))
    })?;
    Ok(job(move || {
        use zarrs_node_core::sparse::validate_compressed;
        validate_compressed(
            index_view(&indptr, indptr_is64)?,
            index_view(&indices, indices_is64)?,
            nnz,
            major,
            minor,
        )
    }))
}

/// An int32 / int64 view of raw bytes (no copy).
pub(crate) fn index_view(
    b: &[u8],
    is64: bool,
) -> zarrs_node_core::Result<zarrs_node_core::sparse::Indices<'_>> {
    use zarrs_node_core::sparse::Indices;
    let bad =
        || zarrs_node_core::Error::invalid_input("index buffer is not aligned to its element size");
    // an empty JS buffer may come with a dangling, unaligned pointer
    if b.is_empty() {
        return Ok(if is64 {
            Indices::I64(&[])
        } else {
            Indices::I32(&[])
        });
    }
    Ok(if is64 {
        Indices::I64(bytemuck::try_cast_slice(b).map_err(|_| bad())?)
    } else {
        Indices::I32(bytemuck::try_cast_slice(b).map_err(|_| bad())?)
    })
}
