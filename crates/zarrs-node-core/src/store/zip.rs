//! Read-only zip archives as stores (zarr-python's `ZipStore` layout: entries at the archive
//! root; anndata ships its archives as `*.zarr.zip`). zarrs_zip parses the archive through
//! range reads of whatever holds it (a local file or an object), so only the central
//! directory and the entries a read touches are fetched.

use std::sync::{Arc, OnceLock};

use zarrs_storage::byte_range::ByteRangeIterator;
use zarrs_storage::{
    Bytes, ListableStorageTraits, MaybeBytesIterator, OffsetBytesIterator, ReadableStorageTraits,
    ReadableWritableListableStorageTraits, StorageError, StoreKey, StoreKeys, StoreKeysPrefixes,
    StorePrefix, WritableStorageTraits,
};
use zarrs_zip::ZipStorageAdapter;

use super::Storage;
use crate::error::{Error, ErrorCode, RemoteError, Result};

type Adapter = ZipStorageAdapter<dyn ReadableWritableListableStorageTraits>;

/// A zip archive read from the value at `key` of a parent storage. Writes fail with
/// [`StorageError::ReadOnly`] (the [`Guarded`](super::Guarded) adapter refuses them first).
pub struct ZipBackend {
    parent: Storage,
    key: String,
    location: String,
    /// The parsed central directory: at open for local files, on first use for objects (so
    /// `openStore` sends no request from the JS thread, as for other object stores).
    inner: OnceLock<std::result::Result<Adapter, Error>>,
}

impl ZipBackend {
    /// Open the archive stored at `key` in `parent`; `location` names it in errors. With
    /// `lazy` the archive is first read on first use, and its errors surface there.
    ///
    /// # Errors
    /// [`ErrorCode::NotFound`] when there is no such file or object, [`ErrorCode::InvalidInput`]
    /// when it is not a zip archive, [`ErrorCode::Storage`] when reading it fails.
    pub fn open(parent: Storage, key: &str, location: &str, lazy: bool) -> Result<Self> {
        let backend = Self {
            parent,
            key: key.to_string(),
            location: location.to_string(),
            inner: OnceLock::new(),
        };
        if !lazy {
            backend.parsed().map_err(Error::clone)?;
        }
        Ok(backend)
    }

    fn parsed(&self) -> std::result::Result<&Adapter, &Error> {
        self.inner.get_or_init(|| self.parse()).as_ref()
    }

    fn adapter(&self) -> std::result::Result<&Adapter, StorageError> {
        // Carried as the object stores carry their failures, so the core's error conversion
        // keeps the location and a missing archive stays NotFound.
        self.parsed().map_err(|e| {
            StorageError::IOError(Arc::new(std::io::Error::other(RemoteError {
                key: self.location.clone(),
                not_found: e.code == ErrorCode::NotFound,
                message: e.message.clone(),
            })))
        })
    }

    fn parse(&self) -> Result<Adapter> {
        let location = self.location.as_str();
        let store_key = StoreKey::new(self.key.as_str())
            .map_err(|e| Error::invalid_input(e.to_string()).with_key(location))?;
        if self
            .parent
            .size_key(&store_key)
            .map_err(|e| Error::from(e).with_key(location))?
            .is_none()
        {
            return Err(Error::not_found(
                location.to_string(),
                format!("no zip archive at '{location}'"),
            ));
        }
        ZipStorageAdapter::new(self.parent.clone(), store_key).map_err(|e| {
            use zarrs_zip::ZipStorageAdapterCreateError as E;
            // Failing to read the bytes is a storage problem; bytes that are no zip are the
            // caller's (a wrong file).
            let io = matches!(
                e,
                E::IOError(_) | E::StorageError(StorageError::IOError(_) | StorageError::Other(_))
            );
            let code = if io {
                ErrorCode::Storage
            } else {
                ErrorCode::InvalidInput
            };
            Error::new(
                code,
                format!("'{location}' is not a readable zip archive: {e}"),
            )
            .with_key(location)
        })
    }
}

impl ReadableStorageTraits for ZipBackend {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> std::result::Result<MaybeBytesIterator<'a>, StorageError> {
        self.adapter()?.get_partial_many(key, byte_ranges)
    }

    fn size_key(&self, key: &StoreKey) -> std::result::Result<Option<u64>, StorageError> {
        self.adapter()?.size_key(key)
    }

    fn supports_get_partial(&self) -> bool {
        self.adapter().is_ok_and(|a| a.supports_get_partial())
    }
}

/// A key written twice into an archive (zarr-python 2's ZipStore appends on rewrite; anndata's
/// archives have such keys) has two entries; it is one key, whose value is the later entry.
fn dedup<T: PartialEq>(mut sorted: Vec<T>) -> Vec<T> {
    sorted.dedup();
    sorted
}

impl ListableStorageTraits for ZipBackend {
    fn list(&self) -> std::result::Result<StoreKeys, StorageError> {
        self.adapter()?.list().map(dedup)
    }

    fn list_prefix(&self, prefix: &StorePrefix) -> std::result::Result<StoreKeys, StorageError> {
        self.adapter()?.list_prefix(prefix).map(dedup)
    }

    fn list_dir(
        &self,
        prefix: &StorePrefix,
    ) -> std::result::Result<StoreKeysPrefixes, StorageError> {
        let kp = self.adapter()?.list_dir(prefix)?;
        Ok(StoreKeysPrefixes::new(
            dedup(kp.keys().clone()),
            dedup(kp.prefixes().clone()),
        ))
    }

    fn size_prefix(&self, prefix: &StorePrefix) -> std::result::Result<u64, StorageError> {
        self.adapter()?.size_prefix(prefix)
    }
}

impl WritableStorageTraits for ZipBackend {
    fn set(&self, _key: &StoreKey, _value: Bytes) -> std::result::Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn set_partial_many(
        &self,
        _key: &StoreKey,
        _offset_values: OffsetBytesIterator,
    ) -> std::result::Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn erase(&self, _key: &StoreKey) -> std::result::Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn erase_prefix(&self, _prefix: &StorePrefix) -> std::result::Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }

    fn supports_set_partial(&self) -> bool {
        false
    }
}

/// Split `a/b/c.zip` into the parent (`a/b`) and the archive's name (`c.zip`).
#[must_use]
pub fn split_archive_path(path: &str) -> (&str, &str) {
    let path = path.trim_end_matches('/');
    path.rsplit_once('/').unwrap_or(("", path))
}

/// Wrap an opened archive as the [`Storage`] the rest of the store uses.
#[must_use]
pub fn into_storage(backend: ZipBackend) -> Storage {
    Arc::new(backend)
}
