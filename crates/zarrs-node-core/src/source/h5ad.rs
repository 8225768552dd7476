//! The h5ad [`Source`]: HDF5 files read with the pure-Rust `rust-hdf5` crate (no libhdf5), so
//! the prebuilt addons need no C toolchain. gzip, shuffle and h5py's lzf are decoded by the
//! crate; every crate error becomes a typed [`Error`] naming the file and the HDF5 path.

use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use rust_hdf5::format::messages::filter::{FILTER_DEFLATE, FILTER_LZF, FILTER_SHUFFLE};
use rust_hdf5::{DatatypeMessage, H5Dataset, H5File, H5Type, Hdf5Error};
use serde_json::{Map, Value};

use super::{ArrayInfo, Child, ElementType, Field, NodeKind, Source};
use crate::dtype::{DType, TypedVec};
use crate::error::{Error, ErrorCode, Result};

/// An open .h5ad (any HDF5) file.
pub struct H5adSource {
    file: H5File,
    /// The same file through `hdf5-reader`, for attributes only (see [`attribute_json`]).
    attrs: hdf5_reader::Hdf5File,
    location: String,
}

impl std::fmt::Debug for H5adSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H5adSource")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Map a crate error to ours: absence stays `NotFound`, features the crate cannot decode are
/// `Unsupported`, the OS failing is `Storage`, and anything the decoder refused (a corrupt or
/// truncated file, a bad filter stream) is `InvalidMetadata`/`Codec`.
fn convert(err: Hdf5Error, location: &str, path: &str) -> Error {
    let code = match &err {
        Hdf5Error::NotFound(_) => ErrorCode::NotFound,
        Hdf5Error::Unsupported(_) | Hdf5Error::TypeMismatch(_) => ErrorCode::Unsupported,
        Hdf5Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            ErrorCode::InvalidMetadata
        }
        Hdf5Error::Io(_) | Hdf5Error::ExternalFileNotFound { .. } => ErrorCode::Storage,
        _ => {
            let text = err.to_string().to_ascii_lowercase();
            if [
                "filter",
                "inflate",
                "deflate",
                "lzf",
                "decompress",
                "shuffle",
            ]
            .iter()
            .any(|w| text.contains(w))
            {
                ErrorCode::Codec
            } else {
                ErrorCode::InvalidMetadata
            }
        }
    };
    Error::new(code, format!("{location}: {path}: {err}")).with_key(path)
}

impl H5adSource {
    /// Open `path` read-only. A file that is not HDF5, or whose superblock or root group is
    /// damaged, is `InvalidMetadata`; a missing file is `NotFound`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let location = path.as_ref().display().to_string();
        if !path.as_ref().is_file() {
            return Err(Error::not_found(
                location.clone(),
                format!("{location}: no such file"),
            ));
        }
        let file = guard(&location, "/", || H5File::open(path.as_ref()))?;
        let attrs = hdf5_reader::Hdf5File::open(path.as_ref()).map_err(|e| {
            Error::new(ErrorCode::InvalidMetadata, format!("{location}: {e}")).with_key("/")
        })?;
        Ok(Self {
            file,
            attrs,
            location,
        })
    }

    /// The fields of the record (compound) array at `path`, one column per field in field
    /// order: numbers and booleans as typed values, strings (variable- or fixed-length) as
    /// strings. Record arrays in h5ad are small `uns` tables (`rank_genes_groups`), read whole.
    ///
    /// # Errors
    /// `InvalidInput` when `path` is not a record array, `Unsupported` for member types other
    /// than numbers, booleans and strings, read errors as for [`Source::read_rows`].
    pub fn read_records(&self, path: &str) -> Result<Vec<(String, TypedVec)>> {
        use hdf5_reader::messages::datatype::{StringSize, VarLenKind};
        use hdf5_reader::{ByteOrder as Order, Datatype as T};
        let fail = |msg: String| Error::new(ErrorCode::InvalidMetadata, msg).with_key(path);
        let meta = self
            .attrs
            .dataset(path)
            .map_err(|e| fail(format!("{}: {path}: {e}", self.location)))?;
        let T::Compound { size, fields } = meta.dtype().clone() else {
            return Err(Error::invalid_input(format!(
                "{}: {path} is not a record array",
                self.location
            ))
            .with_key(path));
        };
        // rust-hdf5 decodes every filter h5py writes (lzf included); hdf5-reader only
        // resolves the global-heap references of variable-length strings.
        let ds = self.dataset(path)?;
        let raw = self.call(path, || ds.read_raw_bytes())?;
        let stride = size as usize;
        let n = raw.len().checked_div(stride).unwrap_or(0);
        let records = || raw.chunks_exact(stride.max(1)).take(n);
        let mut out = Vec::with_capacity(fields.len());
        for f in &fields {
            let at = f.byte_offset as usize;
            let unsupported = || {
                Error::unsupported(format!(
                    "{}: {path}: field '{}' has type {:?}",
                    self.location, f.name, f.datatype
                ))
                .with_key(path)
            };
            let elem = |r: &[u8], w: usize| -> Result<Vec<u8>> {
                r.get(at..at + w).map(<[u8]>::to_vec).ok_or_else(|| {
                    fail(format!(
                        "{}: {path}: field '{}' past the record",
                        self.location, f.name
                    ))
                })
            };
            let numbers = |w: usize, big: bool| -> Result<Vec<u8>> {
                let mut bytes = Vec::with_capacity(n * w);
                for r in records() {
                    let mut e = elem(r, w)?;
                    if big {
                        e.reverse();
                    }
                    bytes.extend_from_slice(&e);
                }
                Ok(bytes)
            };
            let column = match &f.datatype {
                T::FloatingPoint { size, byte_order } => {
                    let b = numbers(usize::from(*size), *byte_order == Order::BigEndian)?;
                    match size {
                        4 => TypedVec::Float32(bytemuck::pod_collect_to_vec(&b)),
                        8 => TypedVec::Float64(bytemuck::pod_collect_to_vec(&b)),
                        2 => TypedVec::Float16(bytemuck::pod_collect_to_vec(&b)),
                        _ => return Err(unsupported()),
                    }
                }
                T::FixedPoint {
                    size,
                    signed,
                    byte_order,
                } => {
                    let b = numbers(usize::from(*size), *byte_order == Order::BigEndian)?;
                    match (size, signed) {
                        (1, true) => TypedVec::Int8(bytemuck::pod_collect_to_vec(&b)),
                        (2, true) => TypedVec::Int16(bytemuck::pod_collect_to_vec(&b)),
                        (4, true) => TypedVec::Int32(bytemuck::pod_collect_to_vec(&b)),
                        (8, true) => TypedVec::Int64(bytemuck::pod_collect_to_vec(&b)),
                        (1, false) => TypedVec::UInt8(b),
                        (2, false) => TypedVec::UInt16(bytemuck::pod_collect_to_vec(&b)),
                        (4, false) => TypedVec::UInt32(bytemuck::pod_collect_to_vec(&b)),
                        (8, false) => TypedVec::UInt64(bytemuck::pod_collect_to_vec(&b)),
                        _ => return Err(unsupported()),
                    }
                }
                T::Enum { base, members }
                    if members.len() == 2
                        && members.iter().any(|m| m.name == "TRUE")
                        && matches!(base.as_ref(), T::FixedPoint { size: 1, .. }) =>
                {
                    TypedVec::Bool(
                        numbers(1, false)?
                            .into_iter()
                            .map(|b| u8::from(b != 0))
                            .collect(),
                    )
                }
                T::String {
                    size: StringSize::Fixed(w),
                    ..
                } => {
                    let mut v = Vec::with_capacity(n);
                    for r in records() {
                        let e = elem(r, *w as usize)?;
                        let end = e.iter().position(|&b| b == 0).unwrap_or(e.len());
                        v.push(String::from_utf8_lossy(&e[..end]).trim_end().to_owned());
                    }
                    TypedVec::String(v)
                }
                T::String {
                    size: StringSize::Variable,
                    ..
                }
                | T::VarLen {
                    kind: VarLenKind::String,
                    ..
                } => {
                    let w = meta.vlen_reference_size();
                    let mut v = Vec::with_capacity(n);
                    for r in records() {
                        let reference = elem(r, w)?;
                        let bytes =
                            meta.resolve_vlen_reference_bytes(&reference, 1)
                                .map_err(|e| {
                                    fail(format!(
                                        "{}: {path}: field '{}': {e}",
                                        self.location, f.name
                                    ))
                                })?;
                        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                        v.push(String::from_utf8_lossy(&bytes[..end]).into_owned());
                    }
                    TypedVec::String(v)
                }
                _ => return Err(unsupported()),
            };
            out.push((f.name.clone(), column));
        }
        Ok(out)
    }

    /// Run one crate call on `path`, converting its errors (and, as a last resort, a panic)
    /// into ours.
    fn call<T>(&self, path: &str, f: impl FnOnce() -> rust_hdf5::Result<T>) -> Result<T> {
        guard(&self.location, path, f)
    }

    fn dataset(&self, path: &str) -> Result<H5Dataset> {
        self.call(path, || self.file.dataset(relative(path)))
    }
}

/// The crate is written not to panic on malformed input (and the corruption tests check
/// that no `Internal` error comes back); the unwind guard is a backstop so that a missed case
/// still cannot take down the Node process.
fn guard<T>(location: &str, path: &str, f: impl FnOnce() -> rust_hdf5::Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.map_err(|e| convert(e, location, path)),
        Err(_) => Err(Error::new(
            ErrorCode::Internal,
            format!("{location}: {path}: the HDF5 reader panicked (malformed file?)"),
        )
        .with_key(path)),
    }
}

/// The crate names objects without the leading slash.
fn relative(path: &str) -> &str {
    path.trim_start_matches('/')
}

fn is_root(path: &str) -> bool {
    relative(path).is_empty()
}

/// The [`DType`] a datatype reads as; `None` for types with no equivalent (compound, opaque,
/// references, arrays, non-boolean enums).
fn scalar_dtype(dt: &DatatypeMessage) -> Option<DType> {
    Some(match dt {
        DatatypeMessage::FixedPoint { size, signed, .. } => match (size, signed) {
            (1, true) => DType::Int8,
            (2, true) => DType::Int16,
            (4, true) => DType::Int32,
            (8, true) => DType::Int64,
            (1, false) => DType::UInt8,
            (2, false) => DType::UInt16,
            (4, false) => DType::UInt32,
            (8, false) => DType::UInt64,
            _ => return None,
        },
        DatatypeMessage::FloatingPoint { size, .. } => match size {
            2 => DType::Float16,
            4 => DType::Float32,
            8 => DType::Float64,
            _ => return None,
        },
        // h5py stores numpy bool as an enum {FALSE: 0, TRUE: 1} over int8.
        DatatypeMessage::Enum { base, members }
            if base.element_size() == 1
                && members.len() == 2
                && members.iter().any(|m| m.name == "TRUE") =>
        {
            DType::Bool
        }
        DatatypeMessage::VarLenString { .. } | DatatypeMessage::FixedString { .. } => DType::String,
        _ => return None,
    })
}

fn filter_name(id: u16) -> String {
    match id {
        FILTER_DEFLATE => "gzip".to_owned(),
        FILTER_SHUFFLE => "shuffle".to_owned(),
        FILTER_LZF => "lzf".to_owned(),
        3 => "fletcher32".to_owned(),
        other => format!("hdf5-filter-{other}"),
    }
}

/// JSON has no NaN/inf: they become null (as the manifest writer records them).
fn float_json(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// An attribute value as JSON, decoded by `hdf5-reader` (rust-hdf5 0.7.9 has no typed group
/// attributes). A scalar dataspace reads as a scalar, a simple one as an array (also with one
/// element, as h5py returns a 1-element numpy array), a null one as `[]`.
fn attribute_json(attr: &hdf5_reader::Attribute) -> std::result::Result<Value, String> {
    use hdf5_reader::messages::datatype::{StringSize, VarLenKind};
    use hdf5_reader::ByteOrder as Order;
    use hdf5_reader::Datatype as T;
    let unsupported = || {
        format!(
            "attribute '{}' has datatype {:?}, which this reader does not convert",
            attr.name, attr.datatype
        )
    };
    let n = usize::try_from(attr.num_elements().map_err(|e| e.to_string())?)
        .map_err(|_| unsupported())?;
    let number = |size: u8, big: bool, kind: u8| -> std::result::Result<Vec<Value>, String> {
        let size = usize::from(size);
        if size == 0 || size > 8 || attr.raw_data.len() < n * size {
            return Err(unsupported());
        }
        Ok(attr.raw_data[..n * size]
            .chunks_exact(size)
            .map(|elem| {
                let mut b = [0u8; 8];
                b[..size].copy_from_slice(elem);
                if big {
                    b[..size].reverse();
                }
                let bits = u64::from_le_bytes(b);
                let shift = 64 - 8 * size as u32;
                match (kind, size) {
                    (b'i', _) => Value::from(((bits << shift) as i64) >> shift),
                    (b'u', _) => Value::from(bits),
                    (b'b', _) => Value::Bool(bits != 0),
                    (_, 2) => float_json(half::f16::from_bits(bits as u16).to_f64()),
                    (_, 4) => float_json(f64::from(f32::from_bits(bits as u32))),
                    _ => float_json(f64::from_bits(bits)),
                }
            })
            .collect())
    };
    let values: Vec<Value> = match &attr.datatype {
        T::String { .. }
        | T::VarLen {
            kind: VarLenKind::String,
            ..
        } => {
            let strings = match (&attr.datatype, n) {
                (
                    T::String {
                        size: StringSize::Variable,
                        ..
                    }
                    | T::VarLen { .. },
                    1,
                ) if attr.decoded_strings.is_none() => {
                    vec![attr.read_string().map_err(|e| e.to_string())?]
                }
                _ => attr.read_strings().map_err(|e| e.to_string())?,
            };
            strings.into_iter().map(Value::String).collect()
        }
        T::FixedPoint {
            size,
            signed,
            byte_order,
        } => number(
            *size,
            *byte_order == Order::BigEndian,
            if *signed { b'i' } else { b'u' },
        )?,
        T::FloatingPoint { size, byte_order } => {
            number(*size, *byte_order == Order::BigEndian, b'f')?
        }
        // h5py stores numpy bool as an enum {FALSE: 0, TRUE: 1} over int8.
        T::Enum { base, members }
            if members.len() == 2 && members.iter().any(|m| m.name == "TRUE") =>
        {
            match base.as_ref() {
                T::FixedPoint { size: 1, .. } => number(1, false, b'b')?,
                _ => return Err(unsupported()),
            }
        }
        _ => return Err(unsupported()),
    };
    Ok(if attr.shape.is_empty() {
        values.into_iter().next().unwrap_or(Value::Null)
    } else {
        Value::Array(values)
    })
}

/// Read `counts` elements at `starts` as `T` (host byte order).
fn slice<T: H5Type>(
    ds: &H5Dataset,
    starts: &[usize],
    counts: &[usize],
) -> rust_hdf5::Result<Vec<T>> {
    if starts.is_empty() {
        ds.read_raw::<T>()
    } else {
        ds.read_slice::<T>(starts, counts)
    }
}

impl Source for H5adSource {
    fn location(&self) -> &str {
        &self.location
    }

    fn kind(&self, path: &str) -> Result<NodeKind> {
        if is_root(path) {
            return Ok(NodeKind::Group);
        }
        let (parent, name) = relative(path)
            .rsplit_once('/')
            .unwrap_or(("", relative(path)));
        let listing = self.children(parent)?;
        listing
            .into_iter()
            .find(|c| c.name == name)
            .map(|c| c.kind)
            .ok_or_else(|| {
                Error::not_found(path, format!("{}: {path}: no such node", self.location))
            })
    }

    fn children(&self, path: &str) -> Result<Vec<Child>> {
        let group = if is_root(path) {
            self.file.root_group()
        } else {
            self.call(path, || self.file.root_group().group(relative(path)))?
        };
        let groups = self.call(path, || group.group_names())?;
        let arrays = self.call(path, || group.dataset_names())?;
        let mut out: Vec<Child> = groups
            .into_iter()
            .map(|name| Child {
                name,
                kind: NodeKind::Group,
            })
            .chain(arrays.into_iter().map(|name| Child {
                name,
                kind: NodeKind::Array,
            }))
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn attributes(&self, path: &str) -> Result<Map<String, Value>> {
        let read = || -> hdf5_reader::error::Result<Vec<hdf5_reader::Attribute>> {
            if self.kind(path).ok() == Some(NodeKind::Group) {
                if is_root(path) {
                    self.attrs.root_group()?.attributes()
                } else {
                    self.attrs.group(path)?.attributes()
                }
            } else {
                Ok(self.attrs.dataset(path)?.attributes())
            }
        };
        let attrs = catch_unwind(AssertUnwindSafe(read))
            .map_err(|_| {
                Error::new(
                    ErrorCode::Internal,
                    format!(
                        "{}: {path}: the HDF5 attribute reader panicked",
                        self.location
                    ),
                )
                .with_key(path)
            })?
            .map_err(|e| {
                Error::new(
                    ErrorCode::InvalidMetadata,
                    format!("{}: {path}: attributes: {e}", self.location),
                )
                .with_key(path)
            })?;
        let mut out = Map::new();
        for attr in &attrs {
            let value = attribute_json(attr).map_err(|e| {
                Error::unsupported(format!("{}: {path}: {e}", self.location))
                    .with_key(format!("{path}@{}", attr.name))
            })?;
            out.insert(attr.name.clone(), value);
        }
        Ok(out)
    }

    fn array_info(&self, path: &str) -> Result<ArrayInfo> {
        let ds = self.dataset(path)?;
        let dt = self.call(path, || ds.datatype())?;
        let element = match &dt {
            DatatypeMessage::Compound { members, .. } => ElementType::Record(
                members
                    .iter()
                    .map(|m| Field {
                        name: m.name.clone(),
                        dtype: scalar_dtype(&m.datatype),
                    })
                    .collect(),
            ),
            other => ElementType::Scalar(scalar_dtype(other).ok_or_else(|| {
                Error::unsupported(format!("{}: {path}: datatype {other:?}", self.location))
                    .with_key(path)
            })?),
        };
        let filters = self.call(path, || ds.filters())?;
        Ok(ArrayInfo {
            shape: ds.shape().into_iter().map(|d| d as u64).collect(),
            element,
            chunks: ds
                .chunk_dims()
                .map(|c| c.into_iter().map(|d| d as u64).collect()),
            filters: filters.iter().map(|f| filter_name(f.id)).collect(),
        })
    }

    fn read_rows(&self, path: &str, rows: Range<u64>) -> Result<TypedVec> {
        let info = self.array_info(path)?;
        let ElementType::Scalar(dtype) = info.element else {
            return Err(Error::unsupported(format!(
                "{}: {path}: record arrays are described, not read, by read_rows",
                self.location
            ))
            .with_key(path));
        };
        let n_rows = info.shape.first().copied().unwrap_or(1);
        if rows.start > rows.end || rows.end > n_rows {
            return Err(Error::new(
                ErrorCode::OutOfBounds,
                format!(
                    "{}: {path}: rows {rows:?} outside 0..{n_rows}",
                    self.location
                ),
            )
            .with_key(path));
        }
        let to_usize =
            |v: u64| usize::try_from(v).map_err(|_| Error::invalid_input("row index too large"));
        let (starts, counts): (Vec<usize>, Vec<usize>) = if info.shape.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            let mut starts = vec![0usize; info.shape.len()];
            let mut counts = info
                .shape
                .iter()
                .map(|&d| to_usize(d))
                .collect::<Result<Vec<_>>>()?;
            starts[0] = to_usize(rows.start)?;
            counts[0] = to_usize(rows.end - rows.start)?;
            (starts, counts)
        };
        if dtype == DType::Bytes {
            return Err(Error::unsupported(format!(
                "'{path}' in {}: byte-string datasets are not read from h5ad yet",
                self.location
            ))
            .with_key(path));
        }
        let ds = self.dataset(path)?;
        let (s, c) = (&starts[..], &counts[..]);
        self.call(path, || {
            Ok(match dtype {
                DType::Bool | DType::UInt8 => {
                    let v = slice::<u8>(&ds, s, c)?;
                    if dtype == DType::Bool {
                        TypedVec::Bool(v)
                    } else {
                        TypedVec::UInt8(v)
                    }
                }
                DType::Int8 => TypedVec::Int8(slice(&ds, s, c)?),
                DType::Int16 => TypedVec::Int16(slice(&ds, s, c)?),
                DType::Int32 => TypedVec::Int32(slice(&ds, s, c)?),
                DType::Int64 => TypedVec::Int64(slice(&ds, s, c)?),
                DType::UInt16 => TypedVec::UInt16(slice(&ds, s, c)?),
                DType::UInt32 => TypedVec::UInt32(slice(&ds, s, c)?),
                DType::UInt64 => TypedVec::UInt64(slice(&ds, s, c)?),
                DType::Float16 => TypedVec::Float16(slice(&ds, s, c)?),
                DType::Float32 => TypedVec::Float32(slice(&ds, s, c)?),
                DType::Float64 => TypedVec::Float64(slice(&ds, s, c)?),
                DType::Bytes => unreachable!("refused above"),
                DType::String => {
                    // The crate reads string datasets whole (no ranged vlen read); string
                    // arrays in h5ad are obs/var-length indexes and columns, not matrices.
                    let all = ds.read_strings()?;
                    let (a, b) = (
                        starts.first().copied().unwrap_or(0),
                        starts.first().copied().unwrap_or(0)
                            + counts.first().copied().unwrap_or(all.len()),
                    );
                    TypedVec::String(all.get(a..b).map(<[String]>::to_vec).unwrap_or_default())
                }
            })
        })
    }
}
