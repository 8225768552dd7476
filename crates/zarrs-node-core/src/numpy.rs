//! numpy data types read as raw bytes: records (structured dtypes), fixed-length strings
//! (`U n`, `S n`) and datetime64/timedelta64. zarrs has no record type, so an array of these is
//! opened with its data type rewritten to raw bits (`r<8 x itemsize>`) of the same size, read and
//! written through zarrs' codec pipeline (sharding, compressors, filters), and converted here
//! between element bytes and typed columns. Their v2 (numpy) and v3 (zarr-python) spellings are
//! parsed and written here too.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::dtype::{DType, TypedVec};
use crate::error::{Error, ErrorCode, Result};

/// datetime64 or timedelta64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeKind {
    /// `M8`, `numpy.datetime64`.
    Datetime,
    /// `m8`, `numpy.timedelta64`.
    Timedelta,
}

/// One fixed-size element type: a whole array's (plain `U`/`S`/datetime arrays) or a record
/// field's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    /// bool, integers, floats.
    Number {
        /// Element type.
        dtype: DType,
        /// Stored big-endian (`>` in numpy).
        big_endian: bool,
    },
    /// numpy `U n`: `chars` UTF-32 code units, NUL-padded.
    Unicode {
        /// Capacity in code points.
        chars: usize,
        /// Stored big-endian.
        big_endian: bool,
    },
    /// numpy `S n`: `len` bytes, NUL-padded (read as UTF-8 text).
    Bytes {
        /// Capacity in bytes.
        len: usize,
    },
    /// datetime64 / timedelta64: int64 counts of `scale` x `unit`; NaT is `i64::MIN`.
    Time {
        /// Datetime or timedelta.
        kind: TimeKind,
        /// numpy unit: `Y`, `M`, `W`, `D`, `h`, `m`, `s`, `ms`, `us`, `ns`, `ps`, `fs`, `as`.
        unit: String,
        /// Multiplier of the unit (`10` in `M8[10ms]`).
        scale: u32,
        /// Stored big-endian.
        big_endian: bool,
    },
}

/// Largest element (record) we accept: corrupt metadata must not make us allocate terabytes
/// for one fill value.
pub const MAX_ITEMSIZE: usize = 1 << 30;

fn too_large(what: impl std::fmt::Display) -> Error {
    Error::invalid_metadata(format!(
        "{what}: elements larger than {MAX_ITEMSIZE} bytes are not supported"
    ))
}

const TIME_UNITS: [&str; 13] = [
    "Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as",
];

/// A named field of a record at a byte offset within the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Element type.
    pub scalar: Scalar,
    /// Byte offset within one record.
    pub offset: usize,
}

/// A numpy dtype that zarrs-node reads through raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumpyDtype {
    /// A plain array of one fixed-size element type.
    Scalar(Scalar),
    /// A record (structured) array.
    Record(Vec<Field>),
}

fn unsupported(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::Unsupported, what.to_string())
}

impl Scalar {
    /// Bytes per element.
    #[must_use]
    pub fn size(&self) -> usize {
        match self {
            Self::Number { dtype, .. } => dtype.size().unwrap_or(0),
            Self::Unicode { chars, .. } => chars * 4,
            Self::Bytes { len } => *len,
            Self::Time { .. } => 8,
        }
    }

    /// The buffer type a decoded column of this element type has.
    #[must_use]
    pub fn column_dtype(&self) -> DType {
        match self {
            Self::Number { dtype, .. } => *dtype,
            Self::Unicode { .. } | Self::Bytes { .. } => DType::String,
            Self::Time { .. } => DType::Int64,
        }
    }

    /// The public data type name (`'string'`, `'datetime64'`, `'float32'`, ...).
    #[must_use]
    pub fn public_name(&self) -> &'static str {
        match self {
            Self::Time {
                kind: TimeKind::Datetime,
                ..
            } => "datetime64",
            Self::Time {
                kind: TimeKind::Timedelta,
                ..
            } => "timedelta64",
            other => other.column_dtype().name(),
        }
    }

    /// Capacity of a fixed-length string (code points for `U`, bytes for `S`).
    #[must_use]
    pub fn fixed_length(&self) -> Option<usize> {
        match self {
            Self::Unicode { chars, .. } => Some(*chars),
            Self::Bytes { len } => Some(*len),
            _ => None,
        }
    }

    fn big_endian(&self) -> bool {
        match self {
            Self::Number { big_endian, .. }
            | Self::Unicode { big_endian, .. }
            | Self::Time { big_endian, .. } => *big_endian,
            Self::Bytes { .. } => false,
        }
    }

    /// The same type stored little-endian (v3 stores every field little-endian).
    #[must_use]
    pub fn little_endian(&self) -> Self {
        let mut s = self.clone();
        match &mut s {
            Self::Number { big_endian, .. }
            | Self::Unicode { big_endian, .. }
            | Self::Time { big_endian, .. } => *big_endian = false,
            Self::Bytes { .. } => {}
        }
        s
    }

    /// The numpy spelling (`'<U8'`, `'>f4'`, `'|S3'`, `'<M8[10ms]'`), as in a v2 `dtype`.
    #[must_use]
    pub fn numpy(&self) -> String {
        let order = |be: bool, size: usize| {
            if size == 1 {
                '|'
            } else if be {
                '>'
            } else {
                '<'
            }
        };
        match self {
            Self::Number { dtype, big_endian } => {
                let v2 = dtype.v2_name();
                format!("{}{}", order(*big_endian, self.size()), &v2[1..])
            }
            Self::Unicode { chars, big_endian } => {
                format!("{}U{chars}", if *big_endian { '>' } else { '<' })
            }
            Self::Bytes { len } => format!("|S{len}"),
            Self::Time {
                kind,
                unit,
                scale,
                big_endian,
            } => {
                let k = if *kind == TimeKind::Datetime {
                    'M'
                } else {
                    'm'
                };
                let s = if *scale == 1 {
                    String::new()
                } else {
                    scale.to_string()
                };
                format!("{}{k}8[{s}{unit}]", if *big_endian { '>' } else { '<' })
            }
        }
    }

    /// Parse a numpy dtype string (`'<U8'`, `'|S3'`, `'>f4'`, `'<M8[ns]'`).
    ///
    /// # Errors
    /// [`ErrorCode::Unsupported`] for anything else (objects, complex, void, generic units).
    pub fn parse_numpy(s: &str) -> Result<Self> {
        let bad = || unsupported(format!("numpy dtype '{s}' is not supported"));
        let (big_endian, rest) = match s.chars().next() {
            Some('>') => (true, &s[1..]),
            Some('<' | '|' | '=') => (false, &s[1..]),
            _ => (false, s),
        };
        let mut chars = rest.chars();
        let kind = chars.next().ok_or_else(bad)?;
        let rest = chars.as_str();
        let (digits, tail) = rest.split_at(
            rest.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len()),
        );
        let n: usize = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| bad())?
        };
        if n > MAX_ITEMSIZE / 4 {
            return Err(too_large(format!("numpy dtype '{s}'")));
        }
        let number = |dtype: DType| -> Result<Self> {
            if !tail.is_empty() || dtype.size() != Some(n) {
                return Err(bad());
            }
            Ok(Self::Number { dtype, big_endian })
        };
        match kind {
            'b' => number(DType::Bool),
            'i' => number(match n {
                1 => DType::Int8,
                2 => DType::Int16,
                4 => DType::Int32,
                8 => DType::Int64,
                _ => return Err(bad()),
            }),
            'u' => number(match n {
                1 => DType::UInt8,
                2 => DType::UInt16,
                4 => DType::UInt32,
                8 => DType::UInt64,
                _ => return Err(bad()),
            }),
            'f' => number(match n {
                2 => DType::Float16,
                4 => DType::Float32,
                8 => DType::Float64,
                _ => return Err(bad()),
            }),
            'U' if tail.is_empty() && n > 0 => Ok(Self::Unicode {
                chars: n,
                big_endian,
            }),
            'S' if tail.is_empty() && n > 0 => Ok(Self::Bytes { len: n }),
            'M' | 'm' if n == 8 => {
                let unit = tail
                    .strip_prefix('[')
                    .and_then(|t| t.strip_suffix(']'))
                    .ok_or_else(bad)?;
                let split = unit.find(|c: char| !c.is_ascii_digit()).unwrap_or(0);
                let (scale, unit) = unit.split_at(split);
                Self::time(
                    if kind == 'M' {
                        TimeKind::Datetime
                    } else {
                        TimeKind::Timedelta
                    },
                    unit,
                    if scale.is_empty() {
                        1
                    } else {
                        scale.parse().map_err(|_| bad())?
                    },
                    big_endian,
                )
            }
            _ => Err(bad()),
        }
    }

    fn time(kind: TimeKind, unit: &str, scale: u32, big_endian: bool) -> Result<Self> {
        if !TIME_UNITS.contains(&unit) || scale == 0 {
            return Err(unsupported(format!(
                "time unit '{scale}{unit}' is not supported (units: {})",
                TIME_UNITS.join(", ")
            )));
        }
        Ok(Self::Time {
            kind,
            unit: unit.to_string(),
            scale,
            big_endian,
        })
    }

    /// Parse a v3 `data_type` (as zarr-python 3 writes them). `big_endian` comes from the
    /// `bytes` codec.
    ///
    /// # Errors
    /// [`ErrorCode::Unsupported`] for other types, [`ErrorCode::InvalidMetadata`] for a bad
    /// configuration.
    pub fn parse_v3(dt: &Value, big_endian: bool) -> Result<Self> {
        let (name, conf) = match dt {
            Value::String(s) => (s.as_str(), Value::Null),
            Value::Object(o) => (
                o.get("name").and_then(Value::as_str).unwrap_or_default(),
                o.get("configuration").cloned().unwrap_or(Value::Null),
            ),
            _ => return Err(Error::invalid_metadata(format!("invalid data_type {dt}"))),
        };
        let length = |unit: usize| -> Result<usize> {
            match conf.get("length_bytes").and_then(Value::as_u64) {
                Some(n) if n > MAX_ITEMSIZE as u64 => Err(too_large(format!("data type {name}"))),
                Some(n) if n > 0 && n % unit as u64 == 0 => Ok(n as usize / unit),
                _ => Err(Error::invalid_metadata(format!(
                    "data type {name} needs a positive length_bytes (a multiple of {unit}), got {conf}"
                ))),
            }
        };
        match name {
            "fixed_length_utf32" => Ok(Self::Unicode {
                chars: length(4)?,
                big_endian,
            }),
            "null_terminated_bytes" | "fixed_length_bytes" => Ok(Self::Bytes { len: length(1)? }),
            "numpy.datetime64" | "numpy.timedelta64" => {
                let unit = conf.get("unit").and_then(Value::as_str).unwrap_or_default();
                let scale = conf
                    .get("scale_factor")
                    .and_then(Value::as_u64)
                    .and_then(|s| u32::try_from(s).ok())
                    .unwrap_or(1);
                let kind = if name == "numpy.datetime64" {
                    TimeKind::Datetime
                } else {
                    TimeKind::Timedelta
                };
                Self::time(kind, unit, scale, big_endian)
            }
            other => match DType::parse(other) {
                Ok(dtype) if dtype != DType::String => Ok(Self::Number { dtype, big_endian }),
                _ => Err(unsupported(format!("data type {dt} is not supported"))),
            },
        }
    }

    /// The v3 `data_type` zarr-python 3 writes for this type.
    #[must_use]
    pub fn v3_json(&self) -> Value {
        match self {
            Self::Number { dtype, .. } => json!(dtype.name()),
            Self::Unicode { chars, .. } => {
                json!({ "name": "fixed_length_utf32", "configuration": { "length_bytes": chars * 4 } })
            }
            Self::Bytes { len } => {
                json!({ "name": "null_terminated_bytes", "configuration": { "length_bytes": len } })
            }
            Self::Time {
                kind, unit, scale, ..
            } => {
                let name = if *kind == TimeKind::Datetime {
                    "numpy.datetime64"
                } else {
                    "numpy.timedelta64"
                };
                json!({ "name": name, "configuration": { "unit": unit, "scale_factor": scale } })
            }
        }
    }

    /// Decode element `i` of every record in `raw` (records of `stride` bytes, this element at
    /// `offset`) into a column.
    ///
    /// # Errors
    /// [`ErrorCode::Codec`] for code points that are not Unicode scalar values or `S` bytes that
    /// are not UTF-8; allocation failures.
    pub fn decode(&self, raw: &[u8], stride: usize, offset: usize) -> Result<TypedVec> {
        let size = self.size();
        let n = raw.len().checked_div(stride).unwrap_or(0);
        let items = (0..n).map(move |i| &raw[i * stride + offset..i * stride + offset + size]);
        match self {
            Self::Unicode { big_endian, .. } => {
                let be = *big_endian;
                let strings = items
                    .map(|b| {
                        b.chunks_exact(4)
                            .map(|c| {
                                let c = [c[0], c[1], c[2], c[3]];
                                if be {
                                    u32::from_be_bytes(c)
                                } else {
                                    u32::from_le_bytes(c)
                                }
                            })
                            .take_while(|&u| u != 0)
                            .map(|u| {
                                char::from_u32(u).ok_or_else(|| {
                                    Error::new(
                                        ErrorCode::Codec,
                                        format!("U+{u:X} is not a valid code point"),
                                    )
                                })
                            })
                            .collect::<Result<String>>()
                    })
                    .collect::<Result<Vec<String>>>()?;
                Ok(TypedVec::String(strings))
            }
            Self::Bytes { .. } => {
                let strings = items
                    .map(|b| {
                        let end = b.iter().rposition(|&c| c != 0).map_or(0, |p| p + 1);
                        String::from_utf8(b[..end].to_vec()).map_err(|_| {
                            Error::new(ErrorCode::Codec, "fixed-length bytes are not valid UTF-8")
                        })
                    })
                    .collect::<Result<Vec<String>>>()?;
                Ok(TypedVec::String(strings))
            }
            Self::Number { .. } | Self::Time { .. } => {
                let mut out = TypedVec::zeroed(self.column_dtype(), n)?;
                let dst = out
                    .bytes_mut()
                    .ok_or_else(|| Error::new(ErrorCode::Internal, "fixed buffer expected"))?;
                let swap = self.big_endian() && size > 1;
                for (d, s) in dst.chunks_exact_mut(size).zip(items) {
                    d.copy_from_slice(s);
                    if swap {
                        d.reverse();
                    }
                }
                Ok(out)
            }
        }
    }

    /// Encode a column into element slots of `raw` (records of `stride` bytes, this element at
    /// `offset`). `value` holds little-endian element bytes (numbers, times) or strings.
    ///
    /// # Errors
    /// [`ErrorCode::InvalidInput`] for a wrong value kind or count, or a string longer than the
    /// fixed length.
    pub fn encode(
        &self,
        value: ColumnValue<'_>,
        raw: &mut [u8],
        stride: usize,
        offset: usize,
    ) -> Result<()> {
        let size = self.size();
        let n = raw.len().checked_div(stride).unwrap_or(0);
        let slots = raw
            .chunks_exact_mut(stride)
            .map(|r| &mut r[offset..offset + size]);
        match (self, value) {
            (Self::Unicode { .. } | Self::Bytes { .. }, ColumnValue::Strings(s)) => {
                if s.len() != n {
                    return Err(Error::invalid_input(format!(
                        "expected {n} strings, got {}",
                        s.len()
                    )));
                }
                for (slot, s) in slots.zip(s) {
                    self.encode_str(s, slot)?;
                }
                Ok(())
            }
            (Self::Number { .. } | Self::Time { .. }, ColumnValue::Bytes(b)) => {
                if b.len() != n * size {
                    return Err(Error::invalid_input(format!(
                        "expected {n} {} elements ({} bytes), got {} bytes",
                        self.public_name(),
                        n * size,
                        b.len()
                    )));
                }
                let swap = self.big_endian() && size > 1;
                for (slot, s) in slots.zip(b.chunks_exact(size)) {
                    slot.copy_from_slice(s);
                    if swap {
                        slot.reverse();
                    }
                }
                Ok(())
            }
            (_, ColumnValue::Strings(_)) => Err(Error::invalid_input(format!(
                "strings cannot be written to a {} field",
                self.numpy()
            ))),
            (_, ColumnValue::Bytes(_)) => Err(Error::invalid_input(format!(
                "a {} field needs strings, not a TypedArray",
                self.numpy()
            ))),
        }
    }

    fn encode_str(&self, s: &str, slot: &mut [u8]) -> Result<()> {
        slot.fill(0);
        match self {
            Self::Unicode { chars, big_endian } => {
                let count = s.chars().count();
                if count > *chars {
                    return Err(Error::invalid_input(format!(
                        "'{s}' has {count} characters, more than the {chars} of {}",
                        self.numpy()
                    )));
                }
                for (c, d) in s.chars().zip(slot.chunks_exact_mut(4)) {
                    let u = c as u32;
                    d.copy_from_slice(&if *big_endian {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    });
                }
                Ok(())
            }
            Self::Bytes { len } => {
                if s.len() > *len {
                    return Err(Error::invalid_input(format!(
                        "'{s}' has {} bytes, more than the {len} of |S{len}",
                        s.len()
                    )));
                }
                slot[..s.len()].copy_from_slice(s.as_bytes());
                Ok(())
            }
            _ => Err(Error::new(ErrorCode::Internal, "not a string type")),
        }
    }

    /// One element's bytes from a JSON value (fill values, broadcast writes): numbers and
    /// `"NaN"`, integers or `"NaT"` for times, text for strings.
    ///
    /// # Errors
    /// [`ErrorCode::InvalidInput`] when the value does not fit.
    pub fn json_bytes(&self, v: &Value) -> Result<Vec<u8>> {
        let mut out = vec![0u8; self.size()];
        match (self, v) {
            (_, Value::Null) => {}
            (Self::Unicode { .. } | Self::Bytes { .. }, Value::String(s)) => {
                self.encode_str(s, &mut out)?
            }
            (Self::Time { big_endian, .. }, v) => {
                let i = match v {
                    Value::String(s) if s == "NaT" => i64::MIN,
                    Value::Number(n) => n.as_i64().ok_or_else(|| {
                        Error::invalid_input(format!("{v} is not an int64 time value"))
                    })?,
                    Value::String(s) => s.parse().map_err(|_| {
                        Error::invalid_input(format!("{v} is not an int64 time value"))
                    })?,
                    _ => return Err(Error::invalid_input(format!("{v} is not a time value"))),
                };
                out.copy_from_slice(&if *big_endian {
                    i.to_be_bytes()
                } else {
                    i.to_le_bytes()
                });
            }
            (Self::Number { dtype, big_endian }, v) => {
                out = crate::scalar::scalar_bytes(*dtype, v)?;
                if *big_endian {
                    out.reverse();
                }
            }
            (_, v) => {
                return Err(Error::invalid_input(format!(
                    "{v} is not a valid {} value",
                    self.numpy()
                )))
            }
        }
        Ok(out)
    }

    /// One element's bytes from a metadata fill value: as [`json_bytes`](Self::json_bytes),
    /// except that zarr-python spells `S` fills in base64 (v2 and v3).
    fn fill_element(&self, v: &Value) -> Result<Vec<u8>> {
        match (self, v) {
            (Self::Bytes { len }, Value::String(s)) => {
                let mut b = BASE64
                    .decode(s)
                    .map_err(|e| Error::invalid_input(format!("{v} is not base64: {e}")))?;
                if b.len() > *len {
                    return Err(Error::invalid_input(format!(
                        "{v} holds {} bytes, more than the {len} of |S{len}",
                        b.len()
                    )));
                }
                b.resize(*len, 0);
                Ok(b)
            }
            _ => self.json_bytes(v),
        }
    }

    /// The fill value JSON zarr-python writes for one element (base64 for `S`).
    fn fill_json(&self, bytes: &[u8]) -> Result<Value> {
        match self {
            Self::Bytes { .. } => {
                let end = bytes.iter().rposition(|&c| c != 0).map_or(0, |p| p + 1);
                Ok(json!(BASE64.encode(&bytes[..end])))
            }
            _ => self.to_json(bytes),
        }
    }

    /// The JSON form of one element: numbers, text, integer times.
    fn to_json(&self, bytes: &[u8]) -> Result<Value> {
        Ok(match self.decode(bytes, bytes.len(), 0)? {
            TypedVec::String(mut s) => json!(s.pop().unwrap_or_default()),
            TypedVec::Bytes(_) => return Err(Error::new(ErrorCode::Internal, "bytes element")),
            TypedVec::Bool(v) => json!(v.first().is_some_and(|&b| b != 0)),
            TypedVec::Float32(v) => float_json(v.first().map_or(0.0, |&f| f64::from(f))),
            TypedVec::Float64(v) => float_json(v.first().copied().unwrap_or(0.0)),
            TypedVec::Float16(v) => float_json(f64::from(half::f16::from_bits(
                v.first().copied().unwrap_or(0),
            ))),
            TypedVec::Int8(v) => json!(v.first()),
            TypedVec::Int16(v) => json!(v.first()),
            TypedVec::Int32(v) => json!(v.first()),
            TypedVec::Int64(v) => json!(v.first()),
            TypedVec::UInt8(v) => json!(v.first()),
            TypedVec::UInt16(v) => json!(v.first()),
            TypedVec::UInt32(v) => json!(v.first()),
            TypedVec::UInt64(v) => json!(v.first()),
        })
    }
}

fn float_json(f: f64) -> Value {
    if f.is_nan() {
        json!("NaN")
    } else if f.is_infinite() {
        json!(if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(f)
    }
}

/// Values for one column of a write: little-endian element bytes or strings.
#[derive(Debug, Clone, Copy)]
pub enum ColumnValue<'a> {
    /// Little-endian element bytes (numbers, int64 times).
    Bytes(&'a [u8]),
    /// Strings (fixed-length string types).
    Strings(&'a [String]),
}

/// Make a v2 `.zarray` parseable by zarrs as the reference means it: zarrs' metadata types only
/// accept structured fields as `[name, dtype, shape]` triples, so `[name, dtype]` pairs get a
/// null shape (zarrs writes them back as pairs); `|O` with a `vlen-bytes` filter is bytes, which
/// zarrs spells `|VX` (see [`V2_BYTES`]). Dtypes zarrs-node cannot read fail here first, with
/// their reason.
///
/// # Errors
/// [`ErrorCode::Unsupported`] / [`ErrorCode::InvalidMetadata`] naming `path`, as
/// [`NumpyDtype::from_v2`].
pub fn prepare_v2(doc: &mut Value, path: &str) -> Result<()> {
    let has_vlen_bytes = doc
        .get("filters")
        .and_then(Value::as_array)
        .is_some_and(|f| {
            f.iter()
                .any(|f| f.get("id").and_then(Value::as_str) == Some("vlen-bytes"))
        });
    let Some(dtype) = doc.get_mut("dtype") else {
        return Ok(());
    };
    NumpyDtype::from_v2(dtype, path)?;
    if dtype.as_str() == Some("|O") && has_vlen_bytes {
        *dtype = json!(V2_BYTES);
    }
    if let Value::Array(fields) = dtype {
        for f in fields.iter_mut().filter_map(Value::as_array_mut) {
            if f.len() == 2 {
                f.push(Value::Null);
            }
        }
    }
    Ok(())
}

/// zarrs' v2 name of its variable-length bytes type; stored as `|O` (with `vlen-bytes`).
pub const V2_BYTES: &str = "|VX";

/// `e` (keeping its code) as an error of the array at `path`, its message after `prefix`.
fn in_array(path: &str, prefix: &str, e: Error) -> Error {
    Error::new(e.code, format!("'{path}': {prefix}{}", e.message)).with_key(path.to_string())
}

fn field_error(path: &str, what: impl std::fmt::Display) -> Error {
    unsupported(format!("'{path}': {what}")).with_key(path.to_string())
}

impl NumpyDtype {
    /// Bytes per element (record).
    #[must_use]
    pub fn itemsize(&self) -> usize {
        match self {
            Self::Scalar(s) => s.size(),
            Self::Record(fields) => fields
                .iter()
                .map(|f| f.offset + f.scalar.size())
                .max()
                .unwrap_or(0),
        }
    }

    /// The public data type name: `'record'`, `'string'`, `'datetime64'`, `'timedelta64'`.
    #[must_use]
    pub fn public_name(&self) -> &'static str {
        match self {
            Self::Scalar(s) => s.public_name(),
            Self::Record(_) => "record",
        }
    }

    /// Parse a v2 `dtype` (a numpy string or a structured field list) when it is one zarrs-node
    /// reads as raw bytes; `Ok(None)` for dtypes zarrs handles itself.
    ///
    /// # Errors
    /// [`ErrorCode::Unsupported`] naming `path` for nested or sub-array fields and unknown types.
    pub fn from_v2(dtype: &Value, path: &str) -> Result<Option<Self>> {
        match dtype {
            Value::String(s) => {
                let raw_kind = s
                    .trim_start_matches(['<', '>', '|', '='])
                    .starts_with(['U', 'S', 'M', 'm']);
                if !raw_kind {
                    return Ok(None);
                }
                Scalar::parse_numpy(s)
                    .map(|s| Some(Self::Scalar(s)))
                    .map_err(|e| in_array(path, "", e))
            }
            Value::Array(items) => {
                let mut fields = Vec::with_capacity(items.len());
                let mut offset = 0;
                for item in items {
                    let parts = item.as_array().map(Vec::as_slice).unwrap_or_default();
                    let (name, dt) = match parts {
                        [Value::String(n), dt] => (n, dt),
                        [Value::String(n), _, _] => {
                            return Err(field_error(
                                path,
                                format!("field '{n}' is a sub-array, which is not supported"),
                            ))
                        }
                        _ => {
                            return Err(Error::invalid_metadata(format!(
                                "'{path}': invalid structured dtype field {item}"
                            ))
                            .with_key(path.to_string()))
                        }
                    };
                    let scalar = match dt {
                        Value::String(s) => Scalar::parse_numpy(s)
                            .map_err(|e| in_array(path, &format!("field '{name}': "), e))?,
                        _ => {
                            return Err(field_error(
                                path,
                                format!(
                                    "field '{name}' is a nested record, which is not supported"
                                ),
                            ))
                        }
                    };
                    let size = scalar.size();
                    fields.push(Field {
                        name: name.clone(),
                        scalar,
                        offset,
                    });
                    offset += size;
                }
                Self::record(fields, path).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn record(fields: Vec<Field>, path: &str) -> Result<Self> {
        let total: u64 = fields.iter().map(|f| f.scalar.size() as u64).sum();
        if total > MAX_ITEMSIZE as u64 {
            return Err(
                too_large(format!("'{path}': record of {total} bytes")).with_key(path.to_string())
            );
        }
        if fields.is_empty() {
            return Err(Error::invalid_metadata(format!(
                "'{path}': a structured dtype needs at least one field"
            ))
            .with_key(path.to_string()));
        }
        for (i, f) in fields.iter().enumerate() {
            if fields[..i].iter().any(|g| g.name == f.name) {
                return Err(Error::invalid_metadata(format!(
                    "'{path}': field '{}' appears twice",
                    f.name
                ))
                .with_key(path.to_string()));
            }
        }
        Ok(Self::Record(fields))
    }

    /// Parse a v3 `data_type` when it is one zarrs-node reads as raw bytes; `Ok(None)` for types
    /// zarrs handles itself. `big_endian` comes from the `bytes` codec.
    ///
    /// # Errors
    /// [`ErrorCode::Unsupported`] naming `path` for nested fields and unknown field types.
    pub fn from_v3(dt: &Value, big_endian: bool, path: &str) -> Result<Option<Self>> {
        let name = match dt {
            Value::String(s) => s.as_str(),
            Value::Object(o) => o.get("name").and_then(Value::as_str).unwrap_or_default(),
            _ => return Ok(None),
        };
        match name {
            "struct" | "structured" => {
                let list = dt
                    .pointer("/configuration/fields")
                    .and_then(Value::as_array)
                    .ok_or_else(|| {
                        Error::invalid_metadata(format!(
                            "'{path}': struct data type without fields"
                        ))
                        .with_key(path.to_string())
                    })?;
                let mut fields = Vec::with_capacity(list.len());
                let mut offset = 0;
                for item in list {
                    // zarr-python 3.4 writes {name, data_type}; earlier releases [name, data_type].
                    let (name, fdt) = match item {
                        Value::Object(o) => {
                            (o.get("name").and_then(Value::as_str), o.get("data_type"))
                        }
                        Value::Array(a) => (a.first().and_then(Value::as_str), a.get(1)),
                        _ => (None, None),
                    };
                    let (Some(name), Some(fdt)) = (name, fdt) else {
                        return Err(Error::invalid_metadata(format!(
                            "'{path}': invalid struct field {item}"
                        ))
                        .with_key(path.to_string()));
                    };
                    if fdt
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n == "struct" || n == "structured")
                    {
                        return Err(field_error(
                            path,
                            format!("field '{name}' is a nested record, which is not supported"),
                        ));
                    }
                    let scalar = Scalar::parse_v3(fdt, big_endian)
                        .map_err(|e| in_array(path, &format!("field '{name}': "), e))?;
                    let size = scalar.size();
                    fields.push(Field {
                        name: name.to_string(),
                        scalar,
                        offset,
                    });
                    offset += size;
                }
                Self::record(fields, path).map(Some)
            }
            "fixed_length_utf32"
            | "null_terminated_bytes"
            | "fixed_length_bytes"
            | "numpy.datetime64"
            | "numpy.timedelta64" => Scalar::parse_v3(dt, big_endian)
                .map(|s| Some(Self::Scalar(s)))
                .map_err(|e| e.with_key(path.to_string())),
            _ => Ok(None),
        }
    }

    /// The v2 `dtype` (numpy spelling).
    #[must_use]
    pub fn v2_json(&self) -> Value {
        match self {
            Self::Scalar(s) => json!(s.numpy()),
            Self::Record(fields) => fields
                .iter()
                .map(|f| json!([f.name, f.scalar.numpy()]))
                .collect(),
        }
    }

    /// The v3 `data_type`, as zarr-python 3.4 writes it (`struct` with `{name, data_type}`
    /// fields).
    #[must_use]
    pub fn v3_json(&self) -> Value {
        match self {
            Self::Scalar(s) => s.v3_json(),
            Self::Record(fields) => json!({
                "name": "struct",
                "configuration": {
                    "fields": fields
                        .iter()
                        .map(|f| json!({ "name": f.name, "data_type": f.scalar.v3_json() }))
                        .collect::<Vec<_>>()
                }
            }),
        }
    }

    /// The same dtype stored little-endian (what a v3 array with a little `bytes` codec holds).
    #[must_use]
    pub fn little_endian(&self) -> Self {
        match self {
            Self::Scalar(s) => Self::Scalar(s.little_endian()),
            Self::Record(fields) => Self::Record(
                fields
                    .iter()
                    .map(|f| Field {
                        scalar: f.scalar.little_endian(),
                        ..f.clone()
                    })
                    .collect(),
            ),
        }
    }

    /// The fill value's element bytes from its metadata JSON. v2 records: base64 (zarr-python);
    /// v3 records: an object of field values (zarr-python 3.4) or base64; a list of byte values;
    /// null: zeros.
    ///
    /// # Errors
    /// [`ErrorCode::InvalidMetadata`] when the fill value does not fit the dtype.
    pub fn fill_bytes(&self, fill: &Value, path: &str) -> Result<Vec<u8>> {
        let size = self.itemsize();
        let bad = |why: String| {
            Error::invalid_metadata(format!(
                "'{path}': fill value {fill} is not valid for {}: {why}",
                self.describe()
            ))
            .with_key(path.to_string())
        };
        if let Value::Array(items) = fill {
            let bytes: Option<Vec<u8>> = items
                .iter()
                .map(|v| v.as_u64().and_then(|u| u8::try_from(u).ok()))
                .collect();
            return match bytes {
                Some(b) if b.len() == size => Ok(b),
                _ => Err(bad(format!("expected {size} byte values"))),
            };
        }
        match (self, fill) {
            (_, Value::Null) => Ok(vec![0; size]),
            (Self::Record(_), Value::String(s)) => {
                let b = BASE64.decode(s).map_err(|e| bad(e.to_string()))?;
                if b.len() == size {
                    Ok(b)
                } else {
                    Err(bad(format!("{} bytes, expected {size}", b.len())))
                }
            }
            (Self::Record(fields), Value::Object(o)) => {
                let mut out = vec![0; size];
                for f in fields {
                    let v = o.get(&f.name).unwrap_or(&Value::Null);
                    let b = f.scalar.fill_element(v).map_err(|e| bad(e.message))?;
                    out[f.offset..f.offset + b.len()].copy_from_slice(&b);
                }
                Ok(out)
            }
            (Self::Scalar(s), v) => s.fill_element(v).map_err(|e| bad(e.message)),
            _ => Err(bad("unexpected JSON type".into())),
        }
    }

    /// The fill value JSON zarr-python writes for the element `bytes`: v2 records base64, v3
    /// records an object of field values; strings text; times integers.
    ///
    /// # Errors
    /// When the bytes do not decode.
    pub fn fill_json(&self, bytes: &[u8], format: u8) -> Result<Value> {
        match self {
            Self::Record(_) if format == 2 => Ok(json!(BASE64.encode(bytes))),
            Self::Record(fields) => {
                let mut o = serde_json::Map::new();
                for f in fields {
                    let b = &bytes[f.offset..f.offset + f.scalar.size()];
                    o.insert(f.name.clone(), f.scalar.fill_json(b)?);
                }
                Ok(Value::Object(o))
            }
            Self::Scalar(s) => s.fill_json(bytes),
        }
    }

    /// Short description for messages: the numpy spelling.
    #[must_use]
    pub fn describe(&self) -> String {
        self.v2_json().to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn numpy_strings_round_trip() {
        for s in [
            "<U8", ">U3", "|S5", "<f4", ">i8", "|b1", "|u1", "<M8[ns]", ">m8[10s]", "<f2",
        ] {
            assert_eq!(Scalar::parse_numpy(s).unwrap().numpy(), s);
        }
        for bad in ["|O", "<c8", "<M8", "<M8[generic]", "|V4", "<U0", "<i3"] {
            assert_eq!(
                Scalar::parse_numpy(bad).unwrap_err().code,
                ErrorCode::Unsupported,
                "{bad}"
            );
        }
        let huge = Scalar::parse_numpy("<U999999999").unwrap_err();
        assert_eq!(huge.code, ErrorCode::InvalidMetadata);
        let v3 =
            json!({"name": "fixed_length_utf32", "configuration": {"length_bytes": 1u64 << 40}});
        assert_eq!(
            Scalar::parse_v3(&v3, false).unwrap_err().code,
            ErrorCode::InvalidMetadata
        );
    }

    #[test]
    fn record_layout_and_fill() {
        let dt = NumpyDtype::from_v2(&json!([["names", "<U2"], ["scores", ">f4"]]), "a")
            .unwrap()
            .unwrap();
        assert_eq!(dt.itemsize(), 12);
        let fill = dt.fill_bytes(&json!("AAAAAAAAAAAAAAAA"), "a").unwrap();
        assert_eq!(fill, vec![0; 12]);
        assert_eq!(
            dt.fill_json(&fill, 3).unwrap(),
            json!({"names": "", "scores": 0.0})
        );
        // one record: "hé", 1.5 big-endian
        let mut raw = vec![0u8; 12];
        raw[..4].copy_from_slice(&u32::from('h').to_le_bytes());
        raw[4..8].copy_from_slice(&u32::from('é').to_le_bytes());
        raw[8..].copy_from_slice(&1.5f32.to_be_bytes());
        let NumpyDtype::Record(fields) = &dt else {
            panic!()
        };
        assert_eq!(
            fields[0].scalar.decode(&raw, 12, 0).unwrap(),
            TypedVec::String(vec!["hé".into()])
        );
        assert_eq!(
            fields[1].scalar.decode(&raw, 12, 8).unwrap(),
            TypedVec::Float32(vec![1.5])
        );
        let mut back = vec![0u8; 12];
        fields[0]
            .scalar
            .encode(ColumnValue::Strings(&["hé".into()]), &mut back, 12, 0)
            .unwrap();
        fields[1]
            .scalar
            .encode(ColumnValue::Bytes(&1.5f32.to_le_bytes()), &mut back, 12, 8)
            .unwrap();
        assert_eq!(back, raw);
        let too_long = fields[0]
            .scalar
            .encode(ColumnValue::Strings(&["abc".into()]), &mut back, 12, 0)
            .unwrap_err();
        assert_eq!(too_long.code, ErrorCode::InvalidInput);
    }

    #[test]
    fn fixed_length_bytes_fills_are_base64() {
        let dt = NumpyDtype::from_v2(&json!("|S3"), "a").unwrap().unwrap();
        assert_eq!(dt.fill_bytes(&json!("YWI="), "a").unwrap(), b"ab\0");
        assert_eq!(dt.fill_json(b"ab\0", 2).unwrap(), json!("YWI="));
        assert_eq!(dt.fill_json(&[0; 3], 3).unwrap(), json!(""));
        assert!(dt.fill_bytes(&json!("YWJjZA=="), "a").is_err());
    }

    #[test]
    fn nested_and_subarray_fields_are_unsupported() {
        let nested = NumpyDtype::from_v2(&json!([["a", [["b", "<f4"]]]]), "x").unwrap_err();
        assert_eq!(nested.code, ErrorCode::Unsupported);
        assert!(nested.message.contains("'a'"), "{}", nested.message);
        let sub = NumpyDtype::from_v2(&json!([["a", "<f4", [2]]]), "x").unwrap_err();
        assert_eq!(sub.code, ErrorCode::Unsupported);
        let unknown = NumpyDtype::from_v2(&json!([["a", "<c8"]]), "x").unwrap_err();
        assert_eq!(unknown.code, ErrorCode::Unsupported);
        assert_eq!(unknown.key.as_deref(), Some("x"));
    }

    #[test]
    fn v3_spellings() {
        let dt = json!({"name": "struct", "configuration": {"fields": [
            {"name": "n", "data_type": {"name": "fixed_length_utf32", "configuration": {"length_bytes": 32}}},
            {"name": "s", "data_type": "float32"}]}});
        let parsed = NumpyDtype::from_v3(&dt, false, "a").unwrap().unwrap();
        assert_eq!(parsed.v3_json(), dt);
        assert_eq!(parsed.v2_json(), json!([["n", "<U8"], ["s", "<f4"]]));
        assert_eq!(
            NumpyDtype::from_v3(&json!("float32"), false, "a").unwrap(),
            None
        );
        let t = NumpyDtype::from_v3(
            &json!({"name": "numpy.datetime64", "configuration": {"unit": "ms", "scale_factor": 10}}),
            false,
            "a",
        )
        .unwrap()
        .unwrap();
        assert_eq!(t.v2_json(), json!("<M8[10ms]"));
        assert_eq!(
            t.fill_bytes(&json!(i64::MIN), "a").unwrap(),
            i64::MIN.to_le_bytes()
        );
    }
}
