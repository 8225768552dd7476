//! numcodecs `lz4` as a zarrs bytes-to-bytes codec (v2 id `lz4`, v3 `numcodecs.lz4`): a 4-byte
//! little-endian uncompressed size followed by one LZ4 block, the framing numcodecs writes.
//! Registered through zarrs' codec plugin registry, so v2 and v3 metadata find it by name.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use zarrs::array::codec::api::{
    BytesRepresentation, BytesToBytesCodecTraits, Codec, CodecError, CodecMetadataOptions,
    CodecOptions, CodecTraits, PartialDecoderCapability, PartialEncoderCapability,
    RecommendedConcurrency,
};
use zarrs::array::ArrayBytesRaw;
use zarrs::metadata::Configuration;
use zarrs::plugin::{PluginCreateError, ZarrVersion};

/// Length of the size header numcodecs puts in front of the LZ4 block.
const HEADER: usize = 4;

/// `{ "acceleration": n }`, as numcodecs writes it. lz4_flex has a single speed, so the value
/// only round-trips through the metadata; any valid LZ4 block decodes the same.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Lz4Configuration {
    #[serde(default = "default_acceleration")]
    acceleration: i64,
}

fn default_acceleration() -> i64 {
    1
}

/// The numcodecs `lz4` codec.
#[derive(Debug, Clone)]
pub struct Lz4Codec {
    acceleration: i64,
}

numcodecs_plugin!(Lz4Codec, v3: "numcodecs.lz4", v2: "lz4");

impl Lz4Codec {
    fn from_configuration(config: &Configuration) -> Result<Codec, PluginCreateError> {
        let c: Lz4Configuration = config.to_typed()?;
        Ok(Codec::BytesToBytes(Arc::new(Self {
            acceleration: c.acceleration,
        })))
    }
}

impl CodecTraits for Lz4Codec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn configuration(
        &self,
        _version: ZarrVersion,
        _options: &CodecMetadataOptions,
    ) -> Option<Configuration> {
        let mut m = serde_json::Map::new();
        m.insert("acceleration".into(), self.acceleration.into());
        Some(m.into())
    }

    fn partial_decoder_capability(&self) -> PartialDecoderCapability {
        super::WHOLE_CHUNK_DECODE
    }

    fn partial_encoder_capability(&self) -> PartialEncoderCapability {
        super::WHOLE_CHUNK_ENCODE
    }
}

impl BytesToBytesCodecTraits for Lz4Codec {
    fn into_dyn(self: Arc<Self>) -> Arc<dyn BytesToBytesCodecTraits> {
        self as Arc<dyn BytesToBytesCodecTraits>
    }

    fn recommended_concurrency(
        &self,
        _decoded_representation: &BytesRepresentation,
    ) -> Result<RecommendedConcurrency, CodecError> {
        Ok(RecommendedConcurrency::new_maximum(1))
    }

    fn encoded_representation(
        &self,
        decoded_representation: &BytesRepresentation,
    ) -> BytesRepresentation {
        let bound = |n: u64| {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            (HEADER + lz4_flex::block::get_maximum_output_size(n)) as u64
        };
        match decoded_representation {
            BytesRepresentation::FixedSize(n) | BytesRepresentation::BoundedSize(n) => {
                BytesRepresentation::BoundedSize(bound(*n))
            }
            BytesRepresentation::UnboundedSize => BytesRepresentation::UnboundedSize,
        }
    }

    fn encode<'a>(
        &self,
        decoded_value: ArrayBytesRaw<'a>,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        if u32::try_from(decoded_value.len()).is_err() {
            return Err(CodecError::Other(format!(
                "lz4: a chunk of {} bytes does not fit numcodecs' 32-bit size header",
                decoded_value.len()
            )));
        }
        Ok(Cow::Owned(lz4_flex::block::compress_prepend_size(
            &decoded_value,
        )))
    }

    fn decode<'a>(
        &self,
        encoded_value: ArrayBytesRaw<'a>,
        decoded_representation: &BytesRepresentation,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        let Some(header) = encoded_value.get(..HEADER) else {
            return Err(CodecError::Other(format!(
                "lz4: a chunk of {} bytes is shorter than its size header",
                encoded_value.len()
            )));
        };
        let mut size = [0u8; HEADER];
        size.copy_from_slice(header);
        let size = u32::from_le_bytes(size) as usize;
        // The header is untrusted: never allocate more than the chunk can hold.
        if let BytesRepresentation::FixedSize(expected) = decoded_representation {
            if size as u64 != *expected {
                return Err(CodecError::Other(format!(
                    "lz4: the size header says {size} bytes, the chunk holds {expected}"
                )));
            }
        }
        let out = lz4_flex::block::decompress(&encoded_value[HEADER..], size)
            .map_err(|e| CodecError::Other(format!("lz4: {e}")))?;
        if out.len() != size {
            return Err(CodecError::Other(format!(
                "lz4: the block decodes to {} bytes, its header says {size}",
                out.len()
            )));
        }
        Ok(Cow::Owned(out))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn codec() -> Lz4Codec {
        Lz4Codec { acceleration: 1 }
    }

    #[test]
    fn numcodecs_framing_round_trips() {
        let data: Vec<u8> = (0..1000u32).flat_map(|i| (i % 7).to_le_bytes()).collect();
        let enc = codec()
            .encode(Cow::Borrowed(&data), &CodecOptions::default())
            .unwrap();
        assert_eq!(&enc[..4], &4000u32.to_le_bytes());
        let dec = codec()
            .decode(
                enc,
                &BytesRepresentation::FixedSize(4000),
                &CodecOptions::default(),
            )
            .unwrap();
        assert_eq!(dec.as_ref(), data.as_slice());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let rep = BytesRepresentation::FixedSize(8);
        for bad in [
            vec![],
            vec![8, 0],
            vec![8, 0, 0, 0, 0xff, 0xff],
            vec![9, 0, 0, 0, 0],
        ] {
            assert!(codec()
                .decode(Cow::Owned(bad), &rep, &CodecOptions::default())
                .is_err());
        }
    }
}
