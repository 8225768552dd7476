//! Arrays: open/create, and every read and write path.
//!
//! Reads of a step-1 region decode straight into the output buffer ([`TypedVec`]), in slabs
//! along the first dimension aligned to chunk boundaries so an `AbortSignal` is honoured
//! between slabs. Partial reads of sharded arrays go through zarrs' sharded reader with a
//! per-handle cache of shard indexes, so repeated reads don't refetch them and only the inner
//! chunks a selection touches are decoded. Strided, orthogonal and coordinate selections are
//! grouped by inner chunk: each inner chunk is decoded once, in parallel, and its elements
//! scattered into the output.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use rayon::prelude::*;
use serde_json::Value;
use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::{
    Array, ArrayBytes, ArrayBytesFixedDisjointView, ArrayMetadata, ArrayShardedExt,
    ArrayShardedReadableExt, ArrayShardedReadableExtCache, ArraySubset, CodecOptions, Element,
    ElementOwned,
};
use zarrs_storage::{ReadableWritableListableStorageTraits, StoreKey};

use crate::consolidated::MetadataWrite;
use crate::dtype::{DType, TypedVec};
use crate::error::{Error, ErrorCode, Result};
use crate::metadata::{build_array_metadata, CreateArrayOptions};
use crate::node::{self, RawNode};
use crate::numpy::{ColumnValue, NumpyDtype};
use crate::precheck;
use crate::remote_read;
use crate::runtime::{self, CancelToken};
use crate::selection::{coordinates, DimSpec, Selection};
use crate::store::{normalize_node_path, PrefetchGuard, Rooted, Storage, Store};

mod ranges;
pub use ranges::Piece;

type ZArrayInner = Array<dyn ReadableWritableListableStorageTraits>;

/// One decoded field of a record read: its name and values.
pub type RecordColumn = (String, TypedVec);

/// Values handed to a write.
#[derive(Debug)]
pub enum WriteValue<'a> {
    /// Little-endian element bytes, C order, exactly as many as the selection.
    Bytes(&'a [u8]),
    /// Strings, C order, exactly as many as the selection.
    Strings(Vec<String>),
    /// Byte strings (`bytes` arrays), C order, exactly as many as the selection.
    Binary(Vec<Vec<u8>>),
    /// One value broadcast to the whole selection (JSON: number, bool, string, `"NaN"`, decimal
    /// string for 64-bit integers).
    Scalar(Value),
}

/// Storage statistics of one array (`ZArray.info()`).
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayInfo {
    /// Uncompressed size (`None` for strings).
    pub nbytes: Option<u64>,
    /// Bytes stored under the array prefix (metadata included).
    pub nbytes_stored: u64,
    /// Stored chunk (or shard) objects.
    pub chunks_initialized: u64,
    /// Chunks (or shards) in the grid.
    pub chunks_total: u64,
}

/// An open array. Cheap to share; metadata changes (resize, attributes) take a write lock.
pub struct ZArray {
    store: Store,
    path: String,
    /// Element type of decoded buffers (for records: raw bytes).
    dtype: DType,
    /// Set for numpy dtypes read through raw bytes (see [`crate::numpy`]).
    numpy: Option<RawView>,
    inner: RwLock<Inner>,
}

/// A numpy dtype zarrs sees as raw bits, and the metadata members that the rewrite replaced
/// (put back whenever metadata is shown or stored).
struct RawView {
    dtype: NumpyDtype,
    /// `dtype` (v2) or `data_type` (v3) as stored.
    data_type: Value,
    /// `fill_value` as stored.
    fill_value: Value,
}

/// Members of the metadata document that hold the data type.
fn data_type_key(doc: &Value) -> &'static str {
    if doc.get("zarr_format").and_then(Value::as_u64) == Some(2) {
        "dtype"
    } else {
        "data_type"
    }
}

/// Whether a v3 document's `bytes` codec (top level or inside sharding) is big-endian.
fn v3_big_endian(doc: &Value) -> bool {
    fn find(codecs: Option<&Value>) -> bool {
        codecs.and_then(Value::as_array).is_some_and(|list| {
            list.iter().any(|c| {
                (c.get("name").and_then(Value::as_str) == Some("bytes")
                    && c.pointer("/configuration/endian").and_then(Value::as_str) == Some("big"))
                    || find(c.pointer("/configuration/codecs"))
            })
        })
    }
    find(doc.get("codecs"))
}

/// When `meta` has a numpy dtype zarrs cannot represent, rewrite its data type to raw bits of the
/// same item size (fill value as those bytes), so zarrs' codec pipeline reads and writes the
/// element bytes unchanged.
fn raw_view(meta: ArrayMetadata, path: &str) -> Result<(ArrayMetadata, Option<RawView>)> {
    let mut doc = serde_json::to_value(&meta)?;
    let key = data_type_key(&doc);
    let data_type = doc.get(key).cloned().unwrap_or(Value::Null);
    let parsed = if key == "dtype" {
        NumpyDtype::from_v2(&data_type, path)?
    } else {
        NumpyDtype::from_v3(&data_type, v3_big_endian(&doc), path)?
    };
    let Some(dtype) = parsed else {
        return Ok((meta, None));
    };
    let fill_value = doc.get("fill_value").cloned().unwrap_or(Value::Null);
    let fill = dtype.fill_bytes(&fill_value, path)?;
    let size = dtype.itemsize();
    if key == "dtype" {
        doc[key] = Value::String(format!("|V{size}"));
    } else {
        doc[key] = Value::String(format!("r{}", size * 8));
    }
    doc["fill_value"] = fill.into_iter().map(Value::from).collect();
    let meta = serde_json::from_value(doc).map_err(|e| {
        Error::invalid_metadata(format!("'{path}': cannot read {}: {e}", dtype.describe()))
            .with_key(path.to_string())
    })?;
    Ok((
        meta,
        Some(RawView {
            dtype,
            data_type,
            fill_value,
        }),
    ))
}

struct Inner {
    array: ZArrayInner,
    shard_cache: ArrayShardedReadableExtCache,
    /// Shards whose index `shard_cache` holds (object stores prefetch the others).
    indexed: Mutex<HashSet<Vec<u64>>>,
    /// Shards whose index passed [`precheck`] (zarrs trusts index entries).
    shard_checks: precheck::ShardChecks,
}

impl Inner {
    fn new(array: ZArrayInner) -> Self {
        let shard_cache = ArrayShardedReadableExtCache::new(&array);
        Self {
            array,
            shard_cache,
            indexed: Mutex::default(),
            shard_checks: precheck::ShardChecks::default(),
        }
    }

    fn clear_shard_cache(&self) {
        self.shard_cache.clear();
        if let Ok(mut seen) = self.indexed.lock() {
            seen.clear();
        }
    }

    /// Object stores: fetch what decoding these inner chunks needs, batched (see
    /// [`remote_read`]).
    /// The shard indexes are checked (see [`precheck::ShardChecks`]) after they are fetched, from
    /// the fetched bytes; an array this cannot prefetch for is checked on its own.
    fn prefetch(&self, store: &Store, subchunks: &[Vec<u64>]) -> Result<PrefetchGuard> {
        let check = || {
            self.shard_checks
                .check_subchunks(store, &self.array, subchunks)
        };
        let checked = std::cell::Cell::new(false);
        let guard = remote_read::prefetch_subchunks(
            store,
            &self.array,
            &self.shard_cache,
            &self.indexed,
            subchunks,
            &|| {
                checked.set(true);
                check()
            },
        )?;
        if !checked.get() {
            check()?;
        }
        Ok(guard)
    }
}

pub(crate) fn lock_err() -> Error {
    Error::new(ErrorCode::Internal, "array lock poisoned")
}

fn zarrs_path(path: &str) -> String {
    format!("/{path}")
}

impl ZArray {
    /// Open the array at `path` (metadata read from the store).
    ///
    /// # Errors
    /// [`ErrorCode::NotFound`] when there is no array there, [`ErrorCode::InvalidMetadata`] /
    /// [`ErrorCode::Unsupported`] for metadata zarrs rejects.
    pub fn open(store: &Store, path: &str) -> Result<Self> {
        Self::open_format(store, path, None)
    }

    /// [`open`](Self::open) reading only the metadata of `format` (2: `.zarray`, 3:
    /// `zarr.json`); `None` prefers v3 when a path holds both.
    ///
    /// # Errors
    /// As [`open`](Self::open); [`ErrorCode::InvalidInput`] for a format other than 2 or 3.
    pub fn open_format(store: &Store, path: &str, format: Option<u8>) -> Result<Self> {
        let path = normalize_node_path(path)?;
        if let Some(f) = format.filter(|f| !matches!(f, 2 | 3)) {
            return Err(
                Error::invalid_input(format!("zarrFormat must be 2 or 3, got {f}")).with_key(path),
            );
        }
        let raw = node::read_raw_format(store, &path, format)?;
        match raw.map(|r| r.parse(&path)).transpose()? {
            Some(node::NodeMeta::Array(meta)) => Self::from_metadata(store, &path, *meta),
            Some(node::NodeMeta::Group { .. }) => Err(Error::not_found(
                path.clone(),
                format!("'{path}' is a group, not an array"),
            )),
            // A store may hold both formats: a missing one is just absent, not an orphan.
            None => Err(match format {
                Some(f) => {
                    Error::not_found(path.clone(), format!("no zarr v{f} array at '{path}'"))
                }
                None => node::missing_node_error(store, &path, format!("no array at '{path}'")),
            }),
        }
    }

    /// Build a handle from already-read metadata (e.g. consolidated metadata: no request).
    ///
    /// # Errors
    /// Metadata zarrs rejects.
    pub fn from_metadata(store: &Store, path: &str, meta: ArrayMetadata) -> Result<Self> {
        let storage = store.storage()?;
        let meta = node::normalize_array_metadata(meta);
        precheck::install();
        // Dtypes zarrs lacks (records, fixed-length strings, datetimes) open as raw bytes.
        let (meta, numpy) = raw_view(meta, path)?;
        // zarrs refuses `__`-prefixed node names (reserved in v3); v2 stores have them
        // (anndata <= 0.7's `__categories`): open those at the root of a view below the path.
        let reserved = path.split('/').any(|s| s.starts_with("__"));
        let array = if reserved && matches!(meta, ArrayMetadata::V2(_)) {
            let rooted: Storage = Arc::new(Rooted::new(storage, path));
            Array::new_with_metadata(rooted, "/", meta)
        } else {
            Array::new_with_metadata(storage, &zarrs_path(path), meta)
        }
        .map_err(|e| Error::from(e).naming(path))?;
        let elem = array.data_type().fixed_size().unwrap_or(1) as u64;
        precheck::array_metadata(path, array.metadata(), elem)?;
        let dtype = match numpy.as_ref().map(|n| &n.dtype) {
            Some(NumpyDtype::Scalar(s)) => s.column_dtype(),
            Some(NumpyDtype::Record(_)) => DType::UInt8,
            None => DType::from_zarrs(array.data_type()).map_err(|e| e.naming(path))?,
        };
        Ok(Self {
            store: store.clone(),
            path: path.to_string(),
            dtype,
            numpy,
            inner: RwLock::new(Inner::new(array)),
        })
    }

    /// Create an array (metadata written immediately; no chunks).
    ///
    /// # Errors
    /// Invalid options, an existing node without `overwrite`, or storage failures.
    pub fn create(store: &Store, path: &str, opts: &CreateArrayOptions) -> Result<Self> {
        let path = normalize_node_path(path)?;
        store.check_writable(&path)?;
        let (format, mut meta) = build_array_metadata(opts).map_err(|e| e.naming(&path))?;
        if format == 2 {
            crate::numpy::prepare_v2(&mut meta, &path)?;
        }
        let meta: ArrayMetadata = serde_json::from_value(meta).map_err(|e| {
            Error::invalid_input(format!("cannot build metadata: {e}")).with_key(path.clone())
        })?;
        let mut write = MetadataWrite::begin(store, &path, format)?;
        let parents = node::prepare_new_node(
            store,
            &path,
            opts.overwrite.unwrap_or(false),
            format,
            &mut write.seen,
        )?;
        let arr = Self::from_metadata(store, &path, meta)?;
        arr.store_metadata_inner(write, &parents, true)?;
        Ok(arr)
    }

    /// Zarr format (2 or 3) of the array's metadata.
    ///
    /// # Errors
    /// Closed store.
    pub fn zarr_format(&self) -> Result<u8> {
        self.with(|i| {
            Ok(if matches!(i.array.metadata(), ArrayMetadata::V2(_)) {
                2
            } else {
                3
            })
        })
    }

    fn store_metadata(&self) -> Result<()> {
        let write = MetadataWrite::begin(&self.store, &self.path, self.zarr_format()?)?;
        self.store_metadata_inner(write, &[], false)
    }

    /// Write the metadata document(s) ourselves (not zarrs' `store_metadata`) so they are
    /// spelled exactly as the reference writes them; v2 always gets a `.zattrs`, as in
    /// zarr-python.
    fn store_metadata_inner(
        &self,
        write: MetadataWrite,
        parents: &[(String, RawNode)],
        recreated: bool,
    ) -> Result<()> {
        let mut doc = self.metadata_json()?;
        let raw = if self.zarr_format()? == 3 {
            crate::metadata::normalize_codecs(&mut doc);
            node::put_json(
                &self.store,
                &crate::store::join(&self.path, "zarr.json"),
                &doc,
            )?;
            RawNode::V3(doc)
        } else {
            let (doc, attrs) = crate::metadata::v2_array_documents(doc);
            node::put_json(
                &self.store,
                &crate::store::join(&self.path, ".zarray"),
                &doc,
            )?;
            node::put_json(
                &self.store,
                &crate::store::join(&self.path, ".zattrs"),
                &attrs,
            )?;
            RawNode::V2 {
                name: ".zarray",
                doc,
                attrs: Some(attrs),
            }
        };
        write.finish(&self.store, &raw, parents, recreated)
    }

    /// Node path (no leading `/`).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The store it lives in.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Element type of decoded buffers (`Int64` for datetimes, `String` for fixed-length
    /// strings, raw `UInt8` for records).
    #[must_use]
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The public data type name: the [`DType`] name, or `'record'`, `'datetime64'`,
    /// `'timedelta64'` for numpy dtypes read through raw bytes.
    #[must_use]
    pub fn dtype_name(&self) -> &'static str {
        self.numpy
            .as_ref()
            .map_or_else(|| self.dtype.name(), |n| n.dtype.public_name())
    }

    /// The numpy dtype, for arrays read through raw bytes (records, fixed-length strings,
    /// datetimes).
    #[must_use]
    pub fn numpy_dtype(&self) -> Option<&NumpyDtype> {
        self.numpy.as_ref().map(|n| &n.dtype)
    }

    /// Bytes of one stored element as the read and write paths move them.
    fn elem_size(&self) -> usize {
        self.numpy
            .as_ref()
            .map_or_else(|| self.dtype.size().unwrap_or(1), |n| n.dtype.itemsize())
    }

    /// A zeroed output buffer for `n` stored elements (raw bytes for numpy dtypes).
    fn alloc(&self, n: usize) -> Result<TypedVec> {
        match &self.numpy {
            Some(_) => TypedVec::zeroed(DType::UInt8, n * self.elem_size()),
            None => TypedVec::zeroed(self.dtype, n),
        }
    }

    fn record_fields(&self) -> Result<&[crate::numpy::Field]> {
        match self.numpy_dtype() {
            Some(NumpyDtype::Record(fields)) => Ok(fields),
            _ => Err(Error::invalid_input(format!(
                "'{}' is not a record array (its dtype is {})",
                self.path,
                self.dtype_name()
            ))
            .with_key(self.path.clone())),
        }
    }

    fn not_records(&self) -> Result<()> {
        if matches!(self.numpy_dtype(), Some(NumpyDtype::Record(_))) {
            return Err(Error::invalid_input(format!(
                "'{}' is a record array: read and write it by fields (getRecords / setRecords)",
                self.path
            ))
            .with_key(self.path.clone()));
        }
        Ok(())
    }

    /// Raw element bytes -> the column of a plain numpy-dtype array.
    fn decode_scalar(&self, raw: TypedVec) -> Result<TypedVec> {
        match self.numpy_dtype() {
            Some(NumpyDtype::Scalar(s)) => {
                let bytes = raw.bytes().unwrap_or_default();
                s.decode(bytes, s.size(), 0)
                    .map_err(|e| e.with_key(self.path.clone()))
            }
            _ => Ok(raw),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&Inner) -> Result<T>) -> Result<T> {
        self.store.check_open()?;
        let inner = self.inner.read().map_err(|_| lock_err())?;
        f(&inner)
    }

    /// Current shape.
    ///
    /// # Errors
    /// Closed store.
    pub fn shape(&self) -> Result<Vec<u64>> {
        self.with(|i| Ok(i.array.shape().to_vec()))
    }

    /// Metadata as JSON (`zarr.json`, or `.zarray` + `attributes` for v2).
    ///
    /// # Errors
    /// Closed store.
    pub fn metadata_json(&self) -> Result<Value> {
        self.with(|i| {
            let mut doc = serde_json::to_value(i.array.metadata())?;
            crate::metadata::normalize_codecs(&mut doc);
            if let Some(raw) = &self.numpy {
                let key = data_type_key(&doc);
                doc[key] = raw.data_type.clone();
                doc["fill_value"] = raw.fill_value.clone();
            } else if doc.get("dtype").and_then(Value::as_str) == Some(crate::numpy::V2_BYTES) {
                // v2 bytes are `|O` on disk (zarr-python), filled with no bytes
                doc["dtype"] = Value::from("|O");
                doc["fill_value"] = Value::from("");
            }
            Ok(doc)
        })
    }

    /// Inner chunk shape (the chunk shape when unsharded).
    ///
    /// # Errors
    /// Closed store.
    pub fn chunks(&self) -> Result<Vec<u64>> {
        self.with(|i| {
            Ok(match i.array.subchunk_shape() {
                Some(s) => s.iter().map(|n| n.get()).collect(),
                None => self.grid_chunk_shape(&i.array)?,
            })
        })
    }

    /// Shard shape, or `None` when unsharded.
    ///
    /// # Errors
    /// Closed store.
    pub fn shards(&self) -> Result<Option<Vec<u64>>> {
        self.with(|i| {
            if i.array.is_sharded() {
                Ok(Some(self.grid_chunk_shape(&i.array)?))
            } else {
                Ok(None)
            }
        })
    }

    fn grid_chunk_shape(&self, array: &ZArrayInner) -> Result<Vec<u64>> {
        let zero = vec![0u64; array.dimensionality()];
        if array.shape().contains(&0) {
            // The grid has no chunk to ask; read the shape from the metadata instead.
            let meta = serde_json::to_value(array.metadata())?;
            let c = meta
                .pointer("/chunk_grid/configuration/chunk_shape")
                .or_else(|| meta.get("chunks"))
                .cloned()
                .unwrap_or(Value::Null);
            return Ok(serde_json::from_value(c)?);
        }
        Ok(array
            .chunk_shape(&zero)
            .map_err(|e| Error::from(e).with_key(self.path.clone()))?
            .iter()
            .map(|n| n.get())
            .collect())
    }

    fn unit_shape(array: &ZArrayInner) -> Result<Vec<u64>> {
        if let Some(s) = array.subchunk_shape() {
            return Ok(s.iter().map(|n| n.get()).collect());
        }
        let zero = vec![0u64; array.dimensionality()];
        Ok(array.chunk_shape(&zero)?.iter().map(|n| n.get()).collect())
    }

    fn options() -> CodecOptions {
        let mut o = CodecOptions::default();
        o.set_concurrent_target(runtime::threads());
        o
    }

    fn check_alloc(&self, n: u64) -> Result<usize> {
        let elem = match &self.numpy {
            Some(raw) => raw.dtype.itemsize(),
            None => self.dtype.nominal_size(),
        } as u64;
        let bytes = n.checked_mul(elem);
        let limit = crate::max_alloc_bytes();
        match bytes {
            Some(b) if b <= limit => usize::try_from(n).map_err(|_| self.too_big(n, limit)),
            _ => Err(self.too_big(n, limit)),
        }
    }

    fn too_big(&self, n: u64, limit: u64) -> Error {
        Error::invalid_input(format!(
            "selection of {n} {} elements exceeds the allocation limit of {limit} bytes",
            self.dtype_name()
        ))
        .with_key(self.path.clone())
    }

    // ----------------------------------------------------------------------------- reads

    /// Basic selection (integers, slices with steps, `All`). Returns data and output shape.
    ///
    /// # Errors
    /// Selection, codec and storage errors, [`ErrorCode::Aborted`] when cancelled.
    pub fn get(&self, specs: &[DimSpec], cancel: &CancelToken) -> Result<(TypedVec, Vec<u64>)> {
        self.get_selection(specs, false, cancel)
    }

    /// Basic selection of a record array: one column per field, in field order.
    ///
    /// # Errors
    /// As [`get`](Self::get); [`ErrorCode::InvalidInput`] when the array is not a record array.
    pub fn get_records(
        &self,
        specs: &[DimSpec],
        cancel: &CancelToken,
    ) -> Result<(Vec<RecordColumn>, Vec<u64>)> {
        let fields = self.record_fields()?;
        let (raw, shape) = self.read_selection(specs, false, cancel)?;
        let bytes = raw.bytes().unwrap_or_default();
        let stride = self.elem_size();
        let columns = fields
            .iter()
            .map(|f| {
                let col = f.scalar.decode(bytes, stride, f.offset).map_err(|e| {
                    Error::new(e.code, format!("field '{}': {}", f.name, e.message))
                        .with_key(self.path.clone())
                })?;
                Ok((f.name.clone(), col))
            })
            .collect::<Result<_>>()?;
        Ok((columns, shape))
    }

    /// Orthogonal selection (index lists and masks allowed per dimension).
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn get_orthogonal(
        &self,
        specs: &[DimSpec],
        cancel: &CancelToken,
    ) -> Result<(TypedVec, Vec<u64>)> {
        self.get_selection(specs, true, cancel)
    }

    fn get_selection(
        &self,
        specs: &[DimSpec],
        orthogonal: bool,
        cancel: &CancelToken,
    ) -> Result<(TypedVec, Vec<u64>)> {
        self.not_records()?;
        let (raw, shape) = self.read_selection(specs, orthogonal, cancel)?;
        Ok((self.decode_scalar(raw)?, shape))
    }

    /// Read a selection as stored elements (raw bytes for numpy dtypes).
    fn read_selection(
        &self,
        specs: &[DimSpec],
        orthogonal: bool,
        cancel: &CancelToken,
    ) -> Result<(TypedVec, Vec<u64>)> {
        cancel.check()?;
        self.with(|inner| {
            let shape = inner.array.shape().to_vec();
            let sel = Selection::new(specs, &shape, orthogonal)
                .map_err(|e| e.with_key(self.path.clone()))?;
            let n = sel.num_elements().unwrap_or(u64::MAX);
            let n = self.check_alloc(n)?;
            let out_shape = sel.output_shape();
            let data = runtime::run(|| match sel.as_region() {
                Some((start, region)) => self.read_region(inner, &start, &region, n, cancel),
                None => self.gather_orthogonal(inner, &sel, n, cancel),
            })
            .map_err(|e| e.with_key(self.path.clone()))?;
            Ok((data, out_shape))
        })
    }

    /// Point selection: `coords[d]` holds indices along dimension `d`; output is 1-D.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn get_coordinates(
        &self,
        coords: &[Vec<i64>],
        cancel: &CancelToken,
    ) -> Result<(TypedVec, Vec<u64>)> {
        cancel.check()?;
        self.not_records()?;
        self.with(|inner| {
            let shape = inner.array.shape().to_vec();
            let points = coordinates(coords, &shape).map_err(|e| e.with_key(self.path.clone()))?;
            let n = self.check_alloc(points.len() as u64)?;
            let data = runtime::run(|| self.gather_points(inner, &points, n, cancel))
                .map_err(|e| e.with_key(self.path.clone()))?;
            Ok((self.decode_scalar(data)?, vec![n as u64]))
        })
    }

    /// Split `start..start+len` along dimension 0 into slabs aligned to the chunk grid, each
    /// holding about `16 x threads` chunks, so cancellation is checked often without starving
    /// the pool. Without a cancellable token the region is one slab: no barriers at all.
    fn slabs(
        array: &ZArrayInner,
        start: &[u64],
        region: &[u64],
        cancel: &CancelToken,
    ) -> Result<Vec<(u64, u64)>> {
        if region.is_empty() || region[0] == 0 || !cancel.is_cancellable() {
            return Ok(vec![(0, region.first().copied().unwrap_or(1))]);
        }
        let zero = vec![0u64; array.dimensionality()];
        let chunk = array.chunk_shape(&zero)?;
        let c0 = chunk[0].get();
        let per_row: u64 = region
            .iter()
            .zip(chunk.iter())
            .skip(1)
            .map(|(r, c)| r.div_ceil(c.get()).max(1))
            .product();
        let rows_per_slab = ((runtime::threads() as u64 * 16).div_ceil(per_row.max(1))).max(1);
        let mut out = Vec::new();
        let end = start[0] + region[0];
        let mut s = start[0];
        while s < end {
            // Next chunk boundary `rows_per_slab` chunk rows ahead.
            let boundary = (s / c0 + rows_per_slab) * c0;
            let e = boundary.min(end);
            out.push((s - start[0], e - s));
            s = e;
        }
        Ok(out)
    }

    /// Slabs as `(start, shape, byte_lo, byte_hi)`: the region of each slab and its byte range
    /// in a C-order buffer of the whole region (slabs split dimension 0, so ranges are contiguous).
    fn slab_parts(
        array: &ZArrayInner,
        start: &[u64],
        region: &[u64],
        elem: usize,
        cancel: &CancelToken,
    ) -> Result<Vec<Slab>> {
        if start.is_empty() {
            return Ok(vec![(vec![], vec![], 0, elem)]);
        }
        let row_bytes = usize::try_from(region.iter().skip(1).product::<u64>())
            .map_err(|_| Error::invalid_input("region too large"))?
            * elem;
        Ok(Self::slabs(array, start, region, cancel)?
            .into_iter()
            .map(|(off, len)| {
                let mut s = start.to_vec();
                let mut r = region.to_vec();
                s[0] += off;
                r[0] = len;
                let lo = off as usize * row_bytes;
                (s, r, lo, lo + len as usize * row_bytes)
            })
            .collect())
    }

    fn covers_whole_chunks(array: &ZArrayInner, subset: &ArraySubset) -> Result<bool> {
        let Some(chunks) = array.chunks_in_array_subset(subset)? else {
            return Ok(false);
        };
        Ok(&array.chunks_subset_bounded(&chunks)? == subset)
    }

    fn read_region(
        &self,
        inner: &Inner,
        start: &[u64],
        region: &[u64],
        n: usize,
        cancel: &CancelToken,
    ) -> Result<TypedVec> {
        let array = &inner.array;
        let opts = Self::options();
        let mut out = self.alloc(n)?;
        if n == 0 {
            return Ok(out);
        }
        let subset = ArraySubset::new_with_start_shape(start.to_vec(), region.to_vec())
            .map_err(|e| Error::invalid_selection(e.to_string()))?;
        let whole = Self::covers_whole_chunks(array, &subset)?;
        let sharded_partial = inner.shard_cache.array_is_sharded() && !whole;
        // Remote partial reads check the shard indexes inside the prefetch (from its bytes).
        let _prefetched = if sharded_partial && self.store.is_remote() {
            let subchunks =
                remote_read::subchunks_of_region(start, region, &Self::unit_shape(array)?);
            inner.prefetch(&self.store, &subchunks)?
        } else {
            inner
                .shard_checks
                .check_subset(&self.store, array, &subset)?;
            PrefetchGuard::none()
        };

        match &mut out {
            TypedVec::String(v) => {
                *v = Self::read_var(inner, &subset, sharded_partial, &opts)?;
                return Ok(out);
            }
            TypedVec::Bytes(v) => {
                *v = Self::read_var(inner, &subset, sharded_partial, &opts)?;
                return Ok(out);
            }
            _ => {}
        }
        let elem = self.elem_size();
        let bytes = out
            .bytes_mut()
            .ok_or_else(|| Error::new(ErrorCode::Internal, "fixed buffer expected"))?;
        if sharded_partial {
            // Partial shard reads: cached shard indexes, only the needed inner chunks decoded.
            let decoded: ArrayBytes =
                array.retrieve_array_subset_sharded_opt(&inner.shard_cache, &subset, &opts)?;
            let decoded = decoded
                .into_fixed()
                .map_err(|e| Error::new(ErrorCode::Codec, e.to_string()))?;
            bytes.copy_from_slice(&decoded);
            return Ok(out);
        }
        for (s, r, lo, hi) in Self::slab_parts(array, start, region, elem, cancel)? {
            cancel.check()?;
            let slab = &mut bytes[lo..hi];
            let slab_subset = ArraySubset::new_with_start_shape(s, r.clone())
                .map_err(|e| Error::invalid_selection(e.to_string()))?;
            let mut view = unsafe {
                // SAFETY: one view over the whole slab buffer; nothing else aliases it.
                ArrayBytesFixedDisjointView::new(
                    UnsafeCellSlice::new(slab),
                    elem,
                    &r,
                    ArraySubset::new_with_shape(r.clone()),
                )
            }
            .map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
            array.retrieve_array_subset_into_opt(&slab_subset, (&mut view).into(), &opts)?;
        }
        Ok(out)
    }

    /// Variable-length elements (strings, byte strings) of a region.
    fn read_var<T: ElementOwned>(
        inner: &Inner,
        subset: &ArraySubset,
        sharded_partial: bool,
        opts: &CodecOptions,
    ) -> Result<Vec<T>> {
        Ok(if sharded_partial {
            inner.array.retrieve_array_subset_sharded_opt::<Vec<T>>(
                &inner.shard_cache,
                subset,
                opts,
            )?
        } else {
            inner
                .array
                .retrieve_array_subset_opt::<Vec<T>>(subset, opts)?
        })
    }

    /// Decode the bounding box `bbox` (array coordinates) with the shard-index cache.
    fn read_bbox(
        &self,
        inner: &Inner,
        bbox: &ArraySubset,
        opts: &CodecOptions,
    ) -> Result<ArrayBytes<'static>> {
        inner
            .shard_checks
            .check_subset(&self.store, &inner.array, bbox)?;
        Ok(inner
            .array
            .retrieve_array_subset_sharded_opt(&inner.shard_cache, bbox, opts)?)
    }

    fn gather_orthogonal(
        &self,
        inner: &Inner,
        sel: &Selection,
        n: usize,
        cancel: &CancelToken,
    ) -> Result<TypedVec> {
        let mut out = self.alloc(n)?;
        // One unit of work per touched inner chunk, decoded once.
        let unit = Self::unit_shape(&inner.array)?;
        let plan = GridPlan::new(sel, &unit);
        let cells = plan.cells();
        let _prefetched = if self.store.is_remote() {
            let subchunks: Vec<Vec<u64>> = cells
                .iter()
                .map(|c| c.lo.iter().zip(&unit).map(|(l, u)| l / u).collect())
                .collect();
            inner.prefetch(&self.store, &subchunks)?
        } else {
            PrefetchGuard::none()
        };
        let opts = Self::options();
        // SAFETY: `GridPlan::new` puts each selected position of a dimension in exactly one
        // grid cell of that dimension, and a `Cell` is one combination of a cell per
        // dimension, so each output position tuple (hence each C-order output index, the
        // strides being those of the full output shape) is in exactly one `Cell`; positions
        // are below the selection's lengths, so indices are below `n`, the size of `out`.
        unsafe {
            fill_from_units(
                &mut out,
                self.elem_size(),
                &cells,
                |cell| {
                    cancel.check()?;
                    self.read_bbox(inner, &cell.subset()?, &opts)
                },
                |cell, f| cell.for_each_pair(&plan.out_strides, f),
            )?;
        }
        Ok(out)
    }

    fn gather_points(
        &self,
        inner: &Inner,
        points: &[Vec<u64>],
        n: usize,
        cancel: &CancelToken,
    ) -> Result<TypedVec> {
        let mut out = self.alloc(n)?;
        let unit = Self::unit_shape(&inner.array)?;
        let mut groups: HashMap<Vec<u64>, Vec<usize>> = HashMap::new();
        for (i, p) in points.iter().enumerate() {
            groups
                .entry(p.iter().zip(&unit).map(|(a, u)| a / u).collect())
                .or_default()
                .push(i);
        }
        let _prefetched = if self.store.is_remote() {
            inner.prefetch(&self.store, &groups.keys().cloned().collect::<Vec<_>>())?
        } else {
            PrefetchGuard::none()
        };
        // Per inner chunk: the bounding box of its points and (output, in-box) index pairs.
        let units = groups
            .into_values()
            .map(|g| {
                let ndim = unit.len();
                let lo: Vec<u64> = (0..ndim)
                    .map(|d| g.iter().map(|&i| points[i][d]).min().unwrap_or(0))
                    .collect();
                let shape: Vec<u64> = (0..ndim)
                    .map(|d| g.iter().map(|&i| points[i][d]).max().unwrap_or(0) + 1 - lo[d])
                    .collect();
                let strides = c_strides(&shape);
                let pairs = g
                    .iter()
                    .map(|&i| {
                        (
                            i,
                            (0..ndim)
                                .map(|d| (points[i][d] - lo[d]) * strides[d])
                                .sum::<u64>() as usize,
                        )
                    })
                    .collect::<Vec<_>>();
                let bbox = ArraySubset::new_with_start_shape(lo, shape)
                    .map_err(|e| Error::invalid_selection(e.to_string()))?;
                Ok((bbox, pairs))
            })
            .collect::<Result<Vec<_>>>()?;
        let opts = Self::options();
        // SAFETY: each point index `i` was pushed into exactly one group above, a unit's
        // pairs are that group's points, and `i < points.len() == n`, the size of `out`.
        unsafe {
            fill_from_units(
                &mut out,
                self.elem_size(),
                &units,
                |(bbox, _)| {
                    cancel.check()?;
                    self.read_bbox(inner, bbox, &opts)
                },
                |(_, pairs), f| pairs.iter().for_each(|&(o, s)| f(o, s)),
            )?;
        }
        Ok(out)
    }

    // ---------------------------------------------------------------------------- writes

    /// Write `value` into a basic selection (integers, slices with steps).
    ///
    /// # Errors
    /// Read-only stores, selection errors, wrong value length or type, codec/storage errors.
    pub fn set(
        &self,
        specs: &[DimSpec],
        value: WriteValue<'_>,
        cancel: &CancelToken,
    ) -> Result<()> {
        self.write_selection(specs, cancel, |n| self.materialize(value, n))
    }

    /// Write the value `make(n)` builds for the `n` elements of a basic selection.
    fn write_selection<'a>(
        &self,
        specs: &[DimSpec],
        cancel: &CancelToken,
        make: impl FnOnce(usize) -> Result<Materialized<'a>>,
    ) -> Result<()> {
        cancel.check()?;
        self.store.check_writable(&self.path)?;
        let result = self.with(|inner| {
            let shape = inner.array.shape().to_vec();
            let sel = Selection::new(specs, &shape, false)?;
            let n = sel.num_elements().unwrap_or(u64::MAX);
            let n = self.check_alloc(n)?;
            let value = make(n)?;
            runtime::run(|| match sel.as_region() {
                Some((start, region)) => self.write_region(inner, &start, &region, value, cancel),
                None => self.scatter(inner, &sel, value, cancel),
            })
        });
        // Decoded shard indexes may now be stale.
        if let Ok(inner) = self.inner.read() {
            inner.clear_shard_cache();
        }
        result.map_err(|e| e.with_key(self.path.clone()))
    }

    /// Write one column per field into a basic selection of a record array. Every field must
    /// be given exactly once: numbers and times as little-endian element bytes, fixed-length
    /// strings as strings.
    ///
    /// # Errors
    /// As [`set`](Self::set); [`ErrorCode::InvalidInput`] for missing, unknown or ill-sized
    /// fields and strings longer than their field.
    pub fn set_records(
        &self,
        specs: &[DimSpec],
        columns: &[(String, ColumnValue<'_>)],
        cancel: &CancelToken,
    ) -> Result<()> {
        let fields = self.record_fields()?;
        if let Some((name, _)) = columns
            .iter()
            .find(|(name, _)| !fields.iter().any(|f| &f.name == name))
        {
            return Err(
                Error::invalid_input(format!("'{}' has no field '{name}'", self.path))
                    .with_key(self.path.clone()),
            );
        }
        let stride = self.elem_size();
        self.write_selection(specs, cancel, |n| {
            let mut raw = vec![0u8; n * stride];
            for f in fields {
                let mut given = columns.iter().filter(|(name, _)| name == &f.name);
                let (Some((_, value)), None) = (given.next(), given.next()) else {
                    return Err(Error::invalid_input(format!(
                        "field '{}' must be given exactly once",
                        f.name
                    )));
                };
                f.scalar
                    .encode(*value, &mut raw, stride, f.offset)
                    .map_err(|e| {
                        Error::new(e.code, format!("field '{}': {}", f.name, e.message))
                    })?;
            }
            Ok(Materialized::Bytes(std::borrow::Cow::Owned(raw)))
        })
    }

    /// Check the value against the selection size and turn scalars into full buffers.
    fn materialize<'a>(&self, value: WriteValue<'a>, n: usize) -> Result<Materialized<'a>> {
        if let Some(raw) = &self.numpy {
            self.not_records()?;
            let NumpyDtype::Scalar(s) = &raw.dtype else {
                return Err(Error::new(ErrorCode::Internal, "record dtype"));
            };
            let size = s.size();
            let bytes = match value {
                WriteValue::Scalar(v) => s.json_bytes(&v)?.repeat(n),
                WriteValue::Strings(v) => {
                    let mut out = vec![0u8; n * size];
                    s.encode(ColumnValue::Strings(&v), &mut out, size, 0)?;
                    out
                }
                WriteValue::Bytes(b) => {
                    let mut out = vec![0u8; n * size];
                    s.encode(ColumnValue::Bytes(b), &mut out, size, 0)?;
                    out
                }
                WriteValue::Binary(_) => {
                    return Err(Error::invalid_input(format!(
                        "byte strings cannot be written to a {} array",
                        s.numpy()
                    )))
                }
            };
            return Ok(Materialized::Bytes(std::borrow::Cow::Owned(bytes)));
        }
        match (value, self.dtype) {
            (WriteValue::Strings(s), DType::String) => {
                Ok(Materialized::Strings(exactly(s, n, "strings")?))
            }
            (WriteValue::Strings(_), dt) => Err(Error::invalid_input(format!(
                "strings cannot be written to a {} array",
                dt.name()
            ))),
            (WriteValue::Binary(b), DType::Bytes) => {
                Ok(Materialized::Binary(exactly(b, n, "byte strings")?))
            }
            (WriteValue::Binary(_), dt) => Err(Error::invalid_input(format!(
                "byte strings cannot be written to a {} array",
                dt.name()
            ))),
            (WriteValue::Bytes(_) | WriteValue::Scalar(_), DType::Bytes) => Err(
                Error::invalid_input("a bytes array needs byte-string values (Uint8Array[])"),
            ),
            (WriteValue::Bytes(_), DType::String) => Err(Error::invalid_input(
                "a string array needs string values, not a TypedArray",
            )),
            (WriteValue::Bytes(b), dt) => {
                let elem = dt.size().unwrap_or(1);
                if b.len() != n * elem {
                    return Err(Error::invalid_input(format!(
                        "expected {n} {} elements ({} bytes), got {} bytes",
                        dt.name(),
                        n * elem,
                        b.len()
                    )));
                }
                Ok(Materialized::Bytes(std::borrow::Cow::Borrowed(b)))
            }
            (WriteValue::Scalar(v), DType::String) => match v {
                Value::String(s) => Ok(Materialized::Strings(vec![s; n])),
                other => Err(Error::invalid_input(format!("{other} is not a string"))),
            },
            (WriteValue::Scalar(v), dt) => {
                let one = crate::scalar::scalar_bytes(dt, &v)?;
                Ok(Materialized::Bytes(std::borrow::Cow::Owned(one.repeat(n))))
            }
        }
    }

    fn region_subset(start: &[u64], region: &[u64]) -> Result<ArraySubset> {
        ArraySubset::new_with_start_shape(start.to_vec(), region.to_vec())
            .map_err(|e| Error::invalid_selection(e.to_string()))
    }

    fn write_region(
        &self,
        inner: &Inner,
        start: &[u64],
        region: &[u64],
        value: Materialized<'_>,
        cancel: &CancelToken,
    ) -> Result<()> {
        let array = &inner.array;
        let opts = Self::options();
        if region.contains(&0) {
            return Ok(());
        }
        // Partly written shards are read, modified and rewritten: check their indexes first.
        // A write of whole shards reads nothing, so it needs no check (and costs no request).
        let written = ArraySubset::new_with_start_shape(start.to_vec(), region.to_vec())
            .map_err(|e| Error::invalid_selection(e.to_string()))?;
        if !Self::covers_whole_chunks(array, &written)? {
            inner
                .shard_checks
                .check_subset(&self.store, array, &written)?;
        }
        match value {
            Materialized::Strings(s) => {
                array.store_array_subset_opt(&Self::region_subset(start, region)?, s, &opts)?;
            }
            Materialized::Binary(b) => {
                array.store_array_subset_opt(&Self::region_subset(start, region)?, b, &opts)?;
            }
            Materialized::Bytes(bytes) => {
                let elem = self.elem_size();
                for (s, r, lo, hi) in Self::slab_parts(array, start, region, elem, cancel)? {
                    cancel.check()?;
                    let subset = ArraySubset::new_with_start_shape(s, r)
                        .map_err(|e| Error::invalid_selection(e.to_string()))?;
                    array.store_array_subset_opt(
                        &subset,
                        ArrayBytes::new_flen(&bytes[lo..hi]),
                        &opts,
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Strided writes: group by stored chunk (shard), read-modify-write each once, in parallel.
    fn scatter(
        &self,
        inner: &Inner,
        sel: &Selection,
        value: Materialized<'_>,
        cancel: &CancelToken,
    ) -> Result<()> {
        let array = &inner.array;
        let zero = vec![0u64; array.dimensionality()];
        let chunk: Vec<u64> = array.chunk_shape(&zero)?.iter().map(|c| c.get()).collect();
        // One read-modify-write per stored chunk (shard); cells never share a chunk.
        let plan = GridPlan::new(sel, &chunk);
        let opts = Self::options();
        let elem = if self.numpy.is_some() {
            Some(self.elem_size())
        } else {
            self.dtype.size()
        };
        plan.cells().par_iter().try_for_each(|cell| {
            cancel.check()?;
            let bbox = cell.subset()?;
            inner.shard_checks.check_subset(&self.store, array, &bbox)?;
            let mut pairs = Vec::new();
            cell.for_each_pair(&plan.out_strides, |i, s| pairs.push((i, s)));
            match (&value, elem) {
                (Materialized::Strings(vals), _) => {
                    rewrite_var(array, &bbox, &pairs, vals, &opts)?;
                }
                (Materialized::Binary(vals), _) => {
                    rewrite_var(array, &bbox, &pairs, vals, &opts)?;
                }
                (Materialized::Bytes(vals), Some(elem)) => {
                    let cur: ArrayBytes = array.retrieve_array_subset_opt(&bbox, &opts)?;
                    let mut cur = cur.into_fixed().map_err(codec_err)?.into_owned();
                    for (i, s) in pairs {
                        cur[s * elem..(s + 1) * elem]
                            .copy_from_slice(&vals[i * elem..(i + 1) * elem]);
                    }
                    array.store_array_subset_opt(&bbox, ArrayBytes::new_flen(cur), &opts)?;
                }
                (Materialized::Bytes(_), None) => {
                    return Err(Error::new(ErrorCode::Internal, "element size unknown"))
                }
            }
            Ok(())
        })
    }

    // -------------------------------------------------------------------------- metadata

    /// Replace the user attributes.
    ///
    /// # Errors
    /// Read-only store or storage failure.
    pub fn set_attributes(&self, attrs: serde_json::Map<String, Value>) -> Result<()> {
        self.store.check_writable(&self.path)?;
        {
            let mut inner = self.inner.write().map_err(|_| lock_err())?;
            *inner.array.attributes_mut() = attrs;
        }
        self.store_metadata()
    }

    /// Change the shape. Chunks entirely outside the new shape are deleted.
    ///
    /// # Errors
    /// Read-only store, a shape of the wrong dimensionality, or storage failure.
    pub fn resize(&self, new_shape: Vec<u64>) -> Result<()> {
        self.store.check_writable(&self.path)?;
        let old_chunks = {
            let mut inner = self.inner.write().map_err(|_| lock_err())?;
            if new_shape.len() != inner.array.dimensionality() {
                return Err(Error::invalid_input(format!(
                    "new shape {new_shape:?} has {} dimensions, the array has {}",
                    new_shape.len(),
                    inner.array.dimensionality()
                ))
                .with_key(self.path.clone()));
            }
            let chunk = self.grid_chunk_shape(&inner.array)?;
            inner
                .array
                .set_shape(new_shape.clone())
                .map_err(|e| Error::from(e).with_key(self.path.clone()))?;
            inner.shard_cache = ArrayShardedReadableExtCache::new(&inner.array);
            inner.indexed = Mutex::default();
            chunk
        };
        self.store_metadata()?;
        self.delete_chunks_outside(&new_shape, &old_chunks)
    }

    /// Erase the stored chunks (shards) that lie wholly outside `shape`. A listed key counts as
    /// a chunk only if the array's own chunk key encoding maps its grid indices back to exactly
    /// that key, so every encoding (v3 default or v2, `/` or `.`) is handled and no foreign
    /// object is touched.
    fn delete_chunks_outside(&self, shape: &[u64], chunk: &[u64]) -> Result<()> {
        let storage = self.store.storage()?;
        let prefix = if self.path.is_empty() {
            String::new()
        } else {
            format!("{}/", self.path)
        };
        let keys = self.store.list(&self.path)?;
        let stale: Vec<String> = self.with(|i| {
            Ok(keys
                .into_iter()
                .filter(|key| {
                    let Some(idx) = key.strip_prefix(&prefix).and_then(|rel| {
                        chunk_indices_candidate(rel).filter(|idx| idx.len() == shape.len())
                    }) else {
                        return false;
                    };
                    i.array.chunk_key(&idx).as_str() == key
                        && idx
                            .iter()
                            .zip(chunk)
                            .zip(shape)
                            .any(|((&g, &c), &s)| g.saturating_mul(c) >= s)
                })
                .collect())
        })?;
        for key in stale {
            let k = StoreKey::new(key.clone()).map_err(|e| Error::invalid_input(e.to_string()))?;
            storage
                .erase(&k)
                .map_err(|e| Error::from(e).with_key(key.clone()))?;
        }
        Ok(())
    }

    /// Append along `axis`: grow the shape and write `value` (shaped `value_shape`) at the end.
    ///
    /// # Errors
    /// Shape mismatch, read-only store, or write errors.
    pub fn append(
        &self,
        value: WriteValue<'_>,
        value_shape: &[u64],
        axis: usize,
        cancel: &CancelToken,
    ) -> Result<Vec<u64>> {
        let shape = self.shape()?;
        if axis >= shape.len() || value_shape.len() != shape.len() {
            return Err(Error::invalid_input(format!(
                "cannot append data of shape {value_shape:?} along axis {axis} to an array of shape {shape:?}"
            ))
            .with_key(self.path.clone()));
        }
        if let Some(d) = (0..shape.len()).find(|&d| d != axis && shape[d] != value_shape[d]) {
            return Err(Error::invalid_input(format!(
                "appended data has length {} in dimension {d}, the array has {}",
                value_shape[d], shape[d]
            ))
            .with_key(self.path.clone()));
        }
        let mut new_shape = shape.clone();
        new_shape[axis] += value_shape[axis];
        self.resize(new_shape.clone())?;
        let specs: Vec<DimSpec> = (0..shape.len())
            .map(|d| {
                if d == axis {
                    DimSpec::Slice {
                        start: Some(shape[d] as i64),
                        stop: None,
                        step: None,
                    }
                } else {
                    DimSpec::All
                }
            })
            .collect();
        self.set(&specs, value, cancel)?;
        Ok(new_shape)
    }

    /// Sizes and chunk counts.
    ///
    /// # Errors
    /// Storage failure.
    pub fn info(&self) -> Result<ArrayInfo> {
        let shape = self.shape()?;
        let grid = self.with(|i| Ok(i.array.chunk_grid_shape().to_vec()))?;
        let keys = self.store.list(&self.path)?;
        let storage = self.store.storage()?;
        let mut stored = 0u64;
        let mut chunks = 0u64;
        for key in &keys {
            let k = StoreKey::new(key.clone()).map_err(|e| Error::invalid_input(e.to_string()))?;
            stored += storage.size_key(&k)?.unwrap_or(0);
            let name = key.rsplit('/').next().unwrap_or_default();
            if !(name == "zarr.json" || name.starts_with(".z")) {
                chunks += 1;
            }
        }
        let n: Option<u64> = shape.iter().try_fold(1u64, |a, &b| a.checked_mul(b));
        Ok(ArrayInfo {
            nbytes: self
                .numpy
                .as_ref()
                .map(|n| n.dtype.itemsize())
                .or_else(|| self.dtype.size())
                .and_then(|s| n.and_then(|n| n.checked_mul(s as u64))),
            nbytes_stored: stored,
            chunks_initialized: chunks,
            chunks_total: grid.iter().product(),
        })
    }
}

enum Materialized<'a> {
    Bytes(std::borrow::Cow<'a, [u8]>),
    Strings(Vec<String>),
    Binary(Vec<Vec<u8>>),
}

/// `values` when it holds exactly `n` elements (`what` names them in the error).
fn exactly<T>(values: Vec<T>, n: usize, what: &str) -> Result<Vec<T>> {
    if values.len() != n {
        return Err(Error::invalid_input(format!(
            "expected {n} {what}, got {}",
            values.len()
        )));
    }
    Ok(values)
}

/// Read-modify-write of variable-length elements in `bbox`: `pairs` maps value index -> index
/// within the box.
fn rewrite_var<T: ElementOwned + Element + Clone>(
    array: &ZArrayInner,
    bbox: &ArraySubset,
    pairs: &[(usize, usize)],
    vals: &[T],
    opts: &CodecOptions,
) -> Result<()> {
    let mut cur: Vec<T> = array.retrieve_array_subset_opt(bbox, opts)?;
    for &(i, s) in pairs {
        cur[s].clone_from(&vals[i]);
    }
    array.store_array_subset_opt(bbox, cur, opts)?;
    Ok(())
}

/// Variable-length elements as decoded from zarrs' offsets + bytes.
trait VarElem: Send {
    fn from_slice(b: &[u8]) -> Self;
}

impl VarElem for String {
    fn from_slice(b: &[u8]) -> Self {
        String::from_utf8_lossy(b).into_owned()
    }
}

impl VarElem for Vec<u8> {
    fn from_slice(b: &[u8]) -> Self {
        b.to_vec()
    }
}

/// The variable-length arm of [`fill_from_units`].
fn fill_var_from_units<U: Sync, T: VarElem>(
    out: &mut [T],
    units: &[U],
    decode: impl Fn(&U) -> Result<ArrayBytes<'static>> + Sync,
    pairs: impl Fn(&U, &mut dyn FnMut(usize, usize)) + Sync,
) -> Result<()> {
    let parts: Vec<Vec<(usize, T)>> = units
        .par_iter()
        .map(|u| {
            let (data, offsets) = decode(u)?.into_variable().map_err(codec_err)?.into_parts();
            let mut v = Vec::new();
            pairs(u, &mut |o, s| {
                v.push((o, T::from_slice(&data[offsets[s]..offsets[s + 1]])));
            });
            Ok(v)
        })
        .collect::<Result<_>>()?;
    for (o, s) in parts.into_iter().flatten() {
        out[o] = s;
    }
    Ok(())
}

/// Shared handle type used by the binding.
pub type ZArrayRef = Arc<ZArray>;

/// Decode every unit in parallel and copy its elements into `out`: `pairs(unit, f)` calls
/// `f(output index, index within the decoded unit)`.
///
/// # Safety
/// The caller guarantees that every output index `pairs` yields belongs to exactly one unit
/// (no two units yield the same index) and is below the number of elements of `out`. The
/// units are copied in parallel through one shared view of `out`, so an index yielded by two
/// units would be two threads writing the same bytes. (An index out of bounds panics rather
/// than writes; debug builds also panic on an index yielded twice.)
unsafe fn fill_from_units<U: Sync>(
    out: &mut TypedVec,
    elem: usize,
    units: &[U],
    decode: impl Fn(&U) -> Result<ArrayBytes<'static>> + Sync,
    pairs: impl Fn(&U, &mut dyn FnMut(usize, usize)) + Sync,
) -> Result<()> {
    match out {
        TypedVec::String(v) => return fill_var_from_units(v, units, decode, pairs),
        TypedVec::Bytes(v) => return fill_var_from_units(v, units, decode, pairs),
        _ => {}
    }
    let Some(bytes) = out.bytes_mut() else {
        return Err(Error::new(ErrorCode::Internal, "fixed buffer expected"));
    };
    #[cfg(debug_assertions)]
    let claimed: Vec<std::sync::atomic::AtomicBool> = (0..bytes.len() / elem.max(1))
        .map(|_| std::sync::atomic::AtomicBool::new(false))
        .collect();
    let target = UnsafeCellSlice::new(bytes);
    units.par_iter().try_for_each(|u| {
        let decoded = decode(u)?.into_fixed().map_err(codec_err)?;
        pairs(u, &mut |o, s| {
            #[cfg(debug_assertions)]
            assert!(
                !claimed[o].swap(true, std::sync::atomic::Ordering::Relaxed),
                "output index {o} yielded twice"
            );
            // SAFETY: `o` is yielded by this unit only (this function's contract), so no
            // other thread touches these bytes; `index_mut` checks the bounds.
            let dst = unsafe { target.index_mut(o * elem..(o + 1) * elem) };
            dst.copy_from_slice(&decoded[s * elem..(s + 1) * elem]);
        });
        Ok::<_, Error>(())
    })
}

/// A slab of a region: its start, its shape, and its byte range in a C-order buffer of the
/// whole region.
type Slab = (Vec<u64>, Vec<u64>, usize, usize);

/// Grid indices a chunk key relative to its array could stand for (`c/1/2`, `c.1.2`, `1.2`,
/// `1/2`); the caller confirms them against the array's chunk key encoding.
fn chunk_indices_candidate(rel: &str) -> Option<Vec<u64>> {
    let rel = rel
        .strip_prefix("c/")
        .or_else(|| rel.strip_prefix("c."))
        .unwrap_or(rel);
    rel.split(['/', '.'])
        .map(|p| p.parse::<u64>().ok())
        .collect()
}

fn codec_err(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::Codec, e.to_string())
}

/// An orthogonal selection split by a regular grid (inner chunks for reads, stored chunks for
/// writes): per dimension, grid cell -> `[(output position, source index)]`.
struct GridPlan {
    groups: Vec<BTreeMap<u64, Vec<(u64, u64)>>>,
    /// Strides of the (undropped) output, C order.
    out_strides: Vec<u64>,
}

/// The selected points of one grid cell: per dimension its `(output, source)` pairs, and the
/// bounding box of the sources.
struct Cell<'a> {
    lists: Vec<&'a [(u64, u64)]>,
    lo: Vec<u64>,
    shape: Vec<u64>,
}

impl GridPlan {
    fn new(sel: &Selection, cell_shape: &[u64]) -> Self {
        let groups = sel
            .dims
            .iter()
            .zip(cell_shape)
            .map(|(d, &u)| {
                let mut m: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
                for i in 0..d.len() {
                    let src = d.source(i);
                    m.entry(src / u).or_default().push((i, src));
                }
                m
            })
            .collect();
        let full = sel.full_shape();
        Self {
            groups,
            out_strides: c_strides(&full),
        }
    }

    /// Every combination of touched cells.
    fn cells(&self) -> Vec<Cell<'_>> {
        let mut cells: Vec<Vec<&[(u64, u64)]>> = vec![vec![]];
        for g in &self.groups {
            cells = cells
                .into_iter()
                .flat_map(|c| {
                    g.values().map(move |l| {
                        let mut c = c.clone();
                        c.push(l.as_slice());
                        c
                    })
                })
                .collect();
        }
        cells
            .into_iter()
            .map(|lists| {
                let lo: Vec<u64> = lists
                    .iter()
                    .map(|l| l.iter().map(|p| p.1).min().unwrap_or(0))
                    .collect();
                let shape = lists
                    .iter()
                    .zip(&lo)
                    .map(|(l, lo)| l.iter().map(|p| p.1).max().unwrap_or(0) + 1 - lo)
                    .collect();
                Cell { lists, lo, shape }
            })
            .collect()
    }
}

impl Cell<'_> {
    fn subset(&self) -> Result<ArraySubset> {
        ArraySubset::new_with_start_shape(self.lo.clone(), self.shape.clone())
            .map_err(|e| Error::invalid_selection(e.to_string()))
    }

    /// Call `f(output linear index, linear index within the bounding box)` for every point.
    fn for_each_pair(&self, out_strides: &[u64], mut f: impl FnMut(usize, usize)) {
        let ndim = self.lists.len();
        let box_strides = c_strides(&self.shape);
        let mut idx = vec![0usize; ndim];
        loop {
            let (mut o, mut s) = (0u64, 0u64);
            for d in 0..ndim {
                let (op, src) = self.lists[d][idx[d]];
                o += op * out_strides[d];
                s += (src - self.lo[d]) * box_strides[d];
            }
            f(o as usize, s as usize);
            // Odometer increment, last dimension fastest.
            let mut d = ndim;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < self.lists[d].len() {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
}

fn c_strides(shape: &[u64]) -> Vec<u64> {
    let mut strides = vec![1u64; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    strides
}
