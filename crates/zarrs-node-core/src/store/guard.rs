//! The adapter every backend sits behind: key validation, read-only enforcement and exact
//! request/byte accounting (what `Store.stats()` reports and request-count tests assert).
//!
//! Local and memory backends are counted here, one request per storage call (a whole read, a
//! byte range, a write, a list, a delete). Object stores count themselves, at the HTTP layer,
//! because only there is a request a request: a coalesced range read, a multipart part, a retry
//! and a LIST page each cost one (see `remote`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use zarrs_storage::byte_range::ByteRangeIterator;
use zarrs_storage::{
    Bytes, ListableStorageTraits, MaybeBytesIterator, OffsetBytesIterator, ReadableStorageTraits,
    StorageError, StoreKey, StoreKeys, StoreKeysPrefixes, StorePrefix, WritableStorageTraits,
};

use super::{validate_path, Storage};

/// Counters reported by `Store.stats()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Backend operations: one per whole read, per byte range, per write, per list and per delete.
    pub requests: u64,
    /// Bytes returned by reads.
    pub bytes_read: u64,
    /// Bytes handed to writes.
    pub bytes_written: u64,
}

/// The counters behind [`StoreStats`], shared between the adapter and a backend that counts
/// for itself.
#[derive(Debug, Default)]
pub struct Counters {
    requests: AtomicU64,
    bytes_read: AtomicU64,
    bytes_written: AtomicU64,
}

impl Counters {
    /// Count `n` requests.
    pub fn add_requests(&self, n: u64) {
        self.requests.fetch_add(n, Ordering::Relaxed);
    }

    /// Count `n` bytes read.
    pub fn add_read(&self, n: u64) {
        self.bytes_read.fetch_add(n, Ordering::Relaxed);
    }

    /// Count `n` bytes written.
    pub fn add_written(&self, n: u64) {
        self.bytes_written.fetch_add(n, Ordering::Relaxed);
    }

    /// Snapshot.
    pub fn stats(&self) -> StoreStats {
        StoreStats {
            requests: self.requests.load(Ordering::Relaxed),
            bytes_read: self.bytes_read.load(Ordering::Relaxed),
            bytes_written: self.bytes_written.load(Ordering::Relaxed),
        }
    }

    /// Zero all counters.
    pub fn reset(&self) {
        self.requests.store(0, Ordering::Relaxed);
        self.bytes_read.store(0, Ordering::Relaxed);
        self.bytes_written.store(0, Ordering::Relaxed);
    }
}

/// Validates, enforces read-only and counts, then forwards to the backend.
pub struct Guarded {
    inner: Storage,
    read_only: AtomicBool,
    counters: Arc<Counters>,
    /// Whether this adapter counts (local, memory) or the backend does (object stores).
    counting: bool,
}

impl Guarded {
    /// Wrap `inner`, counting every call here.
    pub fn new(inner: Storage, read_only: bool) -> Self {
        Self {
            inner,
            read_only: AtomicBool::new(read_only),
            counters: Arc::default(),
            counting: true,
        }
    }

    /// Wrap a backend that counts its own requests and bytes into `counters`.
    pub fn self_counting(inner: Storage, read_only: bool, counters: Arc<Counters>) -> Self {
        Self {
            inner,
            read_only: AtomicBool::new(read_only),
            counters,
            counting: false,
        }
    }

    /// Whether writes are refused.
    pub fn read_only(&self) -> bool {
        self.read_only.load(Ordering::Relaxed)
    }

    /// Snapshot of the counters.
    pub fn stats(&self) -> StoreStats {
        self.counters.stats()
    }

    /// Zero the counters.
    pub fn reset_stats(&self) {
        self.counters.reset();
    }

    fn count(&self, requests: u64) {
        if self.counting {
            self.counters.add_requests(requests);
        }
    }

    fn count_read(&self, n: usize) {
        if self.counting {
            self.counters.add_read(n as u64);
        }
    }

    fn count_written(&self, n: usize) {
        if self.counting {
            self.counters.add_written(n as u64);
        }
    }

    fn check_key(key: &str) -> Result<(), StorageError> {
        validate_path(key.trim_end_matches('/'))
            .map_err(|e| StorageError::Other(format!("invalid store key: {}", e.message)))
    }

    fn check_write(&self, key: &str) -> Result<(), StorageError> {
        if self.read_only() {
            return Err(StorageError::ReadOnly);
        }
        Self::check_key(key)
    }
}

impl ReadableStorageTraits for Guarded {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        Self::check_key(key.as_str())?;
        let ranges: Vec<_> = byte_ranges.collect();
        self.count(ranges.len().max(1) as u64);
        let values = self
            .inner
            .get_partial_many(key, Box::new(ranges.into_iter()))?;
        Ok(values.map(|it| {
            let values: Vec<_> = it.collect();
            let n: usize = values
                .iter()
                .map(|b| b.as_ref().map_or(0, Bytes::len))
                .sum();
            self.count_read(n);
            Box::new(values.into_iter()) as Box<dyn Iterator<Item = _>>
        }))
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        Self::check_key(key.as_str())?;
        self.count(1);
        self.inner.size_key(key)
    }

    fn supports_get_partial(&self) -> bool {
        self.inner.supports_get_partial()
    }
}

impl ListableStorageTraits for Guarded {
    fn list(&self) -> Result<StoreKeys, StorageError> {
        self.count(1);
        self.inner.list()
    }

    fn list_prefix(&self, prefix: &StorePrefix) -> Result<StoreKeys, StorageError> {
        Self::check_key(prefix.as_str())?;
        self.count(1);
        self.inner.list_prefix(prefix)
    }

    fn list_dir(&self, prefix: &StorePrefix) -> Result<StoreKeysPrefixes, StorageError> {
        Self::check_key(prefix.as_str())?;
        self.count(1);
        self.inner.list_dir(prefix)
    }

    fn size_prefix(&self, prefix: &StorePrefix) -> Result<u64, StorageError> {
        Self::check_key(prefix.as_str())?;
        self.count(1);
        self.inner.size_prefix(prefix)
    }
}

impl WritableStorageTraits for Guarded {
    fn set(&self, key: &StoreKey, value: Bytes) -> Result<(), StorageError> {
        self.check_write(key.as_str())?;
        self.count(1);
        self.count_written(value.len());
        self.inner.set(key, value)
    }

    fn set_partial_many(
        &self,
        key: &StoreKey,
        offset_values: OffsetBytesIterator,
    ) -> Result<(), StorageError> {
        self.check_write(key.as_str())?;
        let values: Vec<_> = offset_values.collect();
        self.count(values.len() as u64);
        let n: usize = values.iter().map(|(_, b)| b.len()).sum();
        self.count_written(n);
        self.inner
            .set_partial_many(key, Box::new(values.into_iter()))
    }

    fn erase(&self, key: &StoreKey) -> Result<(), StorageError> {
        self.check_write(key.as_str())?;
        self.count(1);
        self.inner.erase(key)
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> Result<(), StorageError> {
        self.check_write(prefix.as_str())?;
        self.count(1);
        self.inner.erase_prefix(prefix)
    }

    fn supports_set_partial(&self) -> bool {
        self.inner.supports_set_partial()
    }
}
