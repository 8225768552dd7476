//! User codec specs (`'zstd:3'`, `{ name: 'blosc', cname: 'lz4' }`, ...) translated to zarr v3
//! codec metadata and v2 numcodecs compressor JSON. zarrs does the actual encoding; this module
//! only spells configurations the way zarr-python writes them. The submodules add the numcodecs
//! codecs zarrs lacks as zarrs codec plugins.

/// Register `$codec` as a zarrs codec plugin for zarr v3 (`$v3`) and v2 (`$v2`), created by its
/// `fn from_configuration(&Configuration) -> Result<Codec, PluginCreateError>`: the same
/// `inventory` registry zarrs' built-in codecs use, so v2 `.zarray` filters/compressors and v3
/// `codecs` entries find it by name.
macro_rules! numcodecs_plugin {
    ($codec:ident, v3: $v3:literal, v2: $v2:literal) => {
        zarrs::plugin::impl_extension_aliases!($codec, v3: $v3, [], v2: $v2);

        inventory::submit! { zarrs::array::codec::api::CodecPluginV3::new::<$codec>() }
        inventory::submit! { zarrs::array::codec::api::CodecPluginV2::new::<$codec>() }

        impl zarrs::array::codec::api::CodecTraitsV3 for $codec {
            fn create(
                metadata: &zarrs::metadata::v3::MetadataV3,
            ) -> Result<zarrs::array::codec::api::Codec, zarrs::plugin::PluginCreateError> {
                Self::from_configuration(
                    &metadata.to_typed_configuration::<zarrs::metadata::Configuration>()?,
                )
            }
        }

        impl zarrs::array::codec::api::CodecTraitsV2 for $codec {
            fn create(
                metadata: &zarrs::metadata::v2::MetadataV2,
            ) -> Result<zarrs::array::codec::api::Codec, zarrs::plugin::PluginCreateError> {
                Self::from_configuration(metadata.configuration())
            }
        }
    };
}

pub mod bitround_v2;
pub mod delta;
pub mod lz4;

/// Neither plugin codec decodes or encodes part of a chunk: each needs the whole chunk.
const WHOLE_CHUNK_DECODE: zarrs::array::codec::api::PartialDecoderCapability =
    zarrs::array::codec::api::PartialDecoderCapability {
        partial_read: false,
        partial_decode: false,
    };
const WHOLE_CHUNK_ENCODE: zarrs::array::codec::api::PartialEncoderCapability =
    zarrs::array::codec::api::PartialEncoderCapability {
        partial_encode: false,
    };

use serde_json::{json, Value};

use crate::dtype::DType;
use crate::error::{Error, Result};

/// The default compressor: zstd level 3, no checksum (what `compressors` omitted means).
#[must_use]
pub fn default_compressor() -> Value {
    json!({ "name": "zstd", "level": 3, "checksum": false })
}

/// Normalise a spec to an object with a `name`: accepts `"zstd"`, `"zstd:5"`, `"blosc:lz4:5"`,
/// `{ name, ...options }`, `{ id, ... }` (numcodecs style) or `{ name, configuration }` (v3 style).
fn normalize(spec: &Value) -> Result<serde_json::Map<String, Value>> {
    match spec {
        Value::String(s) => {
            let mut parts = s.split(':');
            let name = parts.next().unwrap_or_default().to_string();
            let mut m = serde_json::Map::new();
            match name.as_str() {
                "zstd" | "gzip" | "zlib" | "bz2" => {
                    if let Some(level) = parts.next() {
                        let level: i64 = level.parse().map_err(|_| {
                            Error::invalid_input(format!("bad level in codec spec '{s}'"))
                        })?;
                        m.insert("level".into(), level.into());
                    }
                }
                "blosc" => {
                    if let Some(cname) = parts.next() {
                        m.insert("cname".into(), cname.into());
                    }
                    if let Some(level) = parts.next() {
                        let level: i64 = level.parse().map_err(|_| {
                            Error::invalid_input(format!("bad level in codec spec '{s}'"))
                        })?;
                        m.insert("clevel".into(), level.into());
                    }
                }
                _ => {}
            }
            m.insert("name".into(), name.into());
            Ok(m)
        }
        Value::Object(o) => {
            let mut m = o.clone();
            if let Some(Value::Object(conf)) = m.remove("configuration") {
                for (k, v) in conf {
                    m.entry(k).or_insert(v);
                }
            }
            if !m.contains_key("name") {
                if let Some(id) = m.remove("id") {
                    m.insert("name".into(), id);
                }
            }
            match m.get("name") {
                Some(Value::String(_)) => Ok(m),
                _ => Err(Error::invalid_input(format!(
                    "codec spec {spec} has no name"
                ))),
            }
        }
        other => Err(Error::invalid_input(format!("invalid codec spec {other}"))),
    }
}

fn name_of(m: &serde_json::Map<String, Value>) -> String {
    let n = m.get("name").and_then(Value::as_str).unwrap_or_default();
    n.strip_prefix("numcodecs.").unwrap_or(n).to_string()
}

fn int(m: &serde_json::Map<String, Value>, key: &str, default: i64) -> Result<i64> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_i64().ok_or_else(|| {
            Error::invalid_input(format!("codec option '{key}' must be an integer"))
        }),
    }
}

fn shuffle_v3(m: &serde_json::Map<String, Value>, dtype: DType) -> Result<&'static str> {
    Ok(match m.get("shuffle") {
        None | Some(Value::Null) => {
            if dtype.size().unwrap_or(1) > 1 {
                "shuffle"
            } else {
                "bitshuffle"
            }
        }
        Some(Value::String(s)) => match s.as_str() {
            "noshuffle" => "noshuffle",
            "shuffle" => "shuffle",
            "bitshuffle" => "bitshuffle",
            _ => return Err(Error::invalid_input(format!("unknown blosc shuffle '{s}'"))),
        },
        Some(Value::Number(n)) => match n.as_i64() {
            Some(0) => "noshuffle",
            Some(1) => "shuffle",
            Some(2) => "bitshuffle",
            _ => return Err(Error::invalid_input(format!("unknown blosc shuffle {n}"))),
        },
        Some(Value::Bool(b)) => {
            if *b {
                "shuffle"
            } else {
                "noshuffle"
            }
        }
        Some(other) => {
            return Err(Error::invalid_input(format!(
                "unknown blosc shuffle {other}"
            )))
        }
    })
}

fn cname(m: &serde_json::Map<String, Value>) -> Result<String> {
    let c = m.get("cname").and_then(Value::as_str).unwrap_or("zstd");
    match c {
        "lz4" | "lz4hc" | "blosclz" | "zstd" | "zlib" | "snappy" => Ok(c.to_string()),
        _ => Err(Error::invalid_input(format!("unknown blosc cname '{c}'"))),
    }
}

/// A bytes-to-bytes codec as zarr v3 metadata.
///
/// # Errors
/// Unknown codec names or bad options.
pub fn compressor_v3(spec: &Value, dtype: DType) -> Result<Value> {
    let m = normalize(spec)?;
    let name = name_of(&m);
    Ok(match name.as_str() {
        "zstd" => json!({ "name": "zstd", "configuration": {
            "level": int(&m, "level", 3)?,
            "checksum": m.get("checksum").and_then(Value::as_bool).unwrap_or(false),
        }}),
        "gzip" => json!({ "name": "gzip", "configuration": { "level": int(&m, "level", 5)? } }),
        "zlib" => {
            json!({ "name": "numcodecs.zlib", "configuration": { "level": int(&m, "level", 5)? } })
        }
        "blosc" => json!({ "name": "blosc", "configuration": {
            "cname": cname(&m)?,
            "clevel": int(&m, "clevel", int(&m, "level", 5)?)?,
            "shuffle": shuffle_v3(&m, dtype)?,
            "typesize": dtype.size().unwrap_or(1),
            "blocksize": int(&m, "blocksize", 0)?,
        }}),
        "crc32c" => json!({ "name": "crc32c" }),
        "lz4" => json!({ "name": "numcodecs.lz4", "configuration": {
            "acceleration": int(&m, "acceleration", 1)?,
        }}),
        "bz2" => {
            json!({ "name": "numcodecs.bz2", "configuration": { "level": int(&m, "level", 9)? } })
        }
        other => {
            return Err(Error::unsupported(format!(
            "unknown compressor '{other}' (supported: zstd, blosc, gzip, zlib, lz4, bz2, crc32c)"
        )))
        }
    })
}

/// A compressor as zarr v2 (numcodecs) JSON.
///
/// # Errors
/// Unknown codec names, or codecs that have no v2 compressor form (crc32c).
pub fn compressor_v2(spec: &Value, dtype: DType) -> Result<Value> {
    let m = normalize(spec)?;
    let name = name_of(&m);
    Ok(match name.as_str() {
        // numcodecs writes `checksum` only when it is on (tensorstore refuses the member)
        "zstd" => match m.get("checksum").and_then(Value::as_bool) {
            Some(true) => json!({ "id": "zstd", "level": int(&m, "level", 3)?, "checksum": true }),
            _ => json!({ "id": "zstd", "level": int(&m, "level", 3)? }),
        },
        "gzip" => json!({ "id": "gzip", "level": int(&m, "level", 5)? }),
        "zlib" => json!({ "id": "zlib", "level": int(&m, "level", 5)? }),
        "blosc" => {
            let shuffle = match shuffle_v3(&m, dtype)? {
                "noshuffle" => 0,
                "shuffle" => 1,
                _ => 2,
            };
            json!({ "id": "blosc", "cname": cname(&m)?, "clevel": int(&m, "clevel", int(&m, "level", 5)?)?,
                "shuffle": shuffle, "blocksize": int(&m, "blocksize", 0)? })
        }
        "lz4" => json!({ "id": "lz4", "acceleration": int(&m, "acceleration", 1)? }),
        "bz2" => json!({ "id": "bz2", "level": int(&m, "level", 9)? }),
        other => {
            return Err(Error::unsupported(format!(
                "compressor '{other}' cannot be used in a zarr v2 array (v2 supports zstd, blosc, gzip, zlib, lz4, bz2)"
            )))
        }
    })
}

/// An array-to-array filter (v3 only): `transpose`, or numcodecs `delta` (differences in the
/// array's own numeric type, as zarr-python writes `numcodecs.delta`).
///
/// # Errors
/// Unknown filters, or delta on a type it cannot difference.
pub fn filter_v3(spec: &Value, ndim: usize, dtype: DType) -> Result<Value> {
    let m = normalize(spec)?;
    match name_of(&m).as_str() {
        "delta" => match dtype {
            DType::Bool | DType::Float16 | DType::String => Err(Error::unsupported(format!(
                "the delta filter does not support {} arrays",
                dtype.name()
            ))),
            _ => {
                Ok(json!({ "name": "numcodecs.delta", "configuration": { "dtype": dtype.name() } }))
            }
        },
        "transpose" => {
            let order = m.get("order").cloned().unwrap_or(Value::Null);
            let order: Vec<u64> = serde_json::from_value(order)
                .map_err(|_| Error::invalid_input("transpose filter needs 'order': number[]"))?;
            let mut sorted = order.clone();
            sorted.sort_unstable();
            if sorted != (0..ndim as u64).collect::<Vec<_>>() {
                return Err(Error::invalid_input(format!(
                    "transpose order {order:?} is not a permutation of 0..{ndim}"
                )));
            }
            Ok(json!({ "name": "transpose", "configuration": { "order": order } }))
        }
        other => Err(Error::unsupported(format!(
            "unknown filter '{other}' (supported: transpose, delta)"
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shorthand_specs() {
        assert_eq!(
            compressor_v3(&json!("zstd:5"), DType::Float32).unwrap(),
            json!({"name":"zstd","configuration":{"level":5,"checksum":false}})
        );
        assert_eq!(
            compressor_v2(&json!("blosc:lz4:7"), DType::Float32).unwrap(),
            json!({"id":"blosc","cname":"lz4","clevel":7,"shuffle":1,"blocksize":0})
        );
        assert!(compressor_v2(&json!("crc32c"), DType::Int8).is_err());
        assert_eq!(
            compressor_v2(&json!("bz2:4"), DType::Int8).unwrap(),
            json!({"id":"bz2","level":4})
        );
        assert_eq!(
            compressor_v3(&json!("lz4"), DType::Int8).unwrap(),
            json!({"name":"numcodecs.lz4","configuration":{"acceleration":1}})
        );
        assert!(compressor_v3(&json!("lzma"), DType::Int8).is_err());
        assert_eq!(
            filter_v3(&json!("delta"), 1, DType::Int32).unwrap(),
            json!({"name":"numcodecs.delta","configuration":{"dtype":"int32"}})
        );
        assert!(filter_v3(&json!("delta"), 1, DType::Bool).is_err());
        assert_eq!(
            compressor_v3(&json!({"id":"zstd","level":1}), DType::Int8).unwrap()["configuration"]
                ["level"],
            json!(1)
        );
    }
}
