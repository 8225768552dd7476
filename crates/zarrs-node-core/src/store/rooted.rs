//! A view of a store below one node's prefix, so zarrs can open an array whose path it refuses.
//!
//! zarrs rejects node names starting with `__` (reserved in v3), but v2 stores use them:
//! anndata <= 0.7 keeps dataframe categories in `obs/__categories/<column>`. Such an array is
//! opened at zarrs' root path on a [`Rooted`] view whose keys are mapped to `<prefix>/<key>`.

use zarrs_storage::byte_range::ByteRangeIterator;
use zarrs_storage::{
    Bytes, ListableStorageTraits, MaybeBytesIterator, OffsetBytesIterator, ReadableStorageTraits,
    StorageError, StoreKey, StoreKeys, StoreKeysPrefixes, StorePrefix, StorePrefixes,
    WritableStorageTraits,
};

use super::Storage;

/// `inner` seen from `prefix` (a node path without a trailing `/`).
pub struct Rooted {
    inner: Storage,
    prefix: String,
}

impl Rooted {
    /// A view of `inner` rooted at the node path `prefix`.
    #[must_use]
    pub fn new(inner: Storage, prefix: &str) -> Self {
        Self {
            inner,
            prefix: format!("{}/", prefix.trim_matches('/')),
        }
    }

    fn key(&self, key: &StoreKey) -> Result<StoreKey, StorageError> {
        StoreKey::new(format!("{}{}", self.prefix, key.as_str()))
            .map_err(|e| StorageError::Other(e.to_string()))
    }

    fn dir(&self, prefix: &StorePrefix) -> Result<StorePrefix, StorageError> {
        StorePrefix::new(format!("{}{}", self.prefix, prefix.as_str()))
            .map_err(|e| StorageError::Other(e.to_string()))
    }

    /// Map keys of the inner store back into this view (keys outside it cannot occur).
    fn strip_keys(&self, keys: StoreKeys) -> Result<StoreKeys, StorageError> {
        keys.into_iter()
            .filter_map(|k| k.as_str().strip_prefix(&self.prefix).map(str::to_string))
            .map(|k| StoreKey::new(k).map_err(|e| StorageError::Other(e.to_string())))
            .collect()
    }

    fn strip_prefixes(&self, prefixes: &StorePrefixes) -> Result<StorePrefixes, StorageError> {
        prefixes
            .iter()
            .filter_map(|p| p.as_str().strip_prefix(&self.prefix).map(str::to_string))
            .map(|p| StorePrefix::new(p).map_err(|e| StorageError::Other(e.to_string())))
            .collect()
    }
}

impl ReadableStorageTraits for Rooted {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        self.inner.get_partial_many(&self.key(key)?, byte_ranges)
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        self.inner.size_key(&self.key(key)?)
    }

    fn supports_get_partial(&self) -> bool {
        self.inner.supports_get_partial()
    }
}

impl ListableStorageTraits for Rooted {
    fn list(&self) -> Result<StoreKeys, StorageError> {
        self.strip_keys(self.inner.list_prefix(&self.dir(&StorePrefix::root())?)?)
    }

    fn list_prefix(&self, prefix: &StorePrefix) -> Result<StoreKeys, StorageError> {
        self.strip_keys(self.inner.list_prefix(&self.dir(prefix)?)?)
    }

    fn list_dir(&self, prefix: &StorePrefix) -> Result<StoreKeysPrefixes, StorageError> {
        let listed = self.inner.list_dir(&self.dir(prefix)?)?;
        Ok(StoreKeysPrefixes::new(
            self.strip_keys(listed.keys().clone())?,
            self.strip_prefixes(listed.prefixes())?,
        ))
    }

    fn size_prefix(&self, prefix: &StorePrefix) -> Result<u64, StorageError> {
        self.inner.size_prefix(&self.dir(prefix)?)
    }
}

impl WritableStorageTraits for Rooted {
    fn set(&self, key: &StoreKey, value: Bytes) -> Result<(), StorageError> {
        self.inner.set(&self.key(key)?, value)
    }

    fn set_partial_many(
        &self,
        key: &StoreKey,
        offset_values: OffsetBytesIterator,
    ) -> Result<(), StorageError> {
        self.inner.set_partial_many(&self.key(key)?, offset_values)
    }

    fn erase(&self, key: &StoreKey) -> Result<(), StorageError> {
        self.inner.erase(&self.key(key)?)
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> Result<(), StorageError> {
        self.inner.erase_prefix(&self.dir(prefix)?)
    }

    fn supports_set_partial(&self) -> bool {
        self.inner.supports_set_partial()
    }
}
