//! The h5ad [`Source`]: HDF5 files read with the pure-Rust `rust-hdf5` crate (no libhdf5), so
//! the prebuilt addons need no C toolchain. gzip, shuffle and h5py's lzf are decoded by the
//! crate; every crate error becomes a typed [`Error`] naming the file and the HDF5 path.

use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use rust_hdf5::format::messages::filter::{FILTER_DEFLATE, FILTER_LZF, FILTER_SHUFFLE};
use rust_hdf5::{ByteOrder, DatatypeMessage, H5Dataset, H5File, H5Type, Hdf5Error};
use serde_json::{Map, Value};

use super::{ArrayInfo, Child, ElementType, Field, NodeKind, Source};
use crate::dtype::{DType, TypedVec};
use crate::error::{Error, ErrorCode, Result};

/// An open .h5ad (any HDF5) file.
pub struct H5adSource {
    file: H5File,
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
        Ok(Self { file, location })
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

/// Decode one numeric element of `dt` (little- or big-endian) as JSON.
fn number_json(bytes: &[u8], dt: &DatatypeMessage, dtype: DType) -> Option<Value> {
    let big = matches!(
        dt,
        DatatypeMessage::FixedPoint {
            byte_order: ByteOrder::BigEndian,
            ..
        } | DatatypeMessage::FloatingPoint {
            byte_order: ByteOrder::BigEndian,
            ..
        }
    );
    let mut b = bytes.to_vec();
    if big {
        b.reverse();
    }
    let arr8 = |b: &[u8]| -> Option<[u8; 8]> {
        let mut out = [0u8; 8];
        out.get_mut(..b.len())?.copy_from_slice(b);
        Some(out)
    };
    let unsigned = u64::from_le_bytes(arr8(&b)?);
    let width = b.len() * 8;
    Some(match dtype {
        DType::Bool => Value::Bool(unsigned != 0),
        DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => {
            // Sign-extend from the element width.
            let shift = 64 - width as u32;
            Value::from(((unsigned << shift) as i64) >> shift)
        }
        DType::UInt8 | DType::UInt16 | DType::UInt32 | DType::UInt64 => Value::from(unsigned),
        DType::Float32 => float_json(f64::from(f32::from_bits(unsigned as u32))),
        DType::Float64 => float_json(f64::from_bits(unsigned)),
        DType::Float16 => float_json(half::f16::from_bits(unsigned as u16).to_f64()),
        DType::String | DType::Bytes => return None,
    })
}

/// JSON has no NaN/inf: they become null (as the manifest writer records them).
fn float_json(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// An attribute value: one element reads as a scalar, several as an array. The crate does
/// not expose an attribute's dataspace, so a length-1 array attribute also reads as a scalar.
fn attribute_json(attr: &rust_hdf5::H5Attribute) -> rust_hdf5::Result<Value> {
    let dt = attr.datatype()?;
    let unsupported = || {
        Hdf5Error::Unsupported(format!(
            "attribute '{}' has datatype {dt:?}, which this reader does not convert",
            attr.name()
        ))
    };
    let dtype = scalar_dtype(&dt).ok_or_else(unsupported)?;
    let raw = attr.read_raw()?;
    let size = dt.element_size() as usize;
    if size == 0 {
        return Err(unsupported());
    }
    let values: Vec<Value> = match &dt {
        DatatypeMessage::VarLenString { .. } => {
            // A vlen element is a global-heap reference; the crate resolves only the first.
            if raw.len() > size {
                return Err(Hdf5Error::Unsupported(format!(
                    "attribute '{}' is an array of variable-length strings",
                    attr.name()
                )));
            }
            vec![Value::String(attr.read_string()?)]
        }
        DatatypeMessage::FixedString { padding, .. } => raw
            .chunks_exact(size)
            .map(|elem| Value::String(trim_fixed(elem, *padding)))
            .collect(),
        _ => raw
            .chunks_exact(size)
            .map(|elem| number_json(elem, &dt, dtype).ok_or_else(unsupported))
            .collect::<rust_hdf5::Result<_>>()?,
    };
    Ok(match <[Value; 1]>::try_from(values) {
        Ok([one]) => one,
        Err(many) => Value::Array(many),
    })
}

/// A fixed-length string element without its padding (null-terminated, null- or space-padded).
fn trim_fixed(elem: &[u8], padding: u8) -> String {
    let end = match padding {
        2 => elem.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1),
        _ => elem.iter().position(|&b| b == 0).unwrap_or(elem.len()),
    };
    String::from_utf8_lossy(elem.get(..end).unwrap_or(elem)).into_owned()
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
        if self.kind(path)? == NodeKind::Group {
            // rust-hdf5 0.7.9 reads a group attribute only as a string and without its
            // datatype, so a numeric or array attribute would come back as garbage; refuse.
            return Err(Error::unsupported(format!(
                "{}: {path}: group attributes are not readable with rust-hdf5 0.7.9 \
                 (no typed group-attribute API)",
                self.location
            ))
            .with_key(path));
        }
        let ds = self.dataset(path)?;
        let names = self.call(path, || ds.attr_names())?;
        let mut out = Map::new();
        for name in names {
            let key = format!("{path}@{name}");
            let value = self.call(&key, || attribute_json(&ds.attr(&name)?))?;
            out.insert(name, value);
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
