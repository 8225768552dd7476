//! The chunking and sharding policy, in one place: the `'auto'` shapes of `createArray`, and the
//! per-element shapes the AnnData writer and the converter use (by what an array holds).
//!
//! Plain arrays (`chunks: 'auto'`, `shards: 'auto'`): halve the largest dimension until an
//! (inner) chunk is at most [`AUTO_CHUNK_BYTES`] uncompressed, then grow the shard dimension by
//! dimension (round-robin, doubling) until it reaches [`AUTO_SHARD_BYTES`] or covers the array.
//!
//! AnnData elements ([`role_layout`]): dense matrices get whole-row inner chunks of about
//! `chunk_bytes` (rows wider than that split into 16-row column blocks), sparse `data`/`indices`
//! a quarter of that (a random-row read decodes little beyond the row), 1-D columns and
//! `indptr` `chunk_bytes`; shards grow along the trailing axes first (full rows), then rows, up
//! to `shard_bytes`; an array that fits one inner chunk is left unsharded.
//!
//! Why 64 MiB shards: a shard is the unit of writing, encoded once by one worker and buffered
//! whole, so `threads x shard` must fit comfortably in memory, while object stores should see
//! few, big PUTs. The reference's ~1 GB shards make every writer hold a gigabyte per thread and
//! make a partial rewrite cost a gigabyte.

/// Target uncompressed size of an automatically sized (inner) chunk.
pub const AUTO_CHUNK_BYTES: u64 = 1 << 20;
/// Target uncompressed size of an automatically sized shard.
pub const AUTO_SHARD_BYTES: u64 = 64 << 20;

pub(crate) fn checked_bytes(shape: &[u64], elem: usize) -> Option<u64> {
    shape
        .iter()
        .try_fold(elem as u64, |acc, &d| acc.checked_mul(d.max(1)))
}

/// The `'auto'` inner chunk shape for `shape`.
#[must_use]
pub fn auto_chunks(shape: &[u64], elem: usize) -> Vec<u64> {
    let mut c: Vec<u64> = shape.iter().map(|&s| s.max(1)).collect();
    loop {
        let bytes = checked_bytes(&c, elem).unwrap_or(u64::MAX);
        if bytes <= AUTO_CHUNK_BYTES {
            return c;
        }
        let (i, &largest) = match c.iter().enumerate().max_by_key(|(_, &v)| v) {
            Some(x) => x,
            None => return c,
        };
        if largest <= 1 {
            return c;
        }
        c[i] = largest.div_ceil(2);
    }
}

/// The `'auto'` shard shape for `shape` with inner `chunks`.
#[must_use]
pub fn auto_shards(shape: &[u64], chunks: &[u64], elem: usize) -> Vec<u64> {
    let max_k: Vec<u64> = shape
        .iter()
        .zip(chunks)
        .map(|(&s, &c)| s.div_ceil(c).max(1))
        .collect();
    let mut k = vec![1u64; chunks.len()];
    let shard = |k: &[u64]| -> Vec<u64> { k.iter().zip(chunks).map(|(a, b)| a * b).collect() };
    loop {
        let mut grew = false;
        for d in 0..k.len() {
            if k[d] >= max_k[d] {
                continue;
            }
            let mut next = k.clone();
            next[d] = (k[d] * 2).min(max_k[d]);
            if checked_bytes(&shard(&next), elem).is_some_and(|b| b <= AUTO_SHARD_BYTES) {
                k = next;
                grew = true;
            }
        }
        if !grew {
            return shard(&k);
        }
    }
}

/// What an AnnData array holds, for [`role_layout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A dense matrix (X, layers, obsm, varm).
    Dense,
    /// Sparse `data` / `indices`.
    Sparse,
    /// Sparse `indptr`.
    Indptr,
    /// A 1-D column (obs/var columns, codes, categories, masks).
    Column,
}

impl Role {
    /// Parse the name the TypeScript layer uses (`'dense'`, `'sparse'`, `'indptr'`, `'column'`).
    ///
    /// # Errors
    /// `InvalidInput` for any other name.
    pub fn parse(name: &str) -> crate::error::Result<Self> {
        Ok(match name {
            "dense" => Self::Dense,
            "sparse" => Self::Sparse,
            "indptr" => Self::Indptr,
            "column" => Self::Column,
            other => {
                return Err(crate::error::Error::invalid_input(format!(
                    "unknown array role '{other}'"
                )))
            }
        })
    }
}

/// Inner chunk and (when sharding pays) shard shapes of an AnnData array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Inner chunk shape (the chunk shape when unsharded).
    pub chunks: Vec<u64>,
    /// Shard shape; `None` when the array fits one inner chunk or sharding is off.
    pub shards: Option<Vec<u64>>,
}

fn clamp(n: u64, extent: u64) -> u64 {
    n.min(extent).max(1)
}

/// Whole-row inner chunks of about `chunk_bytes`; rows wider than that split into 16-row
/// column blocks.
fn role_chunks(shape: &[u64], item: u64, chunk_bytes: u64) -> Vec<u64> {
    let elems = (chunk_bytes / item.max(1)).max(1);
    let Some((&first, rest)) = shape.split_first() else {
        return Vec::new();
    };
    if rest.is_empty() {
        return vec![clamp(elems, first)];
    }
    let row_elems: u64 = rest.iter().product();
    if row_elems <= elems {
        let mut c = vec![clamp(elems / row_elems.max(1), first)];
        c.extend_from_slice(rest);
        return c;
    }
    let rows = clamp(16, first);
    let trailing: u64 = rest[1..].iter().product();
    let cols = clamp(elems / (rows * trailing.max(1)), rest[0]);
    let mut c = vec![rows, cols];
    c.extend_from_slice(&rest[1..]);
    c
}

/// Grow the shard along the trailing axes first (full rows), then rows, within `shard_bytes`.
fn role_shards(shape: &[u64], chunks: &[u64], item: u64, shard_bytes: u64) -> Vec<u64> {
    let mut shard = chunks.to_vec();
    for d in (0..shape.len()).rev() {
        let bytes: u64 = shard.iter().product::<u64>().saturating_mul(item);
        let full = shape[d].div_ceil(chunks[d]) * chunks[d];
        let k = (shard_bytes / bytes.max(1)).max(1);
        shard[d] = full.min(chunks[d].saturating_mul(k));
    }
    shard
}

/// The layout of an AnnData array of `shape` with `item`-byte elements holding `role`.
/// `chunks` overrides the inner chunk shape; `sharded: false` leaves it unsharded.
#[must_use]
pub fn role_layout(
    role: Role,
    shape: &[u64],
    item: u64,
    chunk_bytes: u64,
    shard_bytes: u64,
    chunks: Option<&[u64]>,
    sharded: bool,
) -> Layout {
    if shape.is_empty() {
        return Layout {
            chunks: Vec::new(),
            shards: None,
        };
    }
    let chunk_bytes = if role == Role::Sparse {
        chunk_bytes / 4
    } else {
        chunk_bytes
    };
    let chunks: Vec<u64> = chunks
        .map_or_else(|| role_chunks(shape, item, chunk_bytes), <[u64]>::to_vec)
        .into_iter()
        .map(|c| c.max(1))
        .collect();
    let one_chunk = shape.iter().zip(&chunks).all(|(&s, &c)| s.div_ceil(c) <= 1);
    let shards = (sharded && !one_chunk).then(|| role_shards(shape, &chunks, item, shard_bytes));
    Layout { chunks, shards }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn auto_chunk_and_shard_policy() {
        let c = auto_chunks(&[1024, 1024, 512], 2);
        assert!(c.iter().product::<u64>() * 2 <= AUTO_CHUNK_BYTES);
        let s = auto_shards(&[1024, 1024, 512], &c, 2);
        let bytes = s.iter().product::<u64>() * 2;
        assert!(
            bytes <= AUTO_SHARD_BYTES && bytes > AUTO_SHARD_BYTES / 4,
            "{s:?}"
        );
        assert!(s.iter().zip(&c).all(|(s, c)| s % c == 0));
        // Small arrays: one shard covering the array (rounded to chunks).
        assert_eq!(auto_shards(&[10], &[4], 4), vec![12]);
        assert_eq!(auto_chunks(&[0, 3], 4), vec![1, 3]);
    }

    #[test]
    fn role_policy() {
        const MIB: u64 = 1 << 20;
        // 20k-gene float32 rows: 13 whole rows per 1 MiB chunk, shards of full rows to 64 MiB.
        let l = role_layout(
            Role::Dense,
            &[100_000, 20_000],
            4,
            MIB,
            64 * MIB,
            None,
            true,
        );
        assert_eq!(l.chunks, vec![13, 20_000]);
        assert_eq!(l.shards, Some(vec![13 * 64, 20_000]));
        // rows wider than a chunk: 16-row column blocks
        let w = role_layout(
            Role::Dense,
            &[1000, 1_000_000],
            4,
            MIB,
            64 * MIB,
            None,
            true,
        );
        assert_eq!(w.chunks, vec![16, 16_384]);
        // sparse data: a quarter of the chunk size; small arrays unsharded; scalars empty
        let d = role_layout(Role::Sparse, &[100_000_000], 4, MIB, 64 * MIB, None, true);
        assert_eq!(d.chunks, vec![65_536]);
        assert_eq!(d.shards, Some(vec![65_536 * 256]));
        let c = role_layout(Role::Column, &[1000], 4, MIB, 64 * MIB, None, true);
        assert_eq!((c.chunks, c.shards), (vec![1000], None));
        assert_eq!(
            role_layout(Role::Column, &[], 4, MIB, MIB, None, true).chunks,
            Vec::<u64>::new()
        );
        let unsharded = role_layout(
            Role::Dense,
            &[100_000, 20_000],
            4,
            MIB,
            64 * MIB,
            None,
            false,
        );
        assert_eq!(unsharded.shards, None);
    }
}
