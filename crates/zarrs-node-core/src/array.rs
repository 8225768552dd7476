//! Arrays: the [`ZArray`] handle, open/create, metadata and small accessors. Each capability
//! has its own file, as zarrs splits its `Array` type: `read` (selections, gathers), `write`
//! (selections, records, scatters), `resize` (resize, append), `grid` (how selections meet the
//! chunk grid) and `ranges` (1-D range reads).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};

use serde_json::Value;
use zarrs::array::{
    Array, ArrayMetadata, ArrayShardedExt, ArrayShardedReadableExtCache, ArraySubset, CodecOptions,
};
use zarrs_storage::{ReadableWritableListableStorageTraits, StoreKey};

use crate::consolidated::MetadataWrite;
use crate::dtype::{DType, TypedVec};
use crate::error::{Error, ErrorCode, Result};
use crate::metadata::{build_array_metadata, CreateArrayOptions};
use crate::node::{self, RawNode};
use crate::numpy::NumpyDtype;
use crate::precheck;
use crate::remote_read;
use crate::runtime;
use crate::store::{normalize_node_path, PrefetchGuard, Rooted, Storage, Store};

mod check;
mod encode;
mod grid;
mod ranges;
mod read;
mod resize;
mod write;
pub use check::ObjectCheck;
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
    let fill_value = in_field_order(
        &dtype,
        doc.get("fill_value").cloned().unwrap_or(Value::Null),
    );
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

/// A record's fill value object with its members in field order. zarrs keeps an object fill
/// value in a `HashMap`, so without this the metadata written and shown would list the fields
/// in a different order from run to run (and two runs would not write the same bytes).
fn in_field_order(dtype: &NumpyDtype, fill: Value) -> Value {
    match (dtype, fill) {
        (NumpyDtype::Record(fields), Value::Object(mut members)) => {
            let mut ordered: serde_json::Map<String, Value> = fields
                .iter()
                .filter_map(|f| Some((f.name.clone(), members.remove(&f.name)?)))
                .collect();
            // Members that name no field (the fill check refuses those) keep their values.
            ordered.extend(members);
            Value::Object(ordered)
        }
        (_, fill) => fill,
    }
}

struct Inner {
    array: ZArrayInner,
    shard_cache: ArrayShardedReadableExtCache,
    /// Shards whose index `shard_cache` holds (object stores prefetch the others).
    indexed: Mutex<HashSet<Vec<u64>>>,
    /// Shards whose index passed [`precheck`] (zarrs trusts index entries).
    shard_checks: precheck::ShardChecks,
    /// The sharding codec when the array is exclusively sharded: reads of whole shards decode
    /// them here ([`ZArray::read_chunks_into`]).
    sharding: Option<Arc<grid::Sharding>>,
}

impl Inner {
    fn new(array: ZArrayInner) -> Self {
        let shard_cache = ArrayShardedReadableExtCache::new(&array);
        let sharding = grid::Sharding::of(&array);
        Self {
            array,
            shard_cache,
            indexed: Mutex::default(),
            shard_checks: precheck::ShardChecks::default(),
            sharding,
        }
    }

    /// The inner chunk shape (the chunk shape when unsharded): the unit reads decode. The
    /// inner chunk shape comes from the shard checks' copy: zarrs' `subchunk_shape` serialises
    /// and parses the codec's configuration on every call, several times a read.
    fn unit_shape(&self) -> Result<Vec<u64>> {
        match self.shard_checks.shapes(&self.array)? {
            Some((_, sub)) => Ok(sub.to_vec()),
            None => ZArray::grid_chunk_shape_of(&self.array),
        }
    }

    /// Forget every decoded and checked shard index: after a write or a resize they may be
    /// stale, and reads take inner chunks' byte ranges from them.
    fn clear_shard_cache(&self) {
        self.shard_cache.clear();
        if let Ok(mut seen) = self.indexed.lock() {
            seen.clear();
        }
        self.shard_checks.clear();
    }

    /// Object stores, reads of whole chunks (or shards): every object `subset` touches in one
    /// concurrent round of GETs, then the shard indexes checked from those bytes. Without it
    /// each shard cost a ranged read of its index and then a GET of the whole, one after the
    /// other, and the pool's threads bounded how many chunks were in flight.
    fn prefetch_objects(&self, store: &Store, subset: &ArraySubset) -> Result<PrefetchGuard> {
        let Some(chunks) = self.array.chunks_in_array_subset(subset)? else {
            return Ok(PrefetchGuard::none());
        };
        let indices: Vec<Vec<u64>> = chunks.indices().into_iter().map(|c| c.to_vec()).collect();
        let guard = remote_read::prefetch_objects(store, &self.array, &indices)?;
        self.shard_checks.check_subset(store, &self.array, subset)?;
        Ok(guard)
    }

    /// Object stores: fetch what decoding these inner chunks needs, batched (see
    /// [`remote_read`]).
    /// The shard indexes are checked (see [`precheck::ShardChecks`]) after they are fetched, from
    /// the fetched bytes; an array this cannot prefetch for is checked all the same.
    fn prefetch(&self, store: &Store, subchunks: &[Vec<u64>]) -> Result<PrefetchGuard> {
        // Unsharded, an inner chunk is a chunk: fetch the whole ones zarrs would read whole, as
        // many at once as a slab of a region read holds (more are left to zarrs, which fetches
        // them a pool thread at a time, so a scattered gather never holds every chunk it touches).
        if !self.array.is_sharded() {
            let whole = remote_read::reads_whole_chunks(&self.array)
                && subchunks.len() as u64 <= remote_read::SLAB_OBJECTS;
            return if whole {
                remote_read::prefetch_objects(store, &self.array, subchunks)
            } else {
                Ok(PrefetchGuard::none())
            };
        }
        remote_read::prefetch_subchunks(
            store,
            &self.array,
            &self.indexed,
            &self.shard_checks,
            subchunks,
        )
    }
}

pub(crate) fn lock_err() -> Error {
    Error::new(ErrorCode::Internal, "array lock poisoned")
}

fn zarrs_path(path: &str) -> String {
    format!("/{path}")
}

/// The largest unit (decoded bytes) a read decodes on the calling thread; see
/// `ZArray::reads_inline`.
const INLINE_UNIT_BYTES: u64 = 1 << 20;

/// The largest output a read on the calling thread returns; see `ZArray::reads_inline`.
const INLINE_OUTPUT_BYTES: u64 = 64 << 10;

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
        .map_err(|e| Error::from(e).naming(path))?
        .with_codec_specific_options(&deterministic_shards());
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

    /// The shape of the grid's first chunk (the shard when sharded).
    fn grid_chunk_shape_of(array: &ZArrayInner) -> Result<Vec<u64>> {
        let zero = vec![0u64; array.dimensionality()];
        Ok(array.chunk_shape(&zero)?.iter().map(|n| n.get()).collect())
    }

    fn options() -> CodecOptions {
        Self::options_for(runtime::threads())
    }

    /// Codec options for `concurrency` threads. A read on the calling thread takes 1, so zarrs'
    /// loops over inner chunks stay sequential there instead of reaching for rayon's global pool.
    fn options_for(concurrency: usize) -> CodecOptions {
        let mut o = CodecOptions::default();
        o.set_concurrent_target(concurrency);
        o
    }

    /// Whether a region read runs on the calling thread instead of the pool: a local store,
    /// fixed-size elements (zarrs decodes variable-length ones in parallel whatever the
    /// options), an output of at most [`INLINE_OUTPUT_BYTES`], and one unit (an inner chunk,
    /// or a chunk when unsharded) of at most [`INLINE_UNIT_BYTES`]. A 1-element read took
    /// 100 us through the pool against 9 us for zarrs alone: the hand-off, not the read.
    /// Bigger outputs still go to the pool, whose threads' memory is warm: reading 64^3 chunks
    /// one by one on the calling thread was 1.6-1.9x slower.
    fn reads_inline(&self, inner: &Inner, start: &[u64], region: &[u64], n: usize) -> Result<bool> {
        let small = (n as u64).saturating_mul(self.elem_size() as u64) <= INLINE_OUTPUT_BYTES;
        if !small || self.store.is_remote() || self.dtype.is_variable() {
            return Ok(false);
        }
        let unit = inner.unit_shape()?;
        let one_unit = remote_read::subchunks_of_region(start, region, &unit).len() == 1;
        let unit_bytes = unit
            .iter()
            .try_fold(self.elem_size() as u64, |a, &u| a.checked_mul(u));
        Ok(one_unit && unit_bytes.is_some_and(|b| b <= INLINE_UNIT_BYTES))
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

/// Inner chunks in C order inside each shard (zarrs' default is completion order, which
/// depends on thread timing): the same data then always encodes to the same shard bytes, so
/// a partitioned or resumed conversion is byte-identical to a single run.
fn deterministic_shards() -> zarrs::array::CodecSpecificOptions {
    use zarrs::array::codec::array_to_bytes::sharding::{ShardingCodecOptions, SubchunkWriteOrder};
    zarrs::array::CodecSpecificOptions::default().with_option(
        ShardingCodecOptions::default().with_subchunk_write_order(SubchunkWriteOrder::C),
    )
}

/// Shared handle type used by the binding.
pub type ZArrayRef = Arc<ZArray>;

fn codec_err(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::Codec, e.to_string())
}
