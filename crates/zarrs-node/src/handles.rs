//! The classes the TypeScript layer wraps: store, array, group and cancel handles. Each method
//! converts arguments on the JS thread, then runs the core call as one libuv task.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{json, Map, Value};
use zarrs_node_core as core;
use zarrs_node_core::{CancelToken, Store, ZArray, ZGroup};

use crate::job::{job, sync, Job};
use crate::marshal::{
    dims, int, to_chunk, to_specs, uint, uint_usize, NativeChunk, NativeDimSel, NativeValue,
    OwnedValue,
};
use crate::records::{
    as_columns, owned_columns, to_native_dtype, to_records, NativeNumpyDtype, NativeRecordValue,
    NativeRecords,
};

fn parse_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> core::Result<T> {
    serde_json::from_str(s).map_err(|e| core::Error::invalid_input(format!("invalid {what}: {e}")))
}

pub(crate) fn token(c: Option<&NativeCancel>) -> CancelToken {
    c.map_or_else(CancelToken::never, |c| c.token.clone())
}

/// Cancellation handle: the TypeScript layer calls `cancel()` when an `AbortSignal` fires.
#[napi]
pub struct NativeCancel {
    token: CancelToken,
}

#[napi]
impl NativeCancel {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self {
            token: CancelToken::new(),
        }
    }

    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
    }
}

impl Default for NativeCancel {
    fn default() -> Self {
        Self::new()
    }
}

/// Request and byte counters.
#[napi(object)]
pub struct NativeStats {
    pub requests: f64,
    pub bytes_read: f64,
    pub bytes_written: f64,
}

#[napi]
pub struct NativeStore {
    pub(crate) inner: Store,
}

#[napi]
impl NativeStore {
    /// Open a location. Local and memory stores do no I/O here.
    #[napi(factory)]
    pub fn open(location: String, options_json: Option<String>) -> Result<Self> {
        sync(|| {
            let o = match options_json {
                Some(json) => core::StoreOptions::from_json(&json)?,
                None => core::StoreOptions::default(),
            };
            Ok(Self {
                inner: Store::open(&location, &o)?,
            })
        })
    }

    #[napi(getter)]
    pub fn location(&self) -> String {
        self.inner.location().to_string()
    }

    #[napi(getter)]
    pub fn read_only(&self) -> bool {
        self.inner.read_only()
    }

    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub fn get(&self, key: String) -> AsyncTask<Job<Option<Buffer>>> {
        let s = self.inner.clone();
        job(move || Ok(s.get(&key)?.map(Buffer::from)))
    }

    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub fn get_range(
        &self,
        key: String,
        offset: f64,
        length: Option<f64>,
    ) -> Result<AsyncTask<Job<Option<Buffer>>>> {
        let (offset, length) = sync(|| {
            Ok((
                uint(offset, "offset")?,
                length.map(|l| uint(l, "length")).transpose()?,
            ))
        })?;
        let s = self.inner.clone();
        Ok(job(move || {
            Ok(s.get_range(&key, offset, length)?.map(Buffer::from))
        }))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn set(&self, key: String, value: Uint8Array) -> AsyncTask<Job<()>> {
        let s = self.inner.clone();
        job(move || s.set(&key, value.to_vec()))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete(&self, key: String) -> AsyncTask<Job<()>> {
        let s = self.inner.clone();
        job(move || s.delete(&key))
    }

    /// Delete every key under the node path `prefix` (directories too, on local stores).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete_prefix(&self, prefix: String) -> AsyncTask<Job<()>> {
        let s = self.inner.clone();
        job(move || s.delete_prefix(&prefix))
    }

    #[napi(ts_return_type = "Promise<string[]>")]
    pub fn list(&self, prefix: Option<String>) -> AsyncTask<Job<Vec<String>>> {
        let s = self.inner.clone();
        job(move || s.list(prefix.as_deref().unwrap_or("")))
    }

    /// Remove temporary files killed writers left (local directories); how many were removed.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn sweep_temporaries(&self) -> AsyncTask<Job<f64>> {
        let s = self.inner.clone();
        job(move || s.sweep_temporaries().map(|n| n as f64))
    }

    #[napi]
    pub fn stats(&self) -> NativeStats {
        let st = self.inner.stats();
        NativeStats {
            requests: st.requests as f64,
            bytes_read: st.bytes_read as f64,
            bytes_written: st.bytes_written as f64,
        }
    }

    #[napi]
    pub fn reset_stats(&self) {
        self.inner.reset_stats();
    }

    #[napi]
    pub fn close(&self) {
        self.inner.close();
    }
}

fn describe_array(a: &ZArray) -> core::Result<String> {
    let meta = a.metadata_json()?;
    let format = a.zarr_format()?;
    Ok(json!({
        "path": a.path(),
        "shape": a.shape()?,
        "dtype": a.dtype_name(),
        "chunks": a.chunks()?,
        "shards": a.shards()?,
        "zarrFormat": format,
        "metadata": meta,
    })
    .to_string())
}

#[napi]
pub struct NativeArray {
    pub(crate) inner: Arc<ZArray>,
}

impl NativeArray {
    fn new(a: ZArray) -> Self {
        Self { inner: Arc::new(a) }
    }
}

#[napi]
impl NativeArray {
    /// JSON: path, shape, dtype, chunks, shards, zarrFormat, metadata.
    #[napi]
    pub fn describe(&self) -> Result<String> {
        sync(|| describe_array(&self.inner))
    }

    /// The numpy dtype of arrays read through raw bytes (records, fixed-length strings,
    /// datetimes); null otherwise.
    #[napi]
    pub fn numpy_dtype(&self) -> Option<NativeNumpyDtype> {
        self.inner.numpy_dtype().map(to_native_dtype)
    }

    /// Basic selection of a record array, one column per field.
    #[napi(ts_return_type = "Promise<NativeRecords>")]
    pub fn get_records(
        &self,
        selection: Option<Vec<NativeDimSel>>,
        cancel: Option<&NativeCancel>,
    ) -> Result<AsyncTask<Job<NativeRecords>>> {
        let specs = sync(|| to_specs(selection))?;
        let (a, c) = (self.inner.clone(), token(cancel));
        Ok(job(move || {
            a.get_records(&specs, &c).map(|(d, s)| to_records(d, s))
        }))
    }

    /// Write every field of a record array in a basic selection.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn set_records(
        &self,
        selection: Option<Vec<NativeDimSel>>,
        fields: Vec<NativeRecordValue>,
        cancel: Option<&NativeCancel>,
    ) -> Result<AsyncTask<Job<()>>> {
        let (specs, owned) = sync(|| Ok((to_specs(selection)?, owned_columns(fields)?)))?;
        let (a, c) = (self.inner.clone(), token(cancel));
        Ok(job(move || a.set_records(&specs, &as_columns(&owned), &c)))
    }

    #[napi(ts_return_type = "Promise<NativeChunk>")]
    pub fn get(
        &self,
        selection: Option<Vec<NativeDimSel>>,
        cancel: Option<&NativeCancel>,
    ) -> Result<AsyncTask<Job<NativeChunk>>> {
        let specs = sync(|| to_specs(selection))?;
        let (a, c) = (self.inner.clone(), token(cancel));
        Ok(job(move || a.get(&specs, &c).map(|(d, s)| to_chunk(d, s))))
    }

    #[napi]
    pub fn get_sync(&self, selection: Option<Vec<NativeDimSel>>) -> Result<NativeChunk> {
        sync(|| {
            let specs = to_specs(selection)?;
            self.inner
                .get(&specs, &CancelToken::new())
                .map(|(d, s)| to_chunk(d, s))
        })
    }

    #[napi(ts_return_type = "Promise<NativeChunk>")]
    pub fn get_orthogonal(
        &self,
        selection: Vec<NativeDimSel>,
        cancel: Option<&NativeCancel>,
    ) -> Result<AsyncTask<Job<NativeChunk>>> {
        let specs = sync(|| to_specs(Some(selection)))?;
        let (a, c) = (self.inner.clone(), token(cancel));
        Ok(job(move || {
            a.get_orthogonal(&specs, &c).map(|(d, s)| to_chunk(d, s))
        }))
    }

    /// `coords[d]` lists indices along dimension `d`.
    #[napi(ts_return_type = "Promise<NativeChunk>")]
    pub fn get_coordinates(
        &self,
        coords: Vec<Float64Array>,
        cancel: Option<&NativeCancel>,
    ) -> Result<AsyncTask<Job<NativeChunk>>> {
        let coords: Vec<Vec<i64>> = sync(|| {
            coords
                .iter()
                .map(|c| c.iter().map(|&v| int(v, "coordinate")).collect())
                .collect()
        })?;
        let (a, c) = (self.inner.clone(), token(cancel));
        Ok(job(move || {
            a.get_coordinates(&coords, &c).map(|(d, s)| to_chunk(d, s))
        }))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn set(
        &self,
        selection: Option<Vec<NativeDimSel>>,
        value: NativeValue,
        cancel: Option<&NativeCancel>,
    ) -> Result<AsyncTask<Job<()>>> {
        let (specs, mut value) =
            sync(|| Ok((to_specs(selection)?, OwnedValue::from_native(value)?)))?;
        let (a, c) = (self.inner.clone(), token(cancel));
        Ok(job(move || a.set(&specs, value.as_write(), &c)))
    }

    #[napi]
    pub fn set_sync(&self, selection: Option<Vec<NativeDimSel>>, value: NativeValue) -> Result<()> {
        sync(|| {
            let specs = to_specs(selection)?;
            let mut value = OwnedValue::from_native(value)?;
            self.inner
                .set(&specs, value.as_write(), &CancelToken::new())
        })
    }

    /// Resolves to the new `describe()` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn resize(&self, shape: Vec<f64>) -> Result<AsyncTask<Job<String>>> {
        let new_shape = sync(|| dims(&shape, "shape"))?;
        let a = self.inner.clone();
        Ok(job(move || {
            a.resize(new_shape)?;
            describe_array(&a)
        }))
    }

    /// Resolves to the new `describe()` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn append(
        &self,
        value: NativeValue,
        value_shape: Vec<f64>,
        axis: f64,
        cancel: Option<&NativeCancel>,
    ) -> Result<AsyncTask<Job<String>>> {
        let (mut value, value_shape, axis) = sync(|| {
            Ok((
                OwnedValue::from_native(value)?,
                dims(&value_shape, "value shape")?,
                uint_usize(axis, "axis")?,
            ))
        })?;
        let (a, c) = (self.inner.clone(), token(cancel));
        Ok(job(move || {
            a.append(value.as_write(), &value_shape, axis, &c)?;
            describe_array(&a)
        }))
    }

    /// Resolves to the new `describe()` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn set_attributes(&self, attrs_json: String) -> AsyncTask<Job<String>> {
        let a = self.inner.clone();
        job(move || {
            a.set_attributes(parse_json::<Map<String, Value>>(&attrs_json, "attributes")?)?;
            describe_array(&a)
        })
    }

    /// Resolves to JSON `{ nbytes, nbytesStored, chunksInitialized, chunksTotal }`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn info(&self) -> AsyncTask<Job<String>> {
        let a = self.inner.clone();
        job(move || {
            let i = a.info()?;
            Ok(json!({ "nbytes": i.nbytes, "nbytesStored": i.nbytes_stored, "chunksInitialized": i.chunks_initialized, "chunksTotal": i.chunks_total }).to_string())
        })
    }
}

/// JSON: path, zarrFormat, attributes, consolidated.
fn describe_group(g: &ZGroup) -> String {
    json!({ "path": g.path(), "zarrFormat": g.format(), "attributes": g.attributes(), "consolidated": g.is_consolidated() })
        .to_string()
}

#[napi]
pub struct NativeGroup {
    inner: Arc<Mutex<ZGroup>>,
}

impl NativeGroup {
    fn new(g: ZGroup) -> Self {
        Self {
            inner: Arc::new(Mutex::new(g)),
        }
    }
}

fn lock(g: &Mutex<ZGroup>) -> core::Result<std::sync::MutexGuard<'_, ZGroup>> {
    g.lock()
        .map_err(|_| core::Error::new(core::ErrorCode::Internal, "group lock poisoned"))
}

/// Options for creating a group.
#[napi(object)]
pub struct NativeGroupOptions {
    pub zarr_format: Option<f64>,
    pub attributes_json: Option<String>,
    pub overwrite: Option<bool>,
}

fn group_parts(
    o: Option<NativeGroupOptions>,
) -> core::Result<(Option<u8>, Map<String, Value>, bool)> {
    let Some(o) = o else {
        return Ok((None, Map::new(), false));
    };
    let attrs = match o.attributes_json {
        Some(j) => parse_json(&j, "attributes")?,
        None => Map::new(),
    };
    Ok((
        o.zarr_format.map(zarr_format).transpose()?,
        attrs,
        o.overwrite.unwrap_or(false),
    ))
}

/// `zarrFormat` from JS: 2 or 3, nothing else (no truncation of 2.5).
fn zarr_format(f: f64) -> core::Result<u8> {
    match uint(f, "zarrFormat") {
        Ok(2) => Ok(2),
        Ok(3) => Ok(3),
        _ => Err(core::Error::invalid_input(format!(
            "zarrFormat must be 2 or 3, got {f}"
        ))),
    }
}

/// Options of `createArray`, converted once into the core's options: shapes, names and flags
/// typed (numbers checked at the door); the free-form members (numpy dtype spec, codecs, fill
/// value, attributes) as JSON text, which keeps NaN and bigint fills and absent vs `null`
/// compressors apart.
#[napi(object)]
pub struct NativeCreateArrayOptions {
    pub shape: Vec<f64>,
    pub dtype: String,
    pub numpy_dtype_json: Option<String>,
    /// A shape or `'auto'`.
    pub chunks: Option<Either<Vec<f64>, String>>,
    /// A shape or `'auto'`.
    pub shards: Option<Either<Vec<f64>, String>>,
    /// Absent: the default compressor; `"null"`: none.
    pub compressors_json: Option<String>,
    pub filters_json: Option<String>,
    pub fill_value_json: Option<String>,
    pub attributes_json: Option<String>,
    pub dimension_names: Option<Vec<Option<String>>>,
    /// 2 or 3; the core refuses other integers, naming the array.
    pub zarr_format: Option<f64>,
    /// `'C' | 'F'`, v2 only; the core refuses anything else, naming the array.
    #[napi(ts_type = "'C' | 'F'")]
    pub order: Option<String>,
    pub overwrite: Option<bool>,
}

/// An integer `zarrFormat` as given (the core says which are valid, naming the array); a
/// fraction or a number beyond `u8` is refused here, never truncated.
fn format_number(f: f64) -> core::Result<u8> {
    uint(f, "zarrFormat")
        .ok()
        .and_then(|n| u8::try_from(n).ok())
        .ok_or_else(|| core::Error::invalid_input(format!("zarrFormat must be 2 or 3, got {f}")))
}

/// A JSON member where `null` means absent.
fn json_member<T: serde::de::DeserializeOwned>(
    s: Option<String>,
    what: &str,
) -> core::Result<Option<T>> {
    Ok(s.map(|j| parse_json::<Option<T>>(&j, what))
        .transpose()?
        .flatten())
}

fn shape_spec(
    s: Option<Either<Vec<f64>, String>>,
    what: &str,
) -> core::Result<Option<core::metadata::ShapeSpec>> {
    s.map(|s| match s {
        Either::A(shape) => dims(&shape, what).map(core::metadata::ShapeSpec::Shape),
        Either::B(auto) => Ok(core::metadata::ShapeSpec::Auto(auto)),
    })
    .transpose()
}

impl TryFrom<NativeCreateArrayOptions> for core::CreateArrayOptions {
    type Error = core::Error;

    fn try_from(o: NativeCreateArrayOptions) -> core::Result<Self> {
        Ok(Self {
            shape: dims(&o.shape, "shape")?,
            dtype: o.dtype,
            numpy_dtype: json_member(o.numpy_dtype_json, "numpyDtype")?,
            chunks: shape_spec(o.chunks, "chunks")?,
            shards: shape_spec(o.shards, "shards")?,
            // `null` stays: it asks for no compression.
            compressors: o
                .compressors_json
                .map(|j| parse_json(&j, "compressors"))
                .transpose()?,
            filters: json_member(o.filters_json, "filters")?,
            fill_value: json_member(o.fill_value_json, "fillValue")?,
            attributes: json_member(o.attributes_json, "attributes")?,
            dimension_names: o.dimension_names,
            zarr_format: o.zarr_format.map(format_number).transpose()?,
            overwrite: o.overwrite,
            order: o.order,
        })
    }
}

/// A group member.
#[napi(object)]
pub struct NativeMember {
    pub name: String,
    /// `'array' | 'group'`.
    pub kind: String,
}

#[napi]
impl NativeGroup {
    /// JSON: path, zarrFormat, attributes, consolidated.
    #[napi]
    pub fn describe(&self) -> Result<String> {
        sync(|| {
            let g = lock(&self.inner)?;
            Ok(describe_group(&g))
        })
    }

    #[napi(ts_return_type = "Promise<NativeMember[]>")]
    pub fn members(&self) -> AsyncTask<Job<Vec<NativeMember>>> {
        let g = self.inner.clone();
        job(move || {
            let g = lock(&g)?.clone();
            Ok(g.members()?
                .into_iter()
                .map(|m| NativeMember {
                    name: m.name,
                    kind: m.kind.as_str().to_string(),
                })
                .collect())
        })
    }

    /// JSON of a child's stored metadata (nothing built): kind, zarrFormat, attributes and
    /// the metadata document.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn member_metadata(&self, name: String) -> AsyncTask<Job<String>> {
        let g = self.inner.clone();
        job(move || {
            let raw = lock(&g)?.clone().member_metadata(&name)?;
            Ok(json!({
                "kind": raw.kind().as_str(),
                "zarrFormat": raw.format(),
                "attributes": raw.attributes(),
                "metadata": raw.document(),
            })
            .to_string())
        })
    }

    #[napi(ts_return_type = "Promise<NativeArray>")]
    pub fn open_array(&self, name: String) -> AsyncTask<Job<NativeArray>> {
        let g = self.inner.clone();
        job(move || Ok(NativeArray::new(lock(&g)?.clone().open_array(&name)?)))
    }

    #[napi(ts_return_type = "Promise<NativeGroup>")]
    pub fn open_group(&self, name: String) -> AsyncTask<Job<NativeGroup>> {
        let g = self.inner.clone();
        job(move || Ok(NativeGroup::new(lock(&g)?.clone().open_group(&name)?)))
    }

    #[napi(ts_return_type = "Promise<NativeArray>")]
    pub fn create_array(
        &self,
        name: String,
        options: NativeCreateArrayOptions,
    ) -> AsyncTask<Job<NativeArray>> {
        let g = self.inner.clone();
        job(move || {
            let opts = core::CreateArrayOptions::try_from(options)?;
            Ok(NativeArray::new(
                lock(&g)?.clone().create_array(&name, &opts)?,
            ))
        })
    }

    #[napi(ts_return_type = "Promise<NativeGroup>")]
    pub fn create_group(
        &self,
        name: String,
        options: Option<NativeGroupOptions>,
    ) -> Result<AsyncTask<Job<NativeGroup>>> {
        let (format, attrs, overwrite) = sync(|| group_parts(options))?;
        let g = self.inner.clone();
        Ok(job(move || {
            Ok(NativeGroup::new(
                lock(&g)?
                    .clone()
                    .create_group(&name, format, attrs, overwrite)?,
            ))
        }))
    }

    /// Resolves to the new `describe()` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn set_attributes(&self, attrs_json: String) -> AsyncTask<Job<String>> {
        let g = self.inner.clone();
        job(move || {
            let attrs = parse_json(&attrs_json, "attributes")?;
            let mut guard = lock(&g)?;
            guard.set_attributes(attrs)?;
            Ok(describe_group(&guard))
        })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn tree(&self) -> AsyncTask<Job<String>> {
        let g = self.inner.clone();
        job(move || lock(&g)?.clone().tree())
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn consolidate(&self) -> AsyncTask<Job<()>> {
        let g = self.inner.clone();
        job(move || lock(&g)?.consolidate())
    }

    /// The outermost group whose consolidated metadata a write of child `name` would make
    /// stale, or null.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn consolidated_above(&self, name: String) -> AsyncTask<Job<Option<String>>> {
        let g = self.inner.clone();
        job(move || {
            let g = lock(&g)?.clone();
            let path = core::store::join(g.path(), &name);
            core::consolidated::outermost_consolidated(g.store(), &path, g.format())
        })
    }
}

#[napi(ts_return_type = "Promise<NativeGroup>")]
pub fn open_group(
    store: &NativeStore,
    path: String,
    mode: Option<String>,
    consolidated: Option<String>,
    zarr_format: Option<f64>,
) -> Result<AsyncTask<Job<NativeGroup>>> {
    let (mode, cons, format) = sync(|| {
        Ok((
            core::Mode::parse(mode.as_deref().unwrap_or("r"))?,
            core::Consolidated::parse(consolidated.as_deref().unwrap_or("auto"))?,
            zarr_format.map(self::zarr_format).transpose()?,
        ))
    })?;
    let s = store.inner.clone();
    Ok(job(move || {
        Ok(NativeGroup::new(ZGroup::open_format(
            &s, &path, mode, cons, format,
        )?))
    }))
}

#[napi(ts_return_type = "Promise<NativeGroup>")]
pub fn create_group(
    store: &NativeStore,
    path: String,
    options: Option<NativeGroupOptions>,
) -> Result<AsyncTask<Job<NativeGroup>>> {
    let (format, attrs, overwrite) = sync(|| group_parts(options))?;
    let s = store.inner.clone();
    Ok(job(move || {
        Ok(NativeGroup::new(ZGroup::create(
            &s,
            &path,
            format.unwrap_or(3),
            attrs,
            overwrite,
        )?))
    }))
}

#[napi(ts_return_type = "Promise<NativeArray>")]
pub fn open_array(
    store: &NativeStore,
    path: String,
    zarr_format: Option<u32>,
) -> AsyncTask<Job<NativeArray>> {
    let s = store.inner.clone();
    job(move || {
        // Out-of-range numbers stay out of range (255 is rejected like 4).
        let format = zarr_format.map(|f| u8::try_from(f).unwrap_or(u8::MAX));
        Ok(NativeArray::new(ZArray::open_format(&s, &path, format)?))
    })
}

#[napi(ts_return_type = "Promise<NativeArray>")]
pub fn create_array(
    store: &NativeStore,
    path: String,
    options: NativeCreateArrayOptions,
) -> AsyncTask<Job<NativeArray>> {
    let s = store.inner.clone();
    job(move || {
        let opts = core::CreateArrayOptions::try_from(options)?;
        Ok(NativeArray::new(ZArray::create(&s, &path, &opts)?))
    })
}

#[napi(ts_return_type = "Promise<void>")]
pub fn consolidate_metadata(store: &NativeStore, path: Option<String>) -> AsyncTask<Job<()>> {
    let s = store.inner.clone();
    job(move || core::consolidate_metadata(&s, path.as_deref().unwrap_or("")))
}
