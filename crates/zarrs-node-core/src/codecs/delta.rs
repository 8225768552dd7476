//! numcodecs `delta` as a zarrs array-to-array codec (v2 filter id `delta`, v3
//! `numcodecs.delta`): the first element of the flattened chunk, then successive differences,
//! computed in the configured dtype (wrapping for integers, as numpy does). Registered through
//! zarrs' codec plugin registry.

use std::num::NonZeroU64;
use std::sync::Arc;

use serde::Deserialize;
use zarrs::array::codec::api::{
    ArrayBytes, ArrayCodecTraits, ArrayToArrayCodecTraits, Codec, CodecError, CodecMetadataOptions,
    CodecOptions, CodecTraits, PartialDecoderCapability, PartialEncoderCapability,
    RecommendedConcurrency,
};
use zarrs::array::{DataType, FillValue};
use zarrs::metadata::Configuration;
use zarrs::plugin::{PluginCreateError, ZarrVersion};

/// The element type the differences are taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
}

impl Elem {
    /// numpy spellings (`<i2`, `|u1`, `i4`, `float64`) and zarr v3 names (`int32`).
    fn parse(s: &str) -> Option<Self> {
        let bare = s.trim_start_matches(['<', '>', '|', '=']);
        Some(match bare {
            "i1" | "int8" => Self::I8,
            "i2" | "int16" => Self::I16,
            "i4" | "int32" => Self::I32,
            "i8" | "int64" => Self::I64,
            "u1" | "uint8" => Self::U8,
            "u2" | "uint16" => Self::U16,
            "u4" | "uint32" => Self::U32,
            "u8" | "uint64" => Self::U64,
            "f4" | "float32" => Self::F32,
            "f8" | "float64" => Self::F64,
            _ => return None,
        })
    }

    /// The numpy spelling numcodecs writes in v2 metadata (little endian).
    fn v2_name(self) -> &'static str {
        match self {
            Self::I8 => "|i1",
            Self::I16 => "<i2",
            Self::I32 => "<i4",
            Self::I64 => "<i8",
            Self::U8 => "|u1",
            Self::U16 => "<u2",
            Self::U32 => "<u4",
            Self::U64 => "<u8",
            Self::F32 => "<f4",
            Self::F64 => "<f8",
        }
    }

    /// The zarr v3 data type name this element type decodes to.
    fn v3_name(self) -> &'static str {
        match self {
            Self::I8 => "int8",
            Self::I16 => "int16",
            Self::I32 => "int32",
            Self::I64 => "int64",
            Self::U8 => "uint8",
            Self::U16 => "uint16",
            Self::U32 => "uint32",
            Self::U64 => "uint64",
            Self::F32 => "float32",
            Self::F64 => "float64",
        }
    }
}

#[derive(Debug, Deserialize)]
struct DeltaConfiguration {
    dtype: String,
    #[serde(default)]
    astype: Option<String>,
}

/// The numcodecs `delta` filter.
#[derive(Debug, Clone)]
pub struct DeltaCodec {
    elem: Elem,
}

numcodecs_plugin!(DeltaCodec, v3: "numcodecs.delta", v2: "delta");

impl DeltaCodec {
    fn from_configuration(configuration: &Configuration) -> Result<Codec, PluginCreateError> {
        let c: DeltaConfiguration = configuration.to_typed()?;
        let elem = Elem::parse(&c.dtype).ok_or_else(|| {
            PluginCreateError::Other(format!("delta: unsupported dtype '{}'", c.dtype))
        })?;
        // numcodecs stores the differences as `astype`; only the lossless case where it is
        // the same type is supported (a narrowing astype would change the encoded data type).
        if let Some(astype) = &c.astype {
            if Elem::parse(astype) != Some(elem) {
                return Err(PluginCreateError::Other(format!(
                    "delta: astype '{astype}' different from dtype '{}' is not supported",
                    c.dtype
                )));
            }
        }
        Ok(Codec::ArrayToArray(Arc::new(Self { elem })))
    }

    fn check(&self, data_type: &DataType) -> Result<(), CodecError> {
        let name = data_type.name_v3().unwrap_or_default();
        if name == self.elem.v3_name() {
            Ok(())
        } else {
            Err(CodecError::UnsupportedDataType(
                data_type.clone(),
                format!("numcodecs.delta with dtype {}", self.elem.v3_name()),
            ))
        }
    }
}

impl DeltaCodec {
    fn apply<'a>(
        &self,
        bytes: ArrayBytes<'a>,
        data_type: &DataType,
        encode: bool,
    ) -> Result<ArrayBytes<'a>, CodecError> {
        self.check(data_type)?;
        let mut bytes = bytes.into_fixed()?;
        transform(self.elem, bytes.to_mut(), encode);
        Ok(ArrayBytes::from(bytes))
    }
}

impl CodecTraits for DeltaCodec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn configuration(
        &self,
        version: ZarrVersion,
        _options: &CodecMetadataOptions,
    ) -> Option<Configuration> {
        // Spelled as numcodecs writes each format: numpy strings in v2, v3 names in v3.
        let mut m = serde_json::Map::new();
        match version {
            ZarrVersion::V2 => {
                m.insert("dtype".into(), self.elem.v2_name().into());
                m.insert("astype".into(), self.elem.v2_name().into());
            }
            ZarrVersion::V3 => {
                m.insert("dtype".into(), self.elem.v3_name().into());
            }
        }
        Some(m.into())
    }

    fn partial_decoder_capability(&self) -> PartialDecoderCapability {
        super::WHOLE_CHUNK_DECODE
    }

    fn partial_encoder_capability(&self) -> PartialEncoderCapability {
        super::WHOLE_CHUNK_ENCODE
    }
}

impl ArrayCodecTraits for DeltaCodec {
    fn recommended_concurrency(
        &self,
        _shape: &[NonZeroU64],
        _data_type: &DataType,
    ) -> Result<RecommendedConcurrency, CodecError> {
        Ok(RecommendedConcurrency::new_maximum(1))
    }
}

/// Apply `f(previous_input, current)` in place over native-endian elements of type `$t`.
macro_rules! scan {
    ($bytes:expr, $t:ty, $f:expr) => {{
        const N: usize = std::mem::size_of::<$t>();
        let mut prev: Option<$t> = None;
        for chunk in $bytes.chunks_exact_mut(N) {
            let mut b = [0u8; N];
            b.copy_from_slice(chunk);
            let cur = <$t>::from_ne_bytes(b);
            let (out, carry) = match prev {
                None => (cur, cur),
                Some(p) => $f(p, cur),
            };
            chunk.copy_from_slice(&out.to_ne_bytes());
            prev = Some(carry);
        }
    }};
}

/// Encode: `out[i] = x[i] - x[i-1]`; the carry is the input element.
macro_rules! diff {
    ($bytes:expr, $t:ty, int) => {
        scan!($bytes, $t, |p: $t, c: $t| (c.wrapping_sub(p), c))
    };
    ($bytes:expr, $t:ty, float) => {
        scan!($bytes, $t, |p: $t, c: $t| (c - p, c))
    };
}

/// Decode: a running sum; the carry is the output element.
macro_rules! cumsum {
    ($bytes:expr, $t:ty, int) => {
        scan!($bytes, $t, |p: $t, c: $t| {
            let s = p.wrapping_add(c);
            (s, s)
        })
    };
    ($bytes:expr, $t:ty, float) => {
        scan!($bytes, $t, |p: $t, c: $t| {
            let s = p + c;
            (s, s)
        })
    };
}

fn transform(elem: Elem, bytes: &mut [u8], encode: bool) {
    macro_rules! go {
        ($t:ty, $kind:ident) => {
            if encode {
                diff!(bytes, $t, $kind)
            } else {
                cumsum!(bytes, $t, $kind)
            }
        };
    }
    match elem {
        Elem::I8 => go!(i8, int),
        Elem::I16 => go!(i16, int),
        Elem::I32 => go!(i32, int),
        Elem::I64 => go!(i64, int),
        Elem::U8 => go!(u8, int),
        Elem::U16 => go!(u16, int),
        Elem::U32 => go!(u32, int),
        Elem::U64 => go!(u64, int),
        Elem::F32 => go!(f32, float),
        Elem::F64 => go!(f64, float),
    }
}

impl ArrayToArrayCodecTraits for DeltaCodec {
    fn into_dyn(self: Arc<Self>) -> Arc<dyn ArrayToArrayCodecTraits> {
        self as Arc<dyn ArrayToArrayCodecTraits>
    }

    fn encoded_data_type(&self, decoded_data_type: &DataType) -> Result<DataType, CodecError> {
        self.check(decoded_data_type)?;
        Ok(decoded_data_type.clone())
    }

    fn encoded_fill_value(
        &self,
        _decoded_data_type: &DataType,
        decoded_fill_value: &FillValue,
    ) -> Result<FillValue, CodecError> {
        // A lone element encodes to itself.
        Ok(decoded_fill_value.clone())
    }

    fn encode<'a>(
        &self,
        bytes: ArrayBytes<'a>,
        _shape: &[NonZeroU64],
        data_type: &DataType,
        _fill_value: &FillValue,
        _options: &CodecOptions,
    ) -> Result<ArrayBytes<'a>, CodecError> {
        self.apply(bytes, data_type, true)
    }

    fn decode<'a>(
        &self,
        bytes: ArrayBytes<'a>,
        _shape: &[NonZeroU64],
        data_type: &DataType,
        _fill_value: &FillValue,
        _options: &CodecOptions,
    ) -> Result<ArrayBytes<'a>, CodecError> {
        self.apply(bytes, data_type, false)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn round_trip<T: Copy + PartialEq + std::fmt::Debug>(
        elem: Elem,
        values: &[T],
        to: fn(T) -> Vec<u8>,
        expect_encoded: &[T],
    ) {
        let mut bytes: Vec<u8> = values.iter().flat_map(|v| to(*v)).collect();
        transform(elem, &mut bytes, true);
        let encoded: Vec<u8> = expect_encoded.iter().flat_map(|v| to(*v)).collect();
        assert_eq!(bytes, encoded);
        transform(elem, &mut bytes, false);
        let orig: Vec<u8> = values.iter().flat_map(|v| to(*v)).collect();
        assert_eq!(bytes, orig);
    }

    #[test]
    fn differences_wrap_like_numpy() {
        round_trip(
            Elem::I16,
            &[1i16, 4, 2, i16::MIN],
            |v| v.to_ne_bytes().to_vec(),
            &[1, 3, -2, i16::MIN.wrapping_sub(2)],
        );
        round_trip(
            Elem::U8,
            &[0u8, 255, 1],
            |v| v.to_ne_bytes().to_vec(),
            &[0, 255, 2],
        );
        round_trip(
            Elem::F64,
            &[0.5f64, 1.5, -1.0],
            |v| v.to_ne_bytes().to_vec(),
            &[0.5, 1.0, -2.5],
        );
    }

    #[test]
    fn parses_numpy_and_v3_names_and_rejects_narrowing() {
        assert_eq!(Elem::parse("<i2"), Some(Elem::I16));
        assert_eq!(Elem::parse("int32"), Some(Elem::I32));
        assert_eq!(Elem::parse("|u1"), Some(Elem::U8));
        assert_eq!(Elem::parse("<U4"), None);
        let narrowing: Configuration = serde_json::json!({"dtype": "<i4", "astype": "<i2"})
            .as_object()
            .unwrap()
            .clone()
            .into();
        assert!(DeltaCodec::from_configuration(&narrowing).is_err());
    }
}
