//! Marshalling at the boundary: core errors -> JS errors, JS selections -> core selections,
//! decoded buffers -> TypedArrays (moved, not copied).

use napi::bindgen_prelude::*;
use napi_derive::napi;
use zarrs_node_core::{DimSpec, TypedVec};

/// Prefix that marks a structured error message; the TypeScript layer parses what follows
/// (`{"code","key","message"}`) into a `ZarrsError` subclass.
pub const ERROR_PREFIX: &str = "ZARRS_NODE_ERROR:";

/// Core error -> JS error carrying code, key and message as JSON.
pub fn to_napi_err(e: zarrs_node_core::Error) -> Error {
    let payload =
        serde_json::json!({ "code": e.code.as_str(), "key": e.key, "message": e.message });
    Error::new(Status::GenericFailure, format!("{ERROR_PREFIX}{payload}"))
}

/// One dimension of a selection as the TypeScript layer sends it.
#[napi(object)]
pub struct NativeDimSel {
    /// `'all' | 'index' | 'slice' | 'indices' | 'mask'`.
    pub kind: String,
    pub index: Option<f64>,
    pub start: Option<f64>,
    pub stop: Option<f64>,
    pub step: Option<f64>,
    pub indices: Option<Float64Array>,
    pub mask: Option<Uint8Array>,
}

/// `Number.MAX_SAFE_INTEGER`: beyond it a JS number no longer names one integer.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

fn is_safe_integer(v: f64) -> bool {
    v.is_finite() && v.fract() == 0.0 && v.abs() <= MAX_SAFE
}

/// A selection number (index, slice bound, coordinate): an integer within +-2^53-1. Anything
/// else makes the selection malformed.
pub fn int(v: f64, what: &str) -> zarrs_node_core::Result<i64> {
    zarrs_node_core::selection::js_int(v, what)
}

/// A count-like argument (shape, length, offset, axis, byte cap): an integer in
/// `0..=2^53-1`. NaN, infinities, fractions and negatives are refused, never cast.
pub fn uint(v: f64, what: &str) -> zarrs_node_core::Result<u64> {
    if !is_safe_integer(v) || v < 0.0 {
        return Err(zarrs_node_core::Error::invalid_input(format!(
            "{what} must be a non-negative integer no larger than 2^53-1, got {v}"
        )));
    }
    // exact: a non-negative safe integer fits u64
    Ok(v as u64)
}

/// [`uint`] as a `usize` (an axis or an element count).
pub fn uint_usize(v: f64, what: &str) -> zarrs_node_core::Result<usize> {
    usize::try_from(uint(v, what)?).map_err(|_| {
        zarrs_node_core::Error::invalid_input(format!("{what} is too large for this platform"))
    })
}

/// A shape: every dimension a [`uint`], named `what[d]` when refused.
pub fn dims(v: &[f64], what: &str) -> zarrs_node_core::Result<Vec<u64>> {
    v.iter()
        .enumerate()
        .map(|(d, &n)| uint(n, &format!("{what}[{d}]")))
        .collect()
}

/// JS selection -> core selection (copies index lists; runs on the JS thread).
pub fn to_specs(sel: Option<Vec<NativeDimSel>>) -> zarrs_node_core::Result<Vec<DimSpec>> {
    let Some(sel) = sel else { return Ok(vec![]) };
    sel.into_iter()
        .map(|d| {
            Ok(match d.kind.as_str() {
                "all" => DimSpec::All,
                "index" => DimSpec::Index(int(d.index.unwrap_or(f64::NAN), "index")?),
                "slice" => DimSpec::Slice {
                    start: d.start.map(|v| int(v, "slice start")).transpose()?,
                    stop: d.stop.map(|v| int(v, "slice stop")).transpose()?,
                    step: d.step.map(|v| int(v, "slice step")).transpose()?,
                },
                "indices" => DimSpec::Indices(
                    d.indices
                        .as_deref()
                        .unwrap_or_default()
                        .iter()
                        .map(|&v| int(v, "index"))
                        .collect::<zarrs_node_core::Result<_>>()?,
                ),
                "mask" => DimSpec::Mask(d.mask.as_deref().unwrap_or_default().to_vec()),
                other => {
                    return Err(zarrs_node_core::Error::invalid_selection(format!(
                        "unknown selection kind '{other}'"
                    )))
                }
            })
        })
        .collect()
}

/// The data of a chunk, as the matching TypedArray (or `string[]`, or `Buffer[]` for bytes).
pub type ChunkData = Either12<
    Uint8Array,
    Int8Array,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    BigInt64Array,
    BigUint64Array,
    Float32Array,
    Float64Array,
    Vec<String>,
    Vec<Buffer>,
>;

/// A decoded selection.
#[napi(object, object_from_js = false)]
pub struct NativeChunk {
    #[napi(
        ts_type = "Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array | string[] | Buffer[]"
    )]
    pub data: ChunkData,
    pub shape: Vec<f64>,
}

/// Core output -> `NativeChunk` (moves the buffer into an external ArrayBuffer).
pub fn to_chunk(data: TypedVec, shape: Vec<u64>) -> NativeChunk {
    NativeChunk {
        data: to_data(data),
        shape: to_shape(shape),
    }
}

/// A shape as JS numbers.
pub fn to_shape(shape: Vec<u64>) -> Vec<f64> {
    shape.into_iter().map(|n| n as f64).collect()
}

/// A decoded buffer -> the matching TypedArray (moved, not copied) or `string[]`.
pub fn to_data(data: TypedVec) -> ChunkData {
    match data {
        TypedVec::Bool(v) | TypedVec::UInt8(v) => Either12::A(Uint8Array::new(v)),
        TypedVec::Int8(v) => Either12::B(Int8Array::new(v)),
        TypedVec::Int16(v) => Either12::C(Int16Array::new(v)),
        TypedVec::UInt16(v) | TypedVec::Float16(v) => Either12::D(Uint16Array::new(v)),
        TypedVec::Int32(v) => Either12::E(Int32Array::new(v)),
        TypedVec::UInt32(v) => Either12::F(Uint32Array::new(v)),
        TypedVec::Int64(v) => Either12::G(BigInt64Array::new(v)),
        TypedVec::UInt64(v) => Either12::H(BigUint64Array::new(v)),
        TypedVec::Float32(v) => Either12::I(Float32Array::new(v)),
        TypedVec::Float64(v) => Either12::J(Float64Array::new(v)),
        TypedVec::String(v) => Either12::K(v),
        TypedVec::Bytes(v) => Either12::L(v.into_iter().map(Buffer::from).collect()),
    }
}

/// Values for a write, as the TypeScript layer sends them (exactly one field set).
#[napi(object)]
pub struct NativeValue {
    /// Element bytes (a view over the caller's TypedArray; not copied).
    pub bytes: Option<Uint8Array>,
    pub strings: Option<Vec<String>>,
    /// Byte strings of a `bytes` array (copied).
    pub binary: Option<Vec<Uint8Array>>,
    /// One JSON-encoded scalar to broadcast.
    pub scalar: Option<String>,
}

/// An owned write value that can cross to a worker thread.
pub enum OwnedValue {
    Bytes(Uint8Array),
    Strings(Vec<String>),
    Binary(Vec<Vec<u8>>),
    Scalar(serde_json::Value),
}

impl OwnedValue {
    /// Validate and take ownership.
    pub fn from_native(v: NativeValue) -> zarrs_node_core::Result<Self> {
        match (v.bytes, v.strings, v.binary, v.scalar) {
            (Some(b), None, None, None) => Ok(Self::Bytes(b)),
            (None, Some(s), None, None) => Ok(Self::Strings(s)),
            (None, None, Some(b), None) => Ok(Self::Binary(b.iter().map(|a| a.to_vec()).collect())),
            (None, None, None, Some(j)) => serde_json::from_str(&j)
                .map(Self::Scalar)
                .map_err(|e| zarrs_node_core::Error::invalid_input(format!("bad scalar: {e}"))),
            _ => Err(zarrs_node_core::Error::invalid_input(
                "a write value needs exactly one of bytes, strings, binary or scalar",
            )),
        }
    }

    /// Borrow as the core's write value.
    pub fn as_write(&mut self) -> zarrs_node_core::WriteValue<'_> {
        match self {
            Self::Bytes(b) => zarrs_node_core::WriteValue::Bytes(&b[..]),
            Self::Strings(s) => zarrs_node_core::WriteValue::Strings(std::mem::take(s)),
            Self::Binary(b) => zarrs_node_core::WriteValue::Binary(std::mem::take(b)),
            Self::Scalar(v) => zarrs_node_core::WriteValue::Scalar(v.take()),
        }
    }
}
