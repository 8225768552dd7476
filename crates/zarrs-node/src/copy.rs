//! N-API glue of conversion: the h5ad source handle, progress counters the CLI polls, and the
//! streaming copy (one async call per array and run, never per block or shard).

use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use zarrs_node_core::copy::{copy_rows, CopyStats, Progress, RowSource, SourceArray, ZarrRows};
use zarrs_node_core::source::h5ad::H5adSource;
use zarrs_node_core::source::{ElementType, NodeKind, Source};

use zarrs_node_core::TypedVec;

use crate::handles::{token, NativeArray, NativeCancel};
use crate::job::{job, sync, Job};
use crate::marshal::uint;
use crate::records::{to_records, NativeRecords};

/// One node of a source tree, as `describe()` lists it.
#[napi(object, object_from_js = false)]
pub struct NativeSourceNode {
    /// Absolute path (`/` for the root).
    pub path: String,
    /// `'group'` or `'array'`.
    pub kind: String,
    /// Attributes as JSON (or the reason they cannot be read, in `unreadable`).
    #[napi(ts_type = "Record<string, unknown>")]
    pub attributes: Value,
    /// Why the attributes could not be read, if so.
    pub unreadable: Option<String>,
    /// Arrays: shape.
    pub shape: Option<Vec<f64>>,
    /// Arrays: element type name (`float32`, `string`, ...), absent for record arrays.
    pub dtype: Option<String>,
    /// Record arrays: field names.
    pub fields: Option<Vec<String>>,
    /// Arrays: storage chunk shape (absent when contiguous).
    pub chunks: Option<Vec<f64>>,
    /// Arrays: filter names in pipeline order.
    pub filters: Option<Vec<String>>,
}

/// An open .h5ad file (read only).
#[napi]
pub struct NativeH5ad {
    inner: Arc<H5adSource>,
}

fn f64s(v: &[u64]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

fn describe(src: &H5adSource) -> zarrs_node_core::Result<Vec<NativeSourceNode>> {
    let mut out = Vec::new();
    let mut stack = vec![("/".to_owned(), NodeKind::Group)];
    while let Some((path, kind)) = stack.pop() {
        let (attributes, unreadable) = match src.attributes(&path) {
            Ok(map) => (Value::Object(map), None),
            Err(e) if e.code == zarrs_node_core::ErrorCode::Unsupported => (
                Value::Object(serde_json::Map::new()),
                Some(e.message.clone()),
            ),
            Err(e) => return Err(e),
        };
        let mut node = NativeSourceNode {
            path: path.clone(),
            kind: if kind == NodeKind::Group {
                "group"
            } else {
                "array"
            }
            .to_owned(),
            attributes,
            unreadable,
            shape: None,
            dtype: None,
            fields: None,
            chunks: None,
            filters: None,
        };
        if kind == NodeKind::Group {
            let children = src.children(&path)?;
            // Reverse so that the stack pops children in name order (a stable listing).
            for c in children.into_iter().rev() {
                stack.push((format!("{}/{}", path.trim_end_matches('/'), c.name), c.kind));
            }
        } else {
            let info = src.array_info(&path)?;
            node.shape = Some(f64s(&info.shape));
            node.chunks = info.chunks.as_deref().map(f64s);
            node.filters = Some(info.filters);
            match info.element {
                ElementType::Scalar(d) => node.dtype = Some(d.name().to_owned()),
                ElementType::Record(fields) => {
                    node.fields = Some(fields.into_iter().map(|f| f.name).collect());
                }
            }
        }
        out.push(node);
    }
    Ok(out)
}

#[napi]
impl NativeH5ad {
    /// Open an .h5ad (any HDF5) file.
    #[napi(factory)]
    pub fn open(path: String) -> Result<Self> {
        sync(|| {
            Ok(Self {
                inner: Arc::new(H5adSource::open(&path)?),
            })
        })
    }

    /// The columns of the record array at `path` (read whole: h5ad record arrays are small
    /// `uns` tables).
    #[napi(ts_return_type = "Promise<NativeSourceRecords>")]
    pub fn read_records(&self, path: String) -> AsyncTask<Job<NativeSourceRecords>> {
        let src = self.inner.clone();
        job(move || {
            let n = src.array_info(&path)?.shape.first().copied().unwrap_or(1);
            let columns = src.read_records(&path)?;
            let numpy_dtype = columns
                .iter()
                .map(|(name, v)| vec![name.clone(), numpy_spelling(v)])
                .collect();
            Ok(NativeSourceRecords {
                records: to_records(columns, vec![n]),
                numpy_dtype,
            })
        })
    }

    /// Every node of the file, depth first in name order, in one call.
    #[napi(ts_return_type = "Promise<NativeSourceNode[]>")]
    pub fn describe(&self) -> AsyncTask<Job<Vec<NativeSourceNode>>> {
        let src = self.inner.clone();
        job(move || describe(&src))
    }
}

/// A record array of an h5ad file: its columns, and the numpy dtype a zarr copy of it takes
/// (variable-length strings become fixed-length `<U{longest}`, as python anndata writes them
/// to zarr).
#[napi(object, object_from_js = false)]
pub struct NativeSourceRecords {
    pub records: NativeRecords,
    /// `[name, numpy dtype]` per field, e.g. `['scores', '<f4']`.
    pub numpy_dtype: Vec<Vec<String>>,
}

fn numpy_spelling(v: &TypedVec) -> String {
    match v {
        TypedVec::Bool(_) => "|b1".into(),
        TypedVec::Int8(_) => "|i1".into(),
        TypedVec::UInt8(_) => "|u1".into(),
        TypedVec::Int16(_) => "<i2".into(),
        TypedVec::UInt16(_) => "<u2".into(),
        TypedVec::Float16(_) => "<f2".into(),
        TypedVec::Int32(_) => "<i4".into(),
        TypedVec::UInt32(_) => "<u4".into(),
        TypedVec::Float32(_) => "<f4".into(),
        TypedVec::Int64(_) => "<i8".into(),
        TypedVec::UInt64(_) => "<u8".into(),
        TypedVec::Float64(_) => "<f8".into(),
        TypedVec::String(s) => format!(
            "<U{}",
            s.iter()
                .map(|x| x.chars().count())
                .max()
                .unwrap_or(0)
                .max(1)
        ),
        TypedVec::Bytes(b) => format!("|S{}", b.iter().map(Vec::len).max().unwrap_or(0).max(1)),
    }
}

/// Counters of a running conversion, shared by its copy calls and polled by the caller.
#[napi]
pub struct NativeProgress {
    inner: Arc<Progress>,
}

/// A snapshot of [`NativeProgress`].
#[napi(object, object_from_js = false)]
pub struct NativeProgressSnapshot {
    /// Uncompressed bytes copied.
    pub bytes: f64,
    /// Blocks written.
    pub blocks: f64,
    /// Blocks skipped as already complete.
    pub skipped: f64,
}

#[napi]
impl NativeProgress {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Progress::default()),
        }
    }

    #[napi]
    pub fn snapshot(&self) -> NativeProgressSnapshot {
        NativeProgressSnapshot {
            bytes: self.inner.bytes.load(Ordering::Relaxed) as f64,
            blocks: self.inner.blocks.load(Ordering::Relaxed) as f64,
            skipped: self.inner.skipped.load(Ordering::Relaxed) as f64,
        }
    }
}

impl Default for NativeProgress {
    fn default() -> Self {
        Self::new()
    }
}

/// What one copy call did.
#[napi(object, object_from_js = false)]
pub struct NativeCopyStats {
    pub written: f64,
    pub skipped: f64,
}

impl From<CopyStats> for NativeCopyStats {
    fn from(s: CopyStats) -> Self {
        Self {
            written: s.written as f64,
            skipped: s.skipped as f64,
        }
    }
}

/// Row blocks from JS: pairs `[start, stop)` flattened into one array.
fn blocks(flat: &[f64]) -> zarrs_node_core::Result<Vec<Range<u64>>> {
    if !flat.len().is_multiple_of(2) {
        return Err(zarrs_node_core::Error::invalid_input(
            "copy blocks are [start, stop] pairs",
        ));
    }
    flat.chunks_exact(2)
        .map(|p| Ok(uint(p[0], "block start")?..uint(p[1], "block stop")?))
        .collect()
}

/// Where a copy reads from.
enum Origin {
    Zarr(Arc<zarrs_node_core::ZArray>),
    H5ad(Arc<H5adSource>, String),
}

fn run_copy(
    from: Origin,
    dst: &NativeArray,
    flat: Float64Array,
    skip_complete: bool,
    progress: Option<&NativeProgress>,
    cancel: Option<&NativeCancel>,
) -> Result<AsyncTask<Job<NativeCopyStats>>> {
    let blocks = sync(|| blocks(&flat))?;
    let dst = dst.inner.clone();
    let progress = progress.map_or_else(|| Arc::new(Progress::default()), |p| p.inner.clone());
    let cancel = token(cancel);
    Ok(job(move || {
        let src: Box<dyn RowSource + '_> = match &from {
            Origin::Zarr(a) => Box::new(ZarrRows::new(a)?),
            Origin::H5ad(s, path) => Box::new(SourceArray::new(s.as_ref(), path)?),
        };
        copy_rows(
            src.as_ref(),
            &dst,
            &blocks,
            skip_complete,
            &progress,
            &cancel,
        )
        .map(NativeCopyStats::from)
    }))
}

/// Copy row blocks (`[start, stop, start, stop, ...]`, aligned to `dst`'s shards) of a zarr
/// array into `dst`; with `skipComplete`, blocks whose shards are all stored are skipped.
#[napi(ts_return_type = "Promise<NativeCopyStats>")]
pub fn copy_zarr_rows(
    src: &NativeArray,
    dst: &NativeArray,
    blocks: Float64Array,
    skip_complete: bool,
    progress: Option<&NativeProgress>,
    cancel: Option<&NativeCancel>,
) -> Result<AsyncTask<Job<NativeCopyStats>>> {
    run_copy(
        Origin::Zarr(src.inner.clone()),
        dst,
        blocks,
        skip_complete,
        progress,
        cancel,
    )
}

/// As [`copy_zarr_rows`], from the array at `path` of an h5ad file.
#[napi(js_name = "copyH5adRows", ts_return_type = "Promise<NativeCopyStats>")]
pub fn copy_h5ad_rows(
    src: &NativeH5ad,
    path: String,
    dst: &NativeArray,
    blocks: Float64Array,
    skip_complete: bool,
    progress: Option<&NativeProgress>,
    cancel: Option<&NativeCancel>,
) -> Result<AsyncTask<Job<NativeCopyStats>>> {
    run_copy(
        Origin::H5ad(src.inner.clone(), path),
        dst,
        blocks,
        skip_complete,
        progress,
        cancel,
    )
}

/// A damaged stored object: its key and why.
#[napi(object, object_from_js = false)]
pub struct NativeDamagedObject {
    pub key: String,
    pub reason: String,
}

/// What [`check_objects`] found.
#[napi(object, object_from_js = false)]
pub struct NativeObjectCheck {
    pub checked: f64,
    pub absent: Vec<String>,
    pub damaged: Vec<NativeDamagedObject>,
}

/// Check the stored objects (shards, or chunks when unsharded) that rows `[start, stop)` of
/// `array` cover: which are absent and which are damaged (a shard index that does not decode or
/// points outside the shard). One async call per array; the objects are checked in parallel.
#[napi(ts_return_type = "Promise<NativeObjectCheck>")]
pub fn check_objects(
    array: &NativeArray,
    start: f64,
    stop: f64,
) -> Result<AsyncTask<Job<NativeObjectCheck>>> {
    let rows = sync(|| Ok(uint(start, "start")?..uint(stop, "stop")?))?;
    let array = array.inner.clone();
    Ok(job(move || {
        let c = array.check_objects(&rows)?;
        Ok(NativeObjectCheck {
            checked: c.checked as f64,
            absent: c.absent,
            damaged: c
                .damaged
                .into_iter()
                .map(|(key, reason)| NativeDamagedObject { key, reason })
                .collect(),
        })
    }))
}
