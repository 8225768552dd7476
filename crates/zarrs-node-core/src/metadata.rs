//! Array creation options -> zarr v2 / v3 metadata documents (the `'auto'` chunk and shard
//! shapes come from [`crate::layout`]) and fill-value normalisation.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::codecs;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::{auto_chunks, auto_shards, checked_bytes};
use crate::numpy::{NumpyDtype, Scalar};

/// Largest encoded unit (chunk, or inner chunk of a shard) we accept: codecs such as blosc
/// cannot address more than 2 GiB.
pub const MAX_CHUNK_BYTES: u64 = (1 << 31) - 1;
/// Largest shard we accept (it is decoded whole on full reads).
pub const MAX_SHARD_BYTES: u64 = 1 << 36;
/// Most dimensions an array may have.
pub const MAX_NDIM: usize = 32;

/// `chunks` / `shards`: explicit shape or `'auto'`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ShapeSpec {
    /// An explicit shape.
    Shape(Vec<u64>),
    /// `'auto'`.
    Auto(String),
}

fn explicit<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Options of `createArray` as the TypeScript layer sends them.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateArrayOptions {
    /// Array shape.
    pub shape: Vec<u64>,
    /// Public data type name.
    pub dtype: String,
    /// numpy dtype for records, fixed-length strings and datetimes, spelled as in a v2 `dtype`
    /// (`"<U8"`, `"<M8[ns]"`, `[["names", "<U8"], ["scores", "<f4"]]`); `dtype` must be its
    /// public name (`record`, `string`, `datetime64`, `timedelta64`).
    #[serde(default)]
    pub numpy_dtype: Option<Value>,
    /// Chunk (inner chunk when sharded) shape or `'auto'`.
    #[serde(default)]
    pub chunks: Option<ShapeSpec>,
    /// Shard shape, `'auto'`, or absent for no sharding (v3 only).
    #[serde(default)]
    pub shards: Option<ShapeSpec>,
    /// Absent: default zstd(3); `null`: no compression; a spec or a list of specs.
    #[serde(default, deserialize_with = "explicit")]
    pub compressors: Option<Value>,
    /// Array-to-array filters (v3: transpose).
    #[serde(default)]
    pub filters: Option<Vec<Value>>,
    /// Fill value (`"NaN"`, `"Infinity"` for floats; decimal strings for 64-bit ints).
    #[serde(default)]
    pub fill_value: Option<Value>,
    /// User attributes.
    #[serde(default)]
    pub attributes: Option<Map<String, Value>>,
    /// Dimension names (v3 only).
    #[serde(default)]
    pub dimension_names: Option<Vec<Option<String>>>,
    /// 2 or 3 (default 3).
    #[serde(default)]
    pub zarr_format: Option<u8>,
    /// Replace an existing node.
    #[serde(default)]
    pub overwrite: Option<bool>,
    /// Memory order of chunks, v2 only (`'C'` default, `'F'`).
    #[serde(default)]
    pub order: Option<String>,
}

fn normalize_fill(dtype: DType, fill: Option<&Value>) -> Result<Value> {
    let bad = |v: &Value| {
        Error::invalid_input(format!("fill value {v} is not valid for {}", dtype.name()))
    };
    let Some(v) = fill.filter(|v| !v.is_null()) else {
        return Ok(match dtype {
            DType::Bool => json!(false),
            DType::String | DType::Bytes => json!(""),
            DType::Float16 | DType::Float32 | DType::Float64 => json!(0.0),
            _ => json!(0),
        });
    };
    Ok(match dtype {
        DType::Bool => match v {
            Value::Bool(b) => json!(b),
            Value::Number(n) if n.as_f64() == Some(0.0) => json!(false),
            Value::Number(n) if n.as_f64() == Some(1.0) => json!(true),
            _ => return Err(bad(v)),
        },
        DType::String => match v {
            Value::String(s) => json!(s),
            _ => return Err(bad(v)),
        },
        // zarr-python spells the (empty) fill of a bytes array "" (base64 of no bytes).
        DType::Bytes => match v {
            Value::String(s) if s.is_empty() => json!(""),
            _ => return Err(bad(v)),
        },
        DType::Float16 | DType::Float32 | DType::Float64 => match v {
            Value::Number(n) => json!(n.as_f64().ok_or_else(|| bad(v))?),
            Value::String(s) if ["NaN", "Infinity", "-Infinity"].contains(&s.as_str()) => json!(s),
            _ => return Err(bad(v)),
        },
        _ => {
            let signed = matches!(
                dtype,
                DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64
            );
            let as_i128: i128 = match v {
                Value::Number(n) => {
                    if let Some(i) = n.as_i64() {
                        i128::from(i)
                    } else if let Some(u) = n.as_u64() {
                        i128::from(u)
                    } else {
                        let f = n.as_f64().ok_or_else(|| bad(v))?;
                        if f.fract() != 0.0 {
                            return Err(bad(v));
                        }
                        f as i128
                    }
                }
                Value::String(s) => s.parse().map_err(|_| bad(v))?,
                _ => return Err(bad(v)),
            };
            let bits = dtype.size().unwrap_or(8) * 8;
            let (lo, hi) = if signed {
                (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
            } else {
                (0, (1i128 << bits) - 1)
            };
            if as_i128 < lo || as_i128 > hi {
                return Err(bad(v));
            }
            if signed {
                json!(as_i128 as i64)
            } else {
                json!(as_i128 as u64)
            }
        }
    })
}

/// The numpy dtype of a create request, checked against its public `dtype` name. v3 arrays
/// store every field little-endian, as zarr-python does.
fn numpy_dtype(opts: &CreateArrayOptions) -> Result<Option<NumpyDtype>> {
    let Some(spec) = &opts.numpy_dtype else {
        return Ok(None);
    };
    let parsed = NumpyDtype::from_v2(spec, "")?.ok_or_else(|| {
        Error::invalid_input(format!(
            "numpyDtype {spec} is not a record, fixed-length string or datetime dtype (use dtype alone for it)"
        ))
    })?;
    if parsed.public_name() != opts.dtype {
        return Err(Error::invalid_input(format!(
            "numpyDtype {spec} is a {} dtype, but dtype is '{}'",
            parsed.public_name(),
            opts.dtype
        )));
    }
    Ok(Some(if opts.zarr_format.unwrap_or(3) == 3 {
        parsed.little_endian()
    } else {
        parsed
    }))
}

/// The fill value as zarr-python spells it for a numpy dtype; default zeros (NaT for times, as
/// zarr-python does).
fn numpy_fill(dtype: &NumpyDtype, fill: Option<&Value>, format: u8) -> Result<Value> {
    let bytes = match (dtype, fill) {
        (NumpyDtype::Scalar(Scalar::Time { .. }), None) => dtype.fill_bytes(&json!("NaT"), "")?,
        (_, None) => vec![0; dtype.itemsize()],
        // a plain array's fill is one value (text for strings); a record's is spelled as in
        // metadata (an object of field values, or base64)
        (NumpyDtype::Scalar(s), Some(v)) => s.json_bytes(v)?,
        (_, Some(v)) => dtype
            .fill_bytes(v, "")
            .map_err(|e| Error::invalid_input(e.message))?,
    };
    dtype.fill_json(&bytes, format)
}

fn resolve_shape(
    spec: Option<&ShapeSpec>,
    what: &str,
    ndim: usize,
    auto: impl FnOnce() -> Vec<u64>,
) -> Result<Vec<u64>> {
    match spec {
        None => Ok(auto()),
        Some(ShapeSpec::Auto(s)) if s == "auto" => Ok(auto()),
        Some(ShapeSpec::Auto(s)) => Err(Error::invalid_input(format!(
            "{what} must be a shape or 'auto', got '{s}'"
        ))),
        Some(ShapeSpec::Shape(c)) => {
            if c.len() != ndim {
                return Err(Error::invalid_input(format!(
                    "{what} {c:?} has {} dimensions but the array has {ndim}",
                    c.len()
                )));
            }
            if c.contains(&0) {
                return Err(Error::invalid_input(format!(
                    "{what} {c:?} has a zero dimension"
                )));
            }
            Ok(c.clone())
        }
    }
}

fn compressor_list(opts: &CreateArrayOptions) -> Vec<Value> {
    match &opts.compressors {
        None => vec![codecs::default_compressor()],
        Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
    }
}

/// Build the metadata document for a new array. Returns `(zarr_format, metadata JSON)`;
/// for v2 the JSON is the `.zarray` document with an `attributes` member zarrs splits out.
///
/// # Errors
/// Invalid shapes, sizes, codecs or fill values, each with [`crate::ErrorCode::InvalidInput`]
/// or [`crate::ErrorCode::Unsupported`].
pub fn build_array_metadata(opts: &CreateArrayOptions) -> Result<(u8, Value)> {
    let numpy = numpy_dtype(opts)?;
    // numpy dtypes travel as raw bytes: codecs see single-byte elements.
    let dtype = match &numpy {
        Some(_) => DType::UInt8,
        None => DType::parse(&opts.dtype)?,
    };
    let ndim = opts.shape.len();
    if ndim > MAX_NDIM {
        return Err(Error::invalid_input(format!(
            "{ndim} dimensions is more than the {MAX_NDIM} supported"
        )));
    }
    let elem = numpy
        .as_ref()
        .map_or_else(|| dtype.nominal_size(), NumpyDtype::itemsize);
    let shape_elems = opts
        .shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= (1u64 << 53))
        .ok_or_else(|| {
            Error::invalid_input(format!("shape {:?} has too many elements", opts.shape))
        })?;
    let _ = shape_elems;
    let format = opts.zarr_format.unwrap_or(3);
    if format != 2 && format != 3 {
        return Err(Error::invalid_input(format!(
            "zarrFormat must be 2 or 3, got {format}"
        )));
    }
    let chunks = resolve_shape(opts.chunks.as_ref(), "chunks", ndim, || {
        auto_chunks(&opts.shape, elem)
    })?;
    let chunk_bytes = checked_bytes(&chunks, elem).unwrap_or(u64::MAX);
    if chunk_bytes > MAX_CHUNK_BYTES {
        return Err(Error::invalid_input(format!(
            "chunks {chunks:?} would be {chunk_bytes} bytes uncompressed; the limit is {MAX_CHUNK_BYTES}"
        )));
    }
    let fill = match &numpy {
        Some(n) => numpy_fill(n, opts.fill_value.as_ref(), format)?,
        None => normalize_fill(dtype, opts.fill_value.as_ref())?,
    };
    let attributes = opts.attributes.clone().unwrap_or_default();
    let compressors = compressor_list(opts);

    if format == 2 {
        if opts.shards.is_some() {
            return Err(Error::invalid_input(
                "sharding needs zarr format 3 (zarrFormat: 2 was requested)",
            ));
        }
        if opts.dimension_names.is_some() {
            return Err(Error::invalid_input("dimensionNames need zarr format 3"));
        }
        if opts.filters.as_ref().is_some_and(|f| !f.is_empty()) {
            return Err(Error::unsupported("filters are only supported on zarr format 3 arrays (use order: 'F' for v2 column-major)"));
        }
        if compressors.len() > 1 {
            return Err(Error::invalid_input(
                "zarr format 2 arrays take at most one compressor",
            ));
        }
        let compressor = match compressors.first() {
            Some(c) => codecs::compressor_v2(c, dtype)?,
            None => Value::Null,
        };
        let order = match opts.order.as_deref() {
            None | Some("C") => "C",
            Some("F") => "F",
            Some(o) => {
                return Err(Error::invalid_input(format!(
                    "order must be 'C' or 'F', got '{o}'"
                )))
            }
        };
        let filters = match dtype {
            DType::String => json!([{ "id": "vlen-utf8" }]),
            DType::Bytes => json!([{ "id": "vlen-bytes" }]),
            _ => Value::Null,
        };
        let fill_v2 = if dtype.is_variable() { json!("") } else { fill };
        let dtype_v2 = numpy
            .as_ref()
            .map_or_else(|| json!(dtype.v2_name()), NumpyDtype::v2_json);
        return Ok((
            2,
            json!({
                "zarr_format": 2,
                "shape": opts.shape,
                "chunks": chunks,
                "dtype": dtype_v2,
                "compressor": compressor,
                "fill_value": fill_v2,
                "order": order,
                "filters": filters,
                "dimension_separator": ".",
                "attributes": attributes,
            }),
        ));
    }

    if opts.order.as_deref().is_some_and(|o| o != "C") {
        return Err(Error::invalid_input(
            "order: 'F' is a zarr v2 option; use a transpose filter on v3",
        ));
    }
    let serializer = if dtype == DType::String {
        json!({ "name": "vlen-utf8" })
    } else if dtype == DType::Bytes {
        json!({ "name": "vlen-bytes" })
    } else {
        json!({ "name": "bytes", "configuration": { "endian": "little" } })
    };
    let filters: Vec<Value> = opts
        .filters
        .iter()
        .flatten()
        .map(|f| codecs::filter_v3(f, ndim, dtype))
        .collect::<Result<_>>()?;
    let compressors_v3: Vec<Value> = compressors
        .iter()
        .map(|c| codecs::compressor_v3(c, dtype))
        .collect::<Result<_>>()?;
    if dtype.is_variable() && !filters.is_empty() {
        // zarrs 0.23 cannot partially decode transposed variable-length chunks.
        return Err(Error::unsupported(
            "filters (transpose) are not supported on string and bytes arrays",
        ));
    }
    let mut inner = filters;
    inner.push(serializer);
    inner.extend(compressors_v3);

    let (grid_shape, codecs) = if let Some(shards_spec) = &opts.shards {
        if ndim == 0 {
            return Err(Error::invalid_input(
                "0-dimensional arrays cannot be sharded",
            ));
        }
        let shards = resolve_shape(Some(shards_spec), "shards", ndim, || {
            auto_shards(&opts.shape, &chunks, elem)
        })?;
        if let Some(d) = (0..ndim).find(|&d| shards[d] % chunks[d] != 0) {
            return Err(Error::invalid_input(format!(
                "shards {shards:?} must be a multiple of chunks {chunks:?} (dimension {d})"
            )));
        }
        let shard_bytes = checked_bytes(&shards, elem).unwrap_or(u64::MAX);
        if shard_bytes > MAX_SHARD_BYTES {
            return Err(Error::invalid_input(format!(
                "shards {shards:?} would be {shard_bytes} bytes uncompressed; the limit is {MAX_SHARD_BYTES}"
            )));
        }
        let sharding = json!({
            "name": "sharding_indexed",
            "configuration": {
                "chunk_shape": chunks,
                "codecs": inner,
                "index_codecs": [
                    { "name": "bytes", "configuration": { "endian": "little" } },
                    { "name": "crc32c" }
                ],
                "index_location": "end"
            }
        });
        (shards, vec![sharding])
    } else {
        (chunks, inner)
    };

    let mut meta = json!({
        "zarr_format": 3,
        "node_type": "array",
        "shape": opts.shape,
        "data_type": numpy.as_ref().map_or_else(|| json!(dtype.name()), NumpyDtype::v3_json),
        "chunk_grid": { "name": "regular", "configuration": { "chunk_shape": grid_shape } },
        "chunk_key_encoding": { "name": "default", "configuration": { "separator": "/" } },
        "fill_value": fill,
        "codecs": codecs,
        "attributes": attributes,
    });
    if let Some(names) = &opts.dimension_names {
        if names.len() != ndim {
            return Err(Error::invalid_input(format!(
                "dimensionNames has {} entries but the array has {ndim} dimensions",
                names.len()
            )));
        }
        meta["dimension_names"] = json!(names);
    }
    Ok((3, meta))
}

/// Rewrite codec entries the way zarr-python writes them. zarrs serialises a codec without
/// configuration as a bare string (`"vlen-utf8"`), which the v3 spec allows but zarr-python and
/// zarrita reject; the reference writes `{"name": "vlen-utf8", "configuration": {}}`,
/// `{"name": "crc32c"}` and `{"name": "bytes"}`.
pub fn normalize_codecs(doc: &mut Value) {
    fn fix_list(list: &mut Value) {
        if let Value::Array(items) = list {
            for item in items.iter_mut() {
                if let Value::String(name) = item {
                    *item = match name.as_str() {
                        "vlen-utf8" | "vlen-bytes" => json!({ "name": name, "configuration": {} }),
                        _ => json!({ "name": name }),
                    };
                }
                if let Some(conf) = item.get_mut("configuration") {
                    for key in ["codecs", "index_codecs"] {
                        if let Some(inner) = conf.get_mut(key) {
                            fix_list(inner);
                        }
                    }
                }
            }
        }
    }
    if let Some(codecs) = doc.get_mut("codecs") {
        fix_list(codecs);
    }
}

/// The keys of a `.zarray` in the order zarr-python 3.4 writes them.
const ZARRAY_KEYS: [&str; 9] = [
    "shape",
    "chunks",
    "dtype",
    "fill_value",
    "order",
    "filters",
    "dimension_separator",
    "compressor",
    "zarr_format",
];

/// Split a v2 array document (as zarrs serialises it) into the `.zarray` and `.zattrs` that
/// zarr-python 3.4 would write: its key order, no `node_type` (a v3 member tensorstore
/// refuses), attributes moved out, and a zstd compressor's `checksum` only when it is on
/// (numcodecs omits `false`, and tensorstore refuses the member). Unknown members are kept,
/// after the known ones.
#[must_use]
pub fn v2_array_documents(doc: Value) -> (Value, Value) {
    let mut doc = match doc {
        Value::Object(m) => m,
        other => return (other, Value::Object(Map::new())),
    };
    let attrs = doc
        .remove("attributes")
        .unwrap_or_else(|| Value::Object(Map::new()));
    doc.remove("node_type");
    if let Some(Value::Object(c)) = doc.get_mut("compressor") {
        if c.get("id") == Some(&json!("zstd")) && c.get("checksum") == Some(&json!(false)) {
            c.remove("checksum");
        }
    }
    let mut out = Map::new();
    for key in ZARRAY_KEYS {
        if let Some(v) = doc.remove(key) {
            out.insert(key.to_string(), v);
        }
    }
    out.extend(doc);
    (Value::Object(out), attrs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bare_codec_names_become_objects() {
        let mut doc = json!({"codecs": ["vlen-utf8", {"name": "sharding_indexed", "configuration": {"codecs": ["bytes"], "index_codecs": ["crc32c"]}}]});
        normalize_codecs(&mut doc);
        assert_eq!(
            doc["codecs"][0],
            json!({"name": "vlen-utf8", "configuration": {}})
        );
        assert_eq!(
            doc["codecs"][1]["configuration"]["codecs"][0],
            json!({"name": "bytes"})
        );
        assert_eq!(
            doc["codecs"][1]["configuration"]["index_codecs"][0],
            json!({"name": "crc32c"})
        );
    }

    fn opts(v: Value) -> CreateArrayOptions {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn rejects_bad_options() {
        let too_big = opts(json!({"shape":[u64::MAX, 2], "dtype":"float64", "chunks":[10,2]}));
        assert!(build_array_metadata(&too_big).is_err());
        let huge_chunk = opts(json!({"shape":[1u64<<40], "dtype":"float64", "chunks":[1u64<<40]}));
        assert!(build_array_metadata(&huge_chunk).is_err());
        let not_multiple =
            opts(json!({"shape":[100], "dtype":"int8", "chunks":[10], "shards":[15]}));
        assert!(build_array_metadata(&not_multiple).is_err());
        let bad_fill = opts(json!({"shape":[1], "dtype":"uint8", "fillValue": 300}));
        assert!(build_array_metadata(&bad_fill).is_err());
        let v2_shards =
            opts(json!({"shape":[4], "dtype":"uint8", "zarrFormat": 2, "shards":"auto"}));
        assert!(build_array_metadata(&v2_shards).is_err());
    }

    #[test]
    fn default_is_v3_zstd3() {
        let (f, m) = build_array_metadata(&opts(json!({"shape":[4], "dtype":"float32"}))).unwrap();
        assert_eq!(f, 3);
        assert_eq!(
            m["codecs"][1],
            json!({"name":"zstd","configuration":{"level":3,"checksum":false}})
        );
        let (_, m) = build_array_metadata(&opts(
            json!({"shape":[4], "dtype":"float32", "compressors": null}),
        ))
        .unwrap();
        assert_eq!(m["codecs"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn v2_documents_in_zarr_python_order() {
        let doc = json!({ "node_type": "array", "zarr_format": 2, "shape": [4], "chunks": [2],
            "dtype": "<f4", "compressor": { "id": "zstd", "level": 3, "checksum": false },
            "fill_value": "NaN", "order": "C", "filters": null, "dimension_separator": ".",
            "attributes": { "a": 1 }, "extra": true });
        let (zarray, attrs) = v2_array_documents(doc);
        assert_eq!(attrs, json!({ "a": 1 }));
        let keys: Vec<&str> = zarray
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = ZARRAY_KEYS.to_vec();
        want.push("extra");
        assert_eq!(keys, want, "zarr-python's order, unknown members last");
        assert_eq!(zarray["compressor"], json!({ "id": "zstd", "level": 3 }));
    }
}
