//! Batched reads on object stores.
//!
//! zarrs reads inner chunks one at a time (one ranged GET each) and loads shard indexes
//! one shard at a time. Before a read decodes, this module names every byte range the read
//! will need and has the store fetch them in two rounds: all missing shard indexes at once,
//! then every needed inner chunk, with the ranges of each shard coalesced (adjacent and near
//! inner chunks become one GET) and all requests in flight together up to the store's
//! concurrency limit. zarrs then decodes from those bytes without further requests. A read
//! costs one index request per shard not seen before plus one GET per run of adjacent inner
//! chunks, and about two round trips of latency instead of one per chunk.
//!
//! Reads that need whole objects (chunks a read covers, shards it covers whole, chunks of a
//! compressed unsharded array) fetch them all concurrently in one round of plain GETs
//! ([`prefetch_objects`]); a covered shard's index is then read from its bytes, not fetched
//! on its own first.

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;

use serde_json::Value;
use zarrs::array::{Array, ArrayShardedExt, CodecTraits};
use zarrs_storage::byte_range::ByteRange;
use zarrs_storage::ReadableWritableListableStorageTraits;

use crate::error::Result;
use crate::precheck::ShardChecks;
use crate::store::{PrefetchGuard, Store};

type ZArrayInner = Array<dyn ReadableWritableListableStorageTraits>;

/// Where a shard's index lives and how long it is, from the sharding codec's configuration:
/// `16` bytes per inner chunk plus 4 per `crc32c` index codec. `None` for index codecs whose
/// size cannot be known up front (zarrs then loads those indexes itself).
pub(crate) fn index_range(array: &ZArrayInner, inner_per_shard: u64) -> Option<ByteRange> {
    let doc = serde_json::to_value(array.metadata()).ok()?;
    let config = sharding_configuration(&doc)?;
    let mut size = inner_per_shard.checked_mul(16)?;
    if let Some(codecs) = config.get("index_codecs").and_then(Value::as_array) {
        for c in codecs {
            match c.get("name").and_then(Value::as_str)? {
                "bytes" => {}
                "crc32c" => size += 4,
                _ => return None,
            }
        }
    }
    Some(match config.get("index_location").and_then(Value::as_str) {
        Some("start") => ByteRange::FromStart(0, Some(size)),
        _ => ByteRange::Suffix(size),
    })
}

/// The `sharding_indexed` codec's configuration in an array's metadata document, as stored.
pub(crate) fn sharding_configuration(doc: &Value) -> Option<&Value> {
    doc.get("codecs")?
        .as_array()?
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some("sharding_indexed"))?
        .get("configuration")
}

/// Prefetch what decoding `subchunks` (inner-chunk grid indices) of `array` needs, and check
/// their shard indexes ([`ShardChecks`]). Returns a guard that keeps the fetched bytes (the
/// new indexes too, which zarrs' shard cache reads during the decode) until the decode is
/// done; a no-op guard when the store is local or the array is not (exclusively) sharded.
///
/// # Errors
/// Failed requests (with their key), bad shard indexes, metadata zarrs rejects.
pub fn prefetch_subchunks(
    store: &Store,
    array: &ZArrayInner,
    indexed: &Mutex<HashSet<Vec<u64>>>,
    checks: &ShardChecks,
    subchunks: &[Vec<u64>],
) -> Result<PrefetchGuard> {
    if !store.is_remote() || !array.is_exclusively_sharded() || subchunks.is_empty() {
        checks.check_subchunks(store, array, subchunks)?;
        return Ok(PrefetchGuard::none());
    }
    let Some((shard, sub)) = checks.shapes(array)? else {
        return Ok(PrefetchGuard::none());
    };
    let shards: BTreeSet<Vec<u64>> = subchunks
        .iter()
        .map(|s| {
            s.iter()
                .zip(sub.iter().zip(shard))
                .map(|(i, (u, sh))| i * u / sh)
                .collect()
        })
        .collect();

    // Round 1: the indexes of shards this handle has not decoded yet, all at once.
    let missing: Vec<Vec<u64>> = {
        let seen = indexed.lock().map_err(|_| crate::array::lock_err())?;
        shards.into_iter().filter(|k| !seen.contains(k)).collect()
    };
    let per_shard: u64 = shard.iter().zip(sub).map(|(a, b)| a.div_ceil(*b)).product();
    let index_guard = match index_range(array, per_shard) {
        Some(range) if !missing.is_empty() => store.prefetch(
            missing
                .iter()
                .map(|s| (array.chunk_key(s), vec![range]))
                .collect(),
        )?,
        _ => PrefetchGuard::none(),
    };
    // Checked (and decoded) from round 1's bytes, so the check costs no request.
    checks.check_subchunks(store, array, subchunks)?;
    // Index codecs not decoded here: zarrs fetches those inner chunks itself.
    let Some(wants) = checks.stored_ranges(array, subchunks)? else {
        return Ok(index_guard);
    };
    indexed
        .lock()
        .map_err(|_| crate::array::lock_err())?
        .extend(missing);

    // Round 2: every stored inner chunk needed, coalesced per shard.
    let data_guard = store.prefetch(
        wants
            .into_iter()
            .filter(|(_, r)| !r.is_empty())
            .map(|(s, r)| (array.chunk_key(&s), r))
            .collect(),
    )?;
    Ok(index_guard.and(data_guard))
}

/// Objects a whole-object read prefetches at once: with the default 16 requests in flight,
/// four rounds, so the barrier between slabs idles the connections for a fraction of a round.
pub const SLAB_OBJECTS: u64 = 64;

/// Prefetch the whole objects (chunks, or shards) at grid `indices`, all in flight together
/// up to the store's concurrency limit. A no-op guard for local stores.
///
/// # Errors
/// Failed requests (with their key).
pub fn prefetch_objects(
    store: &Store,
    array: &ZArrayInner,
    indices: &[Vec<u64>],
) -> Result<PrefetchGuard> {
    if !store.is_remote() {
        return Ok(PrefetchGuard::none());
    }
    store.prefetch(
        indices
            .iter()
            .map(|c| (array.chunk_key(c), vec![ByteRange::FromStart(0, None)]))
            .collect(),
    )
}

/// Whether zarrs reads a chunk of `array` whole even when a read needs part of it: the chain
/// cannot read part of its input (a compressor, a checksum).
#[must_use]
pub fn reads_whole_chunks(array: &ZArrayInner) -> bool {
    !array.codecs().partial_decoder_capability().partial_read
}

/// Inner-chunk grid indices of every inner chunk a region touches.
#[must_use]
pub fn subchunks_of_region(start: &[u64], region: &[u64], sub: &[u64]) -> Vec<Vec<u64>> {
    let mut out: Vec<Vec<u64>> = vec![vec![]];
    for d in 0..start.len() {
        if region[d] == 0 {
            return vec![];
        }
        let lo = start[d] / sub[d];
        let hi = (start[d] + region[d] - 1) / sub[d];
        out = out
            .into_iter()
            .flat_map(|p| {
                (lo..=hi).map(move |i| {
                    let mut p = p.clone();
                    p.push(i);
                    p
                })
            })
            .collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_subchunks() {
        assert_eq!(
            subchunks_of_region(&[3, 0], &[10, 4], &[4, 4]),
            vec![vec![0, 0], vec![1, 0], vec![2, 0], vec![3, 0]]
        );
        assert!(subchunks_of_region(&[0], &[0], &[4]).is_empty());
    }
}
