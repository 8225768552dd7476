//! The v2 id `bitround` (numcodecs' filter, as zarr-python writes it in `.zarray`) mapped onto
//! zarrs' own bitround codec, which zarrs 0.23 registers for zarr v3 only. A v2 codec plugin
//! like zarrs' own, so v2 metadata finds it by id.

use std::sync::Arc;

use serde::Deserialize;
use zarrs::array::codec::api::{Codec, CodecPluginV2, CodecTraitsV2};
use zarrs::array::codec::BitroundCodec;
use zarrs::metadata::v2::MetadataV2;
use zarrs::plugin::PluginCreateError;

/// `{ "keepbits": n }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BitroundV2Configuration {
    keepbits: u32,
}

/// Marker for the v2 `bitround` id; the codec it creates is zarrs' [`BitroundCodec`].
#[derive(Debug)]
pub struct BitroundV2;

zarrs::plugin::impl_extension_aliases!(BitroundV2, v2: "bitround");

inventory::submit! { CodecPluginV2::new::<BitroundV2>() }

impl CodecTraitsV2 for BitroundV2 {
    fn create(metadata: &MetadataV2) -> Result<Codec, PluginCreateError> {
        let c: BitroundV2Configuration = metadata.configuration().to_typed()?;
        Ok(Codec::ArrayToArray(Arc::new(BitroundCodec::new(
            c.keepbits,
        ))))
    }
}
