//! Resizing: a new shape (stored chunks wholly outside it are erased) and appends along one
//! axis (resize, then a write of the new part).

use zarrs::array::ArrayShardedReadableExtCache;
use zarrs_storage::StoreKey;

use super::{lock_err, WriteValue, ZArray};
use crate::error::{Error, Result};
use crate::runtime::CancelToken;
use crate::selection::DimSpec;

impl ZArray {
    /// Change the shape. Chunks entirely outside the new shape are deleted.
    ///
    /// # Errors
    /// Read-only store, a shape of the wrong dimensionality, or storage failure.
    pub fn resize(&self, new_shape: Vec<u64>) -> Result<()> {
        self.store.check_writable(&self.path)?;
        let old_chunks = {
            let mut inner = self.inner.write().map_err(|_| lock_err())?;
            if new_shape.len() != inner.array.dimensionality() {
                return Err(Error::invalid_input(format!(
                    "new shape {new_shape:?} has {} dimensions, the array has {}",
                    new_shape.len(),
                    inner.array.dimensionality()
                ))
                .with_key(self.path.clone()));
            }
            let chunk = self.grid_chunk_shape(&inner.array)?;
            inner
                .array
                .set_shape(new_shape.clone())
                .map_err(|e| Error::from(e).with_key(self.path.clone()))?;
            inner.shard_cache = ArrayShardedReadableExtCache::new(&inner.array);
            inner.clear_shard_cache();
            chunk
        };
        self.store_metadata()?;
        let deleted = self.delete_chunks_outside(&new_shape, &old_chunks);
        // A read between the shape change and the deletions may have cached a deleted shard.
        if let Ok(inner) = self.inner.read() {
            inner.clear_shard_cache();
        }
        deleted
    }

    /// Erase the stored chunks (shards) that lie wholly outside `shape`. A listed key counts as
    /// a chunk only if the array's own chunk key encoding maps its grid indices back to exactly
    /// that key, so every encoding (v3 default or v2, `/` or `.`) is handled and no foreign
    /// object is touched.
    fn delete_chunks_outside(&self, shape: &[u64], chunk: &[u64]) -> Result<()> {
        let storage = self.store.storage()?;
        let prefix = if self.path.is_empty() {
            String::new()
        } else {
            format!("{}/", self.path)
        };
        let keys = self.store.list(&self.path)?;
        let stale: Vec<String> = self.with(|i| {
            Ok(keys
                .into_iter()
                .filter(|key| {
                    let Some(idx) = key.strip_prefix(&prefix).and_then(|rel| {
                        chunk_indices_candidate(rel).filter(|idx| idx.len() == shape.len())
                    }) else {
                        return false;
                    };
                    i.array.chunk_key(&idx).as_str() == key
                        && idx
                            .iter()
                            .zip(chunk)
                            .zip(shape)
                            .any(|((&g, &c), &s)| g.saturating_mul(c) >= s)
                })
                .collect())
        })?;
        for key in stale {
            let k = StoreKey::new(key.clone()).map_err(|e| Error::invalid_input(e.to_string()))?;
            storage
                .erase(&k)
                .map_err(|e| Error::from(e).with_key(key.clone()))?;
        }
        Ok(())
    }

    /// Append along `axis`: grow the shape and write `value` (shaped `value_shape`) at the end.
    ///
    /// # Errors
    /// Shape mismatch, read-only store, or write errors.
    pub fn append(
        &self,
        value: WriteValue<'_>,
        value_shape: &[u64],
        axis: usize,
        cancel: &CancelToken,
    ) -> Result<Vec<u64>> {
        let shape = self.shape()?;
        if axis >= shape.len() || value_shape.len() != shape.len() {
            return Err(Error::invalid_input(format!(
                "cannot append data of shape {value_shape:?} along axis {axis} to an array of shape {shape:?}"
            ))
            .with_key(self.path.clone()));
        }
        if let Some(d) = (0..shape.len()).find(|&d| d != axis && shape[d] != value_shape[d]) {
            return Err(Error::invalid_input(format!(
                "appended data has length {} in dimension {d}, the array has {}",
                value_shape[d], shape[d]
            ))
            .with_key(self.path.clone()));
        }
        let mut new_shape = shape.clone();
        new_shape[axis] += value_shape[axis];
        self.resize(new_shape.clone())?;
        let specs: Vec<DimSpec> = (0..shape.len())
            .map(|d| {
                if d == axis {
                    DimSpec::Slice {
                        start: Some(shape[d] as i64),
                        stop: None,
                        step: None,
                    }
                } else {
                    DimSpec::All
                }
            })
            .collect();
        self.set(&specs, value, cancel)?;
        Ok(new_shape)
    }
}

/// Grid indices a chunk key relative to its array could stand for (`c/1/2`, `c.1.2`, `1.2`,
/// `1/2`); the caller confirms them against the array's chunk key encoding.
fn chunk_indices_candidate(rel: &str) -> Option<Vec<u64>> {
    let rel = rel
        .strip_prefix("c/")
        .or_else(|| rel.strip_prefix("c."))
        .unwrap_or(rel);
    rel.split(['/', '.'])
        .map(|p| p.parse::<u64>().ok())
        .collect()
}
