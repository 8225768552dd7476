//! numpy dtypes across the boundary: the typed description of a record, fixed-length string or
//! datetime dtype, and record reads/writes as one column per field.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use zarrs_node_core::numpy::{ColumnValue, Field, NumpyDtype, Scalar};
use zarrs_node_core::TypedVec;

use crate::marshal::{to_data, to_shape, ChunkData};

/// One fixed-size element type (a plain array's, or a record field's).
#[napi(object, object_from_js = false)]
pub struct NativeElementType {
    /// Public type of the decoded values: a numeric name, `'string'`, `'datetime64'`,
    /// `'timedelta64'`.
    pub dtype: String,
    /// numpy spelling, e.g. `'<U8'`, `'>f4'`, `'|S3'`, `'<M8[ns]'`.
    pub numpy_dtype: String,
    /// Bytes per element.
    pub size: u32,
    /// Fixed-length strings: capacity (code points for `U`, bytes for `S`).
    pub fixed_length: Option<u32>,
    /// Datetimes: numpy unit (`'ns'`, `'D'`, ...).
    pub time_unit: Option<String>,
    /// Datetimes: multiplier of the unit (`10` in `M8[10ms]`).
    pub time_scale: Option<u32>,
}

/// A record field.
#[napi(object, object_from_js = false)]
pub struct NativeRecordField {
    pub name: String,
    /// Byte offset within a record.
    pub offset: u32,
    pub element: NativeElementType,
}

/// The numpy dtype of an array read through raw bytes.
#[napi(object, object_from_js = false)]
pub struct NativeNumpyDtype {
    /// Bytes per element (per record).
    pub itemsize: u32,
    /// Set for plain arrays (fixed-length strings, datetimes).
    pub element: Option<NativeElementType>,
    /// Set for record arrays, in field order.
    pub fields: Option<Vec<NativeRecordField>>,
}

fn element(s: &Scalar) -> NativeElementType {
    let (time_unit, time_scale) = match s {
        Scalar::Time { unit, scale, .. } => (Some(unit.clone()), Some(*scale)),
        _ => (None, None),
    };
    NativeElementType {
        dtype: s.public_name().to_string(),
        numpy_dtype: s.numpy(),
        size: s.size() as u32,
        fixed_length: s.fixed_length().map(|n| n as u32),
        time_unit,
        time_scale,
    }
}

/// Core description -> typed JS object.
pub fn to_native_dtype(d: &NumpyDtype) -> NativeNumpyDtype {
    let field = |f: &Field| NativeRecordField {
        name: f.name.clone(),
        offset: f.offset as u32,
        element: element(&f.scalar),
    };
    NativeNumpyDtype {
        itemsize: d.itemsize() as u32,
        element: match d {
            NumpyDtype::Scalar(s) => Some(element(s)),
            NumpyDtype::Record(_) => None,
        },
        fields: match d {
            NumpyDtype::Record(fields) => Some(fields.iter().map(field).collect()),
            NumpyDtype::Scalar(_) => None,
        },
    }
}

/// One decoded field of a record read.
#[napi(object, object_from_js = false)]
pub struct NativeRecordColumn {
    pub name: String,
    #[napi(
        ts_type = "Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array | string[] | Buffer[]"
    )]
    pub data: ChunkData,
}

/// A record read: one column per field, in field order.
#[napi(object, object_from_js = false)]
pub struct NativeRecords {
    pub shape: Vec<f64>,
    pub fields: Vec<NativeRecordColumn>,
}

/// Core output -> `NativeRecords` (buffers moved, not copied).
pub fn to_records(columns: Vec<(String, TypedVec)>, shape: Vec<u64>) -> NativeRecords {
    NativeRecords {
        shape: to_shape(shape),
        fields: columns
            .into_iter()
            .map(|(name, data)| NativeRecordColumn {
                name,
                data: to_data(data),
            })
            .collect(),
    }
}

/// One field's values for a record write (exactly one of `bytes`, `strings`).
#[napi(object)]
pub struct NativeRecordValue {
    pub name: String,
    /// Little-endian element bytes (numbers, int64 datetimes): a view, not copied.
    pub bytes: Option<Uint8Array>,
    pub strings: Option<Vec<String>>,
}

/// An owned field value that can cross to a worker thread.
pub enum OwnedColumn {
    Bytes(Uint8Array),
    Strings(Vec<String>),
}

/// Validate and take ownership of the field values.
pub fn owned_columns(
    values: Vec<NativeRecordValue>,
) -> zarrs_node_core::Result<Vec<(String, OwnedColumn)>> {
    values
        .into_iter()
        .map(|v| match (v.bytes, v.strings) {
            (Some(b), None) => Ok((v.name, OwnedColumn::Bytes(b))),
            (None, Some(s)) => Ok((v.name, OwnedColumn::Strings(s))),
            _ => Err(zarrs_node_core::Error::invalid_input(format!(
                "field '{}' needs exactly one of bytes or strings",
                v.name
            ))),
        })
        .collect()
}

/// Borrow as the core's column values.
pub fn as_columns(owned: &[(String, OwnedColumn)]) -> Vec<(String, ColumnValue<'_>)> {
    owned
        .iter()
        .map(|(name, v)| {
            let v = match v {
                OwnedColumn::Bytes(b) => ColumnValue::Bytes(&b[..]),
                OwnedColumn::Strings(s) => ColumnValue::Strings(s),
            };
            (name.clone(), v)
        })
        .collect()
}
