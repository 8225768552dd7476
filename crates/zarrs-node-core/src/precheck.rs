//! Checks of untrusted metadata and bytes made before zarrs sees them, where zarrs 0.23 would
//! panic (or, in a release build, silently wrap) instead of returning an error: vlen-utf8
//! length prefixes, shard index entries whose `offset + nbytes` overflows, chunk shapes whose
//! size overflows and inner chunk shapes of the wrong dimensionality. Each check turns the
//! corrupt input into a coded [`Error`].

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex, Once};

use serde_json::Value;
use zarrs::array::codec::api::{
    register_codec_v2, register_codec_v3, ArrayBytesDecodeIntoTarget, CodecRuntimePluginV2,
    CodecRuntimePluginV3, PartialDecoderCapability, PartialEncoderCapability,
};
use zarrs::array::codec::{CodecChain, VlenUtf8Codec};
use zarrs::array::{
    Array, ArrayBytes, ArrayBytesRaw, ArrayCodecTraits, ArrayMetadata, ArrayShardedExt,
    ArraySubset, ArrayToBytesCodecTraits, BytesRepresentation, Codec, CodecError,
    CodecMetadataOptions, CodecOptions, CodecSpecificOptions, CodecTraits, CodecTraitsV2,
    CodecTraitsV3, DataType, FillValue, RecommendedConcurrency,
};
use zarrs::metadata::v3::MetadataV3;
use zarrs::metadata::Configuration;
use zarrs::plugin::{ExtensionName, ZarrVersion};
use zarrs_storage::byte_range::ByteRange;
use zarrs_storage::ReadableWritableListableStorageTraits;

use crate::error::{Error, ErrorCode, Result};
use crate::store::Store;

type ZArrayInner = Array<dyn ReadableWritableListableStorageTraits>;

/// The largest chunk (or shard) in bytes: nothing bigger can be allocated, and staying below
/// it leaves zarrs' size arithmetic (codec overheads, index sizes) far from `u64` overflow.
const MAX_CHUNK_BYTES: u64 = isize::MAX as u64;

// ------------------------------------------------------------------------------ vlen-utf8

/// Validate a decoded vlen-utf8 (numcodecs `VLenUTF8`) chunk of `num_elements` items: a `u32`
/// item count, then per item a `u32` length and that many bytes, all inside `bytes`.
///
/// # Errors
/// A message naming the first item whose prefix or bytes run past the end.
pub fn vlen_items(bytes: &[u8], num_elements: u64) -> std::result::Result<(), String> {
    let len = bytes.len() as u64;
    let u32_at = |at: u64| -> Option<u64> {
        let at = usize::try_from(at).ok()?;
        let b = bytes.get(at..at.checked_add(4)?)?;
        Some(u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
    };
    let count = u32_at(0)
        .ok_or_else(|| format!("vlen-utf8 chunk of {len} bytes is too short for its item count"))?;
    if count != num_elements {
        return Err(format!(
            "vlen-utf8 chunk holds {count} items, expected {num_elements}"
        ));
    }
    let mut at = 4u64;
    for i in 0..num_elements {
        let item = u32_at(at).ok_or_else(|| {
            format!("vlen-utf8 chunk of {len} bytes ends inside the length prefix of item {i}")
        })?;
        at += 4;
        at = match at.checked_add(item) {
            Some(end) if end <= len => end,
            _ => {
                return Err(format!(
                    "vlen-utf8 item {i} declares {item} bytes but only {} remain",
                    len - at
                ))
            }
        };
    }
    Ok(())
}

/// zarrs' vlen-utf8 codec with [`vlen_items`] run before every decode (zarrs slices the chunk
/// by its length prefixes unchecked). Everything else is delegated unchanged, so metadata,
/// encoding and names are exactly zarrs'.
#[derive(Debug)]
struct CheckedVlen {
    inner: Arc<dyn ArrayToBytesCodecTraits>,
}

impl CheckedVlen {
    fn wrap(codec: Codec) -> Codec {
        match codec {
            Codec::ArrayToBytes(inner) => Codec::ArrayToBytes(Arc::new(Self { inner })),
            other => other,
        }
    }

    fn check(bytes: &[u8], shape: &[NonZeroU64]) -> std::result::Result<(), CodecError> {
        let n = shape
            .iter()
            .try_fold(1u64, |a, d| a.checked_mul(d.get()))
            .ok_or_else(|| CodecError::Other("vlen-utf8 chunk shape overflows".into()))?;
        vlen_items(bytes, n).map_err(CodecError::Other)
    }
}

impl ExtensionName for CheckedVlen {
    fn name(&self, version: ZarrVersion) -> Option<Cow<'static, str>> {
        self.inner.name(version)
    }
}

impl CodecTraits for CheckedVlen {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn configuration(
        &self,
        version: ZarrVersion,
        options: &CodecMetadataOptions,
    ) -> Option<Configuration> {
        self.inner.configuration(version, options)
    }

    fn partial_decoder_capability(&self) -> PartialDecoderCapability {
        self.inner.partial_decoder_capability()
    }

    fn partial_encoder_capability(&self) -> PartialEncoderCapability {
        self.inner.partial_encoder_capability()
    }
}

impl ArrayCodecTraits for CheckedVlen {
    fn recommended_concurrency(
        &self,
        shape: &[NonZeroU64],
        data_type: &DataType,
    ) -> std::result::Result<RecommendedConcurrency, CodecError> {
        self.inner.recommended_concurrency(shape, data_type)
    }
}

// Partial decoding keeps the trait's default (decode the whole chunk through `decode`), so
// the check also covers partial reads; vlen chunks cannot be decoded partially anyway.
impl ArrayToBytesCodecTraits for CheckedVlen {
    fn into_dyn(self: Arc<Self>) -> Arc<dyn ArrayToBytesCodecTraits> {
        self
    }

    fn with_codec_specific_options(
        self: Arc<Self>,
        opts: &CodecSpecificOptions,
    ) -> Arc<dyn ArrayToBytesCodecTraits> {
        Arc::new(Self {
            inner: self.inner.clone().with_codec_specific_options(opts),
        })
    }

    fn encoded_representation(
        &self,
        shape: &[NonZeroU64],
        data_type: &DataType,
        fill_value: &FillValue,
    ) -> std::result::Result<BytesRepresentation, CodecError> {
        self.inner
            .encoded_representation(shape, data_type, fill_value)
    }

    fn encode<'a>(
        &self,
        bytes: ArrayBytes<'a>,
        shape: &[NonZeroU64],
        data_type: &DataType,
        fill_value: &FillValue,
        options: &CodecOptions,
    ) -> std::result::Result<ArrayBytesRaw<'a>, CodecError> {
        self.inner
            .encode(bytes, shape, data_type, fill_value, options)
    }

    fn decode<'a>(
        &self,
        bytes: ArrayBytesRaw<'a>,
        shape: &[NonZeroU64],
        data_type: &DataType,
        fill_value: &FillValue,
        options: &CodecOptions,
    ) -> std::result::Result<ArrayBytes<'a>, CodecError> {
        Self::check(&bytes, shape)?;
        self.inner
            .decode(bytes, shape, data_type, fill_value, options)
    }

    fn decode_into(
        &self,
        bytes: ArrayBytesRaw<'_>,
        shape: &[NonZeroU64],
        data_type: &DataType,
        fill_value: &FillValue,
        output_target: ArrayBytesDecodeIntoTarget<'_>,
        options: &CodecOptions,
    ) -> std::result::Result<(), CodecError> {
        Self::check(&bytes, shape)?;
        self.inner
            .decode_into(bytes, shape, data_type, fill_value, output_target, options)
    }
}

fn is_vlen_utf8(name: &str) -> bool {
    matches!(
        name,
        "vlen-utf8" | "https://codec.zarrs.dev/array_to_bytes/vlen_utf8"
    )
}

/// Register the checked codecs with zarrs (runtime plugins take precedence over zarrs' own).
/// Idempotent; called before any array is built.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The handles would unregister the plugins; they live for the whole process.
        let _ = register_codec_v3(CodecRuntimePluginV3::new(is_vlen_utf8, |m| {
            <VlenUtf8Codec as CodecTraitsV3>::create(m).map(CheckedVlen::wrap)
        }));
        let _ = register_codec_v2(CodecRuntimePluginV2::new(is_vlen_utf8, |m| {
            <VlenUtf8Codec as CodecTraitsV2>::create(m).map(CheckedVlen::wrap)
        }));
    });
}

// ---------------------------------------------------------------------------- chunk sizes

fn checked_size(shape: &[u64], elem: u64) -> Option<u64> {
    shape
        .iter()
        .try_fold(elem, |a, &d| a.checked_mul(d))
        .filter(|&b| b <= MAX_CHUNK_BYTES)
}

fn u64_list(v: Option<&Value>) -> Option<Vec<u64>> {
    v?.as_array()?.iter().map(Value::as_u64).collect()
}

/// Check every chunk shape in array metadata (JSON as zarrs serialises it): the regular grid's
/// chunk (or shard) shape, and for each `sharding_indexed` codec, nested ones included, its
/// inner chunk shape and its index. `elem` is the element size in bytes (1 for strings).
///
/// # Errors
/// [`ErrorCode::InvalidMetadata`] naming `path` when a size overflows or exceeds
/// [`MAX_CHUNK_BYTES`].
pub fn chunk_sizes(path: &str, meta: &Value, elem: u64) -> Result<()> {
    let bad = |what: &str, shape: &[u64]| {
        Error::invalid_metadata(format!(
            "'{path}': {what} {shape:?} is too large (its size in bytes overflows)"
        ))
        .with_key(path.to_string())
    };
    let grid = u64_list(meta.pointer("/chunk_grid/configuration/chunk_shape"))
        .or_else(|| u64_list(meta.get("chunks")));
    let Some(grid) = grid else {
        return Ok(()); // not a regular grid: zarrs validates it
    };
    if checked_size(&grid, elem).is_none() {
        return Err(bad("chunk shape", &grid));
    }
    let mut outer = grid;
    let mut codecs = meta.get("codecs").and_then(Value::as_array);
    while let Some(sharding) = codecs.and_then(|cs| {
        cs.iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some("sharding_indexed"))
    }) {
        let config = sharding.get("configuration");
        let Some(sub) = u64_list(config.and_then(|c| c.get("chunk_shape"))) else {
            return Ok(()); // malformed: zarrs rejects it
        };
        // zarrs 0.23 validates this only when a read builds the inner grid, and then panics.
        if sub.len() != outer.len() {
            return Err(Error::invalid_metadata(format!(
                "'{path}': the sharding codec's inner chunk shape {sub:?} has {} dimensions, its \
                 shards {}",
                sub.len(),
                outer.len()
            ))
            .with_key(path.to_string()));
        }
        if checked_size(&sub, elem).is_none() {
            return Err(bad("inner chunk shape", &sub));
        }
        let per_shard: Vec<u64> = outer
            .iter()
            .zip(&sub)
            .map(|(o, s)| o.div_ceil((*s).max(1)))
            .collect();
        if checked_size(&per_shard, 16).is_none() {
            return Err(bad("shard index for inner chunks per shard", &per_shard));
        }
        outer = sub;
        codecs = config
            .and_then(|c| c.get("codecs"))
            .and_then(Value::as_array);
    }
    Ok(())
}

/// [`chunk_sizes`] for parsed metadata.
///
/// # Errors
/// As [`chunk_sizes`].
pub fn array_metadata(path: &str, meta: &ArrayMetadata, elem: u64) -> Result<()> {
    chunk_sizes(path, &serde_json::to_value(meta)?, elem)
}

// ---------------------------------------------------------------------------- shard index

/// Check decoded shard index entries (`[offset, nbytes]` pairs; both `u64::MAX` = empty): each
/// range must not overflow and, when `shard_len` is known, must end inside the shard.
///
/// # Errors
/// A message naming the first bad entry.
pub fn shard_index_entries(
    entries: &[u64],
    shard_len: Option<u64>,
) -> std::result::Result<(), String> {
    match bad_index_entries(entries, shard_len)?.into_iter().next() {
        Some((_, message)) => Err(message),
        None => Ok(()),
    }
}

/// Every entry [`shard_index_entries`] would reject: `(inner chunk, message)`.
///
/// # Errors
/// An index with an odd number of values.
pub fn bad_index_entries(
    entries: &[u64],
    shard_len: Option<u64>,
) -> std::result::Result<Vec<(usize, String)>, String> {
    if !entries.len().is_multiple_of(2) {
        return Err(format!(
            "shard index has an odd number of values ({})",
            entries.len()
        ));
    }
    let mut bad = vec![];
    for (i, pair) in entries.chunks_exact(2).enumerate() {
        let (offset, nbytes) = (pair[0], pair[1]);
        if offset == u64::MAX && nbytes == u64::MAX {
            continue;
        }
        let end = offset
            .checked_add(nbytes)
            .filter(|&e| usize::try_from(e).is_ok());
        match (end, shard_len) {
            (None, _) => bad.push((
                i,
                format!("shard index entry {i} (offset {offset}, nbytes {nbytes}) overflows"),
            )),
            (Some(end), Some(len)) if end > len => bad.push((
                i,
                format!(
                    "shard index entry {i} (offset {offset}, nbytes {nbytes}) ends past the shard of {len} bytes"
                ),
            )),
            _ => {}
        }
    }
    Ok(bad)
}

/// Decode an encoded shard index with the sharding codec's `index_codecs` (crc32c verified
/// there) into `[offset, nbytes]` pairs, for `inner_per_shard` inner chunks.
///
/// # Errors
/// [`ErrorCode::Checksum`] / [`ErrorCode::Codec`] for an index that does not decode.
pub fn decode_shard_index(
    encoded: &[u8],
    index_codecs: &[MetadataV3],
    inner_per_shard: u64,
) -> Result<Vec<u64>> {
    let chain = CodecChain::from_metadata(index_codecs)
        .map_err(|e| Error::unsupported(format!("shard index codecs: {e}")))?;
    let (Some(n), Some(two)) = (NonZeroU64::new(inner_per_shard), NonZeroU64::new(2)) else {
        return Ok(vec![]);
    };
    let decoded = chain.decode(
        Cow::Borrowed(encoded),
        &[n, two],
        &zarrs::array::data_type::uint64(),
        &FillValue::from(u64::MAX),
        &CodecOptions::default(),
    )?;
    let bytes = decoded
        .into_fixed()
        .map_err(|e| Error::new(ErrorCode::Codec, e.to_string()))?;
    Ok(bytes
        .chunks_exact(8)
        .map(|b| u64::from_ne_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .collect())
}

/// A shard's index as checked: its entries, and the inner chunks whose entries are bad.
#[derive(Default)]
struct Checked {
    /// `[offset, nbytes]` pairs; empty for an absent shard, `None` when the index codecs are
    /// not ones decoded here (zarrs then reads that index itself).
    entries: Option<Vec<u64>>,
    /// Why each bad entry (by inner chunk position in the shard) is bad.
    bad: HashMap<u64, String>,
}

impl Checked {
    /// An absent shard: no entries, none bad.
    fn absent() -> Self {
        Self {
            entries: Some(vec![]),
            bad: HashMap::new(),
        }
    }
}

type Verdict = Arc<Checked>;

/// Shard indexes of one array as checked so far (each is read once per handle). A read fails
/// only when an inner chunk it touches has a bad entry, as zarrs' own out-of-range check does:
/// the rest of a damaged shard stays readable. The checked entries also say where each inner
/// chunk lies ([`stored_ranges`](Self::stored_ranges)).
#[derive(Default)]
pub struct ShardChecks {
    verdicts: Mutex<HashMap<Vec<u64>, Verdict>>,
    /// The shard and inner chunk shapes (`None`: unsharded), known once: zarrs'
    /// `subchunk_shape` parses the codec's configuration on every call.
    shapes: std::sync::OnceLock<Option<(Vec<u64>, Vec<u64>)>>,
}

impl ShardChecks {
    /// The shard shape and the inner chunk shape of `array`, `None` when it is unsharded.
    ///
    /// # Errors
    /// Metadata zarrs rejects.
    pub fn shapes(&self, array: &ZArrayInner) -> Result<Option<(&[u64], &[u64])>> {
        if self.shapes.get().is_none() {
            let made = match array.subchunk_shape() {
                None => None,
                Some(sub) => {
                    let zero = vec![0u64; array.dimensionality()];
                    let shard = array.chunk_shape(&zero)?.iter().map(|n| n.get()).collect();
                    Some((shard, sub.iter().map(|n| n.get()).collect()))
                }
            };
            let _ = self.shapes.set(made);
        }
        Ok(self
            .shapes
            .get()
            .and_then(Option::as_ref)
            .map(|(a, b)| (a.as_slice(), b.as_slice())))
    }

    /// Forget every shard checked so far (their indexes may have changed).
    pub fn clear(&self) {
        if let Ok(mut seen) = self.verdicts.lock() {
            seen.clear();
        }
    }

    /// Check the index entries of every inner chunk `subset` (array coordinates) touches. A
    /// no-op for unsharded arrays and for index codecs other than `bytes` + `crc32c`.
    ///
    /// # Errors
    /// [`ErrorCode::Codec`] naming the shard key for an entry that overflows or ends past the
    /// shard, or a shard shorter than its index; checksum and storage errors reading the index.
    pub fn check_subset(
        &self,
        store: &Store,
        array: &ZArrayInner,
        subset: &ArraySubset,
    ) -> Result<()> {
        if !array.is_sharded() {
            return Ok(());
        }
        let (Some((_, sub)), Some(shards)) =
            (self.shapes(array)?, array.chunks_in_array_subset(subset)?)
        else {
            return Ok(());
        };
        let shards: Vec<Vec<u64>> = shards.indices().into_iter().map(|s| s.to_vec()).collect();
        if self
            .verdicts(store, array, &shards)?
            .iter()
            .all(|v| v.bad.is_empty())
        {
            return Ok(()); // the usual case: no inner chunk to enumerate
        }
        let touched = crate::remote_read::subchunks_of_region(subset.start(), subset.shape(), sub);
        self.check_subchunks(store, array, &touched)
    }

    /// [`check_subset`](Self::check_subset) for inner-chunk grid indices, as object-store
    /// prefetches name them (zarrs reads their byte ranges from the index unchecked).
    ///
    /// # Errors
    /// As [`check_subset`](Self::check_subset).
    pub fn check_subchunks(
        &self,
        store: &Store,
        array: &ZArrayInner,
        subchunks: &[Vec<u64>],
    ) -> Result<()> {
        let Some(located) = self.locate(array, subchunks)? else {
            return Ok(());
        };
        let mut shards: Vec<Vec<u64>> = located.iter().map(|(s, _)| s.clone()).collect();
        shards.sort();
        shards.dedup();
        let verdicts: HashMap<&Vec<u64>, Verdict> = shards
            .iter()
            .zip(self.verdicts(store, array, &shards)?)
            .collect();
        for (shard_idx, local) in &located {
            if let Some(message) = verdicts.get(shard_idx).and_then(|v| v.bad.get(local)) {
                let key = array.chunk_key(shard_idx);
                return Err(Error::new(
                    ErrorCode::Codec,
                    format!("shard '{}': {message}", key.as_str()),
                )
                .with_key(key.as_str()));
            }
        }
        Ok(())
    }

    /// Where each of `subchunks` (inner-chunk grid indices, checked by
    /// [`check_subchunks`](Self::check_subchunks) first) lies: its shard and, when stored, its
    /// byte range in the shard (`None` for an absent inner chunk or shard). `None` when a
    /// shard's index was not decoded here. zarrs' own `subchunk_byte_range` cannot serve: it
    /// overflows on the entry of an absent inner chunk.
    ///
    /// # Errors
    /// Metadata zarrs rejects.
    pub fn locations(
        &self,
        array: &ZArrayInner,
        subchunks: &[Vec<u64>],
    ) -> Result<Option<Vec<Location>>> {
        let Some(located) = self.locate(array, subchunks)? else {
            return Ok(None);
        };
        let seen = self.verdicts.lock().map_err(|_| crate::array::lock_err())?;
        let mut out = Vec::with_capacity(located.len());
        for (shard_idx, local) in located {
            let Some(entries) = seen.get(&shard_idx).and_then(|v| v.entries.as_ref()) else {
                return Ok(None);
            };
            let at = usize::try_from(local).unwrap_or(usize::MAX);
            let range = match (entries.get(2 * at), entries.get(2 * at + 1)) {
                (Some(&offset), Some(&nbytes)) if (offset, nbytes) != (u64::MAX, u64::MAX) => {
                    Some(ByteRange::FromStart(offset, Some(nbytes)))
                }
                _ => None,
            };
            out.push((shard_idx, range));
        }
        Ok(Some(out))
    }

    /// [`locations`](Self::locations) per shard: the byte ranges of its stored inner chunks
    /// among `subchunks`, as a prefetch wants them.
    ///
    /// # Errors
    /// As [`locations`](Self::locations).
    pub fn stored_ranges(
        &self,
        array: &ZArrayInner,
        subchunks: &[Vec<u64>],
    ) -> Result<Option<BTreeMap<Vec<u64>, Vec<ByteRange>>>> {
        let Some(locations) = self.locations(array, subchunks)? else {
            return Ok(None);
        };
        let mut out: BTreeMap<Vec<u64>, Vec<ByteRange>> = BTreeMap::new();
        for (shard_idx, range) in locations {
            let ranges = out.entry(shard_idx).or_default();
            ranges.extend(range);
        }
        Ok(Some(out))
    }

    /// Where each inner chunk is ([`Located`]). `None` for an array without inner chunks.
    fn locate(&self, array: &ZArrayInner, subchunks: &[Vec<u64>]) -> Result<Option<Vec<Located>>> {
        let Some((shard, sub)) = self.shapes(array)? else {
            return Ok(None);
        };
        let per_shard: Vec<u64> = shard.iter().zip(sub).map(|(s, u)| s.div_ceil(*u)).collect();
        Ok(Some(
            subchunks
                .iter()
                .map(|s| {
                    let shard_idx: Vec<u64> = s
                        .iter()
                        .zip(sub.iter().zip(shard))
                        .map(|(i, (u, sh))| i * u / sh)
                        .collect();
                    let local = s
                        .iter()
                        .zip(&shard_idx)
                        .zip(&per_shard)
                        .fold(0u64, |acc, ((i, si), n)| acc * n + (i - si * n));
                    (shard_idx, local)
                })
                .collect(),
        ))
    }

    /// The verdict of each shard, reading and checking the indexes not seen yet.
    fn verdicts(
        &self,
        store: &Store,
        array: &ZArrayInner,
        shards: &[Vec<u64>],
    ) -> Result<Vec<Verdict>> {
        let known: Vec<Option<Verdict>> = {
            let seen = self.verdicts.lock().map_err(|_| crate::array::lock_err())?;
            shards.iter().map(|s| seen.get(s).cloned()).collect()
        };
        if known.iter().all(Option::is_some) {
            return Ok(known.into_iter().flatten().collect());
        }
        let plan = IndexPlan::of(array)?;
        let mut out = Vec::with_capacity(shards.len());
        for (shard, known) in shards.iter().zip(known) {
            let verdict = match (known, &plan) {
                (Some(v), _) => v,
                (None, None) => Verdict::default(),
                (None, Some(plan)) => Arc::new(plan.check(store, array, shard)?),
            };
            self.verdicts
                .lock()
                .map_err(|_| crate::array::lock_err())?
                .insert(shard.clone(), verdict.clone());
            out.push(verdict);
        }
        Ok(out)
    }
}

/// An inner chunk's shard (grid index) and its linear (C-order) position within the shard.
type Located = (Vec<u64>, u64);

/// An inner chunk's shard (grid index) and, when stored, its byte range in the shard.
pub type Location = (Vec<u64>, Option<ByteRange>);

/// Where and how the shards of an array store their index.
struct IndexPlan {
    codecs: Vec<MetadataV3>,
    inner_per_shard: u64,
    range: ByteRange,
}

impl IndexPlan {
    fn of(array: &ZArrayInner) -> Result<Option<Self>> {
        let zero = vec![0u64; array.dimensionality()];
        let shard: Vec<u64> = array.chunk_shape(&zero)?.iter().map(|n| n.get()).collect();
        let Some(sub) = array.subchunk_shape() else {
            return Ok(None);
        };
        let inner_per_shard = shard
            .iter()
            .zip(sub.iter())
            .map(|(a, b)| a.div_ceil(b.get()))
            .product();
        let Some(range) = crate::remote_read::index_range(array, inner_per_shard) else {
            return Ok(None);
        };
        let doc = serde_json::to_value(array.metadata())?;
        let codecs = doc
            .get("codecs")
            .and_then(Value::as_array)
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.get("name").and_then(Value::as_str) == Some("sharding_indexed"))
            })
            .and_then(|c| c.pointer("/configuration/index_codecs"))
            .cloned()
            .unwrap_or(Value::Null);
        let codecs: Vec<MetadataV3> = serde_json::from_value(codecs)?;
        Ok(Some(Self {
            codecs,
            inner_per_shard,
            range,
        }))
    }

    /// The shard's entries and its bad ones; whole-shard failures (short shard, undecodable
    /// index) are errors, as every read of the shard would fail on them.
    fn check(&self, store: &Store, array: &ZArrayInner, shard: &[u64]) -> Result<Checked> {
        let key = array.chunk_key(shard);
        let storage = store.storage()?;
        let keyed = |e: Error| e.with_key(key.as_str());
        // Local stores know the shard length for free (object stores would need a request).
        let len = if store.is_remote() {
            None
        } else {
            match storage.size_key(&key).map_err(|e| keyed(e.into()))? {
                None => return Ok(Checked::absent()), // no shard: fill value
                Some(len) => Some(len),
            }
        };
        self.check_stored(store, array, shard, len)
    }

    /// [`check`](Self::check) for a shard of known length (`None`: unknown, object stores).
    fn check_stored(
        &self,
        store: &Store,
        array: &ZArrayInner,
        shard: &[u64],
        len: Option<u64>,
    ) -> Result<Checked> {
        let key = array.chunk_key(shard);
        let storage = store.storage()?;
        let keyed = |e: Error| e.with_key(key.as_str());
        let codec = |m: String| {
            Error::new(ErrorCode::Codec, format!("shard '{}': {m}", key.as_str()))
                .with_key(key.as_str())
        };
        // A shard shorter than its index must be refused here: the storage layer's suffix
        // arithmetic (`len - suffix`) is unchecked.
        let index_len = match self.range {
            ByteRange::FromStart(_, Some(n)) | ByteRange::Suffix(n) => n,
            ByteRange::FromStart(_, None) => 0,
        };
        if let Some(len) = len.filter(|&len| len < index_len) {
            return Err(codec(format!(
                "{len} bytes, fewer than its {index_len}-byte index"
            )));
        }
        let encoded = match storage.get_partial(&key, self.range) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(Checked::absent()),
            Err(e) => return Err(keyed(e.into())),
        };
        let entries =
            decode_shard_index(&encoded, &self.codecs, self.inner_per_shard).map_err(keyed)?;
        let bad = bad_index_entries(&entries, len)
            .map_err(codec)?
            .into_iter()
            .map(|(i, m)| (i as u64, m))
            .collect();
        Ok(Checked {
            entries: Some(entries),
            bad,
        })
    }
}

/// What an object (shard, or chunk when unsharded) of an array holds, as resume and finalize see
/// it. Writes are atomic (a temporary file renamed over the key; one PUT on object stores), so a
/// stored key is a whole object; what can still be wrong is an object damaged after it was
/// written, or one written by something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectState {
    /// Nothing stored at the key (a never-written object, or one left out because it held only
    /// the fill value).
    Absent,
    /// Stored; for a shard, its index decodes (checksum included) and every entry lies inside it.
    Sound,
    /// Stored but its index does not decode or points outside the object: why.
    Damaged(String),
}

/// The state of the object at grid `indices`. Costs one size request and, for shards, one ranged
/// read of the index; chunks of unsharded arrays are not decoded (a stored chunk is `Sound`).
///
/// # Errors
/// Storage errors (an unreachable store is not a damaged object).
pub fn object_state(store: &Store, array: &ZArrayInner, indices: &[u64]) -> Result<ObjectState> {
    let key = array.chunk_key(indices);
    let storage = store.storage()?;
    let Some(len) = storage
        .size_key(&key)
        .map_err(|e| Error::from(e).with_key(key.as_str()))?
    else {
        return Ok(ObjectState::Absent);
    };
    if !array.is_sharded() {
        return Ok(ObjectState::Sound);
    }
    let Some(plan) = IndexPlan::of(array)? else {
        return Ok(ObjectState::Sound);
    };
    match plan.check_stored(store, array, indices, Some(len)) {
        Ok(checked) => Ok(match checked.bad.into_iter().min_by_key(|(i, _)| *i) {
            None => ObjectState::Sound,
            Some((_, why)) => ObjectState::Damaged(why),
        }),
        Err(e) if matches!(e.code, ErrorCode::Codec | ErrorCode::Checksum) => {
            Ok(ObjectState::Damaged(e.message))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vlen(items: &[&[u8]]) -> Vec<u8> {
        let mut out = (items.len() as u32).to_le_bytes().to_vec();
        for it in items {
            out.extend_from_slice(&(it.len() as u32).to_le_bytes());
            out.extend_from_slice(it);
        }
        out
    }

    #[test]
    fn vlen_accepts_well_formed_chunks() {
        assert_eq!(vlen_items(&vlen(&[b"ab", b"", b"xyz"]), 3), Ok(()));
        assert_eq!(vlen_items(&vlen(&[]), 0), Ok(()));
    }

    #[test]
    fn vlen_rejects_corrupt_prefixes() {
        let mut b = vlen(&[b"ab", b"cd"]);
        b[4] = 0xff; // item 0 claims 255 bytes
        assert!(vlen_items(&b, 2).unwrap_err().contains("item 0"));
        let mut b = vlen(&[b"ab", b"cd"]);
        b[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(vlen_items(&b, 2).is_err());
        let b = vlen(&[b"ab", b"cd"]);
        assert!(vlen_items(&b[..b.len() - 3], 2)
            .unwrap_err()
            .contains("item 1"));
        assert!(vlen_items(&b, 3).unwrap_err().contains("expected 3"));
        assert!(vlen_items(&[1, 0], 1).is_err());
    }

    #[test]
    fn shard_entries_overflow_and_bounds() {
        assert_eq!(
            shard_index_entries(&[0, 10, u64::MAX, u64::MAX], Some(10)),
            Ok(())
        );
        assert!(shard_index_entries(&[u64::MAX - 1, 5], None)
            .unwrap_err()
            .contains("overflows"));
        assert!(shard_index_entries(&[0, 10, 5, 6], Some(10))
            .unwrap_err()
            .contains("entry 1"));
        assert!(shard_index_entries(&[0, 10, 5], None).is_err());
    }

    #[test]
    fn huge_chunk_shapes_are_invalid_metadata() {
        let v2 = json!({ "chunks": [1u64 << 62, 4], "shape": [10, 10] });
        let e = chunk_sizes("X", &v2, 8).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidMetadata);
        assert_eq!(e.key.as_deref(), Some("X"));
        assert_eq!(chunk_sizes("X", &json!({ "chunks": [100, 4] }), 8), Ok(()));
        let sharded = |inner: Value| {
            json!({
                "chunk_grid": { "name": "regular", "configuration": { "chunk_shape": [1u64 << 40] } },
                "codecs": [{ "name": "sharding_indexed", "configuration": {
                    "chunk_shape": inner, "codecs": [{ "name": "bytes" }] } }]
            })
        };
        assert!(chunk_sizes("A", &sharded(json!([1u64 << 20])), 4).is_ok());
        // 2^40 inner chunks of one element: the index alone is 16 TiB x 2^... fine, but 2^62
        // elements in the inner chunk overflow with 8-byte elements.
        assert!(chunk_sizes("A", &sharded(json!([1u64 << 62])), 8).is_err());
        let tiny_inner = json!({
            "chunk_grid": { "configuration": { "chunk_shape": [1u64 << 62] } },
            "codecs": [{ "name": "sharding_indexed", "configuration": { "chunk_shape": [1] } }]
        });
        let e = chunk_sizes("A", &tiny_inner, 1).unwrap_err();
        assert!(e.message.contains("shard index"), "{}", e.message);
    }

    #[test]
    fn shard_index_decodes_with_crc32c() {
        let codecs: Vec<MetadataV3> =
            serde_json::from_value(json!([{ "name": "bytes", "configuration": { "endian": "little" } }, { "name": "crc32c" }]))
                .unwrap();
        let chain = CodecChain::from_metadata(&codecs).unwrap();
        let entries: Vec<u64> = vec![0, 8, u64::MAX, u64::MAX];
        let raw: Vec<u8> = entries.iter().flat_map(|v| v.to_ne_bytes()).collect();
        let shape = [NonZeroU64::new(2).unwrap(), NonZeroU64::new(2).unwrap()];
        let encoded = chain
            .encode(
                ArrayBytes::new_flen(raw),
                &shape,
                &zarrs::array::data_type::uint64(),
                &FillValue::from(u64::MAX),
                &CodecOptions::default(),
            )
            .unwrap();
        assert_eq!(decode_shard_index(&encoded, &codecs, 2).unwrap(), entries);
        let mut bad = encoded.to_vec();
        bad[0] ^= 1;
        assert_eq!(
            decode_shard_index(&bad, &codecs, 2).unwrap_err().code,
            ErrorCode::Checksum
        );
    }
}
