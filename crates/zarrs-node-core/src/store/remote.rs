//! Object stores (S3, GCS, Azure, HTTP) as a zarrs async store over `object_store`, run on
//! the process-wide I/O runtime behind zarrs' async-to-sync adapter.
//!
//! Why not `zarrs_object_store::AsyncObjectStore` as is: it sends a HEAD before every ranged
//! read, flattens errors into strings (losing the key and not-found), and uploads large values
//! in one PUT. Here:
//! - a ranged read is one GET (`Range: bytes=a-b`, or a suffix range); Azure, which has no
//!   suffix ranges, pays one HEAD for the size;
//! - several ranges of one object are coalesced (ranges closer than the gap become one GET)
//!   and fetched concurrently, bounded by one semaphore per store;
//! - values above the multipart threshold are uploaded in parts and aborted on failure, so a
//!   failed write never leaves a partial object;
//! - every HTTP request, retries included, is counted where it is sent (a counting
//!   [`HttpConnector`]), so `Store.stats().requests` is the number of requests the server saw;
//! - errors keep the key and whether it was not found ([`RemoteError`]).
//!
//! Reads of many inner chunks go through [`ObjectBackend::prefetch`]: the array layer names
//! all byte ranges it will need up front, they are fetched coalesced and concurrently, and
//! zarrs' decoders are then served from that set without further requests.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt};
use zarrs_object_store::object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpRequest, HttpResponse, HttpService, ReqwestConnector,
};
use zarrs_object_store::object_store::path::Path;
use zarrs_object_store::object_store::{
    self, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMultipartOptions,
    PutOptions, PutPayload,
};
use zarrs_storage::byte_range::{ByteRange, ByteRangeIterator, InvalidByteRangeError};
use zarrs_storage::{
    AsyncListableStorageTraits, AsyncMaybeBytesIterator, AsyncReadableStorageTraits,
    AsyncWritableStorageTraits, Bytes, MaybeBytes, OffsetBytesIterator, StorageError, StoreKey,
    StoreKeys, StoreKeysPrefixes, StorePrefix,
};

use super::guard::Counters;
use super::remote_config::{RemoteKind, RemoteOptions, RemoteUrl};
use crate::error::{RemoteError, Result};

/// Counts each HTTP request a client sends (retries included), then sends it.
#[derive(Debug)]
struct CountingService {
    inner: HttpClient,
    counters: Arc<Counters>,
}

#[async_trait::async_trait]
impl HttpService for CountingService {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        self.counters.add_requests(1);
        self.inner.execute(req).await
    }
}

/// The default (reqwest) connector behind a [`CountingService`].
#[derive(Debug)]
pub(crate) struct CountingConnector(pub Arc<Counters>);

impl HttpConnector for CountingConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(CountingService {
            inner: ReqwestConnector::default().connect(options)?,
            counters: self.0.clone(),
        }))
    }
}

/// Byte ranges fetched ahead of a decode: per key, either absent or blocks at absolute offsets.
#[derive(Debug, Default)]
struct Prefetched {
    entries: HashMap<StoreKey, Option<Blocks>>,
}

#[derive(Debug, Default)]
struct Blocks {
    size: Option<u64>,
    blocks: Vec<(u64, Bytes)>,
}

impl Blocks {
    fn slice(&self, range: &ByteRange) -> Option<Bytes> {
        let (start, end) = match *range {
            ByteRange::FromStart(o, Some(l)) => (o, o.checked_add(l)?),
            ByteRange::FromStart(o, None) => (o, self.size?),
            ByteRange::Suffix(n) => (self.size?.checked_sub(n)?, self.size?),
        };
        self.blocks.iter().find_map(|(at, b)| {
            let b_end = at + b.len() as u64;
            (*at <= start && end <= b_end)
                .then(|| b.slice((start - at) as usize..(end - at) as usize))
        })
    }
}

/// Removes its prefetched set from the backend when dropped.
#[must_use = "the prefetched ranges are dropped with the guard"]
pub struct PrefetchGuard {
    owners: Vec<(Arc<ObjectBackend>, Arc<Prefetched>)>,
}

impl PrefetchGuard {
    /// A guard holding nothing (local stores, nothing to fetch).
    pub fn none() -> Self {
        Self { owners: vec![] }
    }

    /// One guard holding what both hold, until it is dropped.
    pub fn and(mut self, mut other: Self) -> Self {
        self.owners.append(&mut other.owners);
        self
    }
}

impl Drop for PrefetchGuard {
    fn drop(&mut self) {
        for (backend, set) in self.owners.drain(..) {
            if let Ok(mut sets) = backend.prefetched.lock() {
                sets.retain(|s| !Arc::ptr_eq(s, &set));
            }
        }
    }
}

/// One object-store location as a zarrs async store.
pub struct ObjectBackend {
    store: Arc<dyn ObjectStore>,
    kind: RemoteKind,
    location: String,
    counters: Arc<Counters>,
    limit: tokio::sync::Semaphore,
    concurrency: usize,
    coalesce_gap: Option<u64>,
    multipart_threshold: u64,
    part_size: u64,
    prefetched: Mutex<Vec<Arc<Prefetched>>>,
}

impl std::fmt::Debug for ObjectBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBackend")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// The object path of a store key, taken as is (`Path::from` would percent-encode characters
/// such as `ü` a second time on top of the HTTP layer's encoding).
fn path(key: &str) -> Path {
    Path::parse(key).unwrap_or_else(|_| Path::from(key))
}

/// Merge sorted-by-start `ranges` whose gap is at most `gap` (`None`: no merging). Returns the
/// merged ranges; each input range lies inside exactly one of them.
fn coalesce(ranges: &[Range<u64>], gap: Option<u64>) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = ranges.to_vec();
    sorted.sort_by_key(|r| (r.start, r.end));
    sorted.dedup();
    let Some(gap) = gap else {
        return sorted;
    };
    let mut out: Vec<Range<u64>> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match out.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(gap) => {
                last.end = last.end.max(r.end);
            }
            _ => out.push(r),
        }
    }
    out
}

impl ObjectBackend {
    /// Connect to `url` with `options`, counting into `counters`. No request is sent.
    ///
    /// # Errors
    /// Incomplete configuration or missing credentials ([`crate::ErrorCode::Storage`]).
    pub fn new(
        location: &str,
        url: &RemoteUrl,
        options: &RemoteOptions,
        counters: Arc<Counters>,
    ) -> Result<Self> {
        let client = options.build(url, CountingConnector(counters.clone()))?;
        let store: Arc<dyn ObjectStore> = if url.prefix.is_empty() {
            client
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(
                client,
                path(&url.prefix),
            ))
        };
        let (multipart_threshold, part_size) = options.multipart();
        Ok(Self {
            store,
            kind: url.kind,
            location: location.to_string(),
            counters,
            limit: tokio::sync::Semaphore::new(options.concurrency()),
            concurrency: options.concurrency(),
            coalesce_gap: options.coalesce_gap(),
            multipart_threshold,
            part_size,
            prefetched: Mutex::new(Vec::new()),
        })
    }

    /// The service behind this store.
    #[must_use]
    pub fn kind(&self) -> RemoteKind {
        self.kind
    }

    fn err(&self, what: &str, key: &str, e: &object_store::Error) -> StorageError {
        let not_found = matches!(e, object_store::Error::NotFound { .. });
        let message = format!(
            "{} {what} of '{key}' in {} failed: {}",
            self.kind.name(),
            self.location,
            crate::error::chain(e)
        );
        let kind = if not_found {
            std::io::ErrorKind::NotFound
        } else {
            std::io::ErrorKind::Other
        };
        StorageError::IOError(Arc::new(std::io::Error::new(
            kind,
            RemoteError {
                key: key.to_string(),
                not_found,
                message,
            },
        )))
    }

    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, StorageError> {
        self.limit
            .acquire()
            .await
            .map_err(|_| StorageError::Other("object store request limiter closed".into()))
    }

    /// One GET (whole value or one range). `None` when the object does not exist; otherwise
    /// the bytes, where they start, and the object's size.
    async fn get_one(
        &self,
        key: &str,
        range: Option<GetRange>,
    ) -> Result<Option<(u64, Bytes, u64)>, StorageError> {
        let _permit = self.permit().await?;
        let options = GetOptions {
            range: range.clone(),
            ..GetOptions::default()
        };
        let result = match self.store.get_opts(&path(key), options).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.err("GET", key, &e)),
        };
        let (start, size) = (result.range.start, result.meta.size);
        let want = result.range.end - result.range.start;
        let bytes = result.bytes().await.map_err(|e| self.err("GET", key, &e))?;
        self.counters.add_read(bytes.len() as u64);
        if bytes.len() as u64 != want {
            return Err(StorageError::Other(format!(
                "{} GET of '{key}' in {} returned {} bytes, expected {want}",
                self.kind.name(),
                self.location,
                bytes.len()
            )));
        }
        Ok(Some((start, bytes, size)))
    }

    async fn head(&self, key: &str) -> Result<Option<u64>, StorageError> {
        let _permit = self.permit().await?;
        match self.store.head(&path(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err("HEAD", key, &e)),
        }
    }

    /// Fetch `ranges` of `key`: each one GET when it is the only one (suffix ranges included,
    /// but for Azure), otherwise the ranges are resolved to absolute offsets, coalesced and
    /// fetched concurrently. Returns `None` when the object does not exist.
    async fn fetch(&self, key: &str, ranges: &[ByteRange]) -> Result<Option<Blocks>, StorageError> {
        let bounded = |r: &ByteRange| match *r {
            ByteRange::FromStart(o, Some(l)) => Some(o..o + l),
            _ => None,
        };
        if let [only] = ranges {
            let get = match *only {
                ByteRange::FromStart(o, Some(l)) => Some(GetRange::Bounded(o..o + l)),
                ByteRange::FromStart(0, None) => None,
                ByteRange::FromStart(o, None) => Some(GetRange::Offset(o)),
                ByteRange::Suffix(n) if self.kind != RemoteKind::Azure => Some(GetRange::Suffix(n)),
                ByteRange::Suffix(_) => {
                    let Some(size) = self.head(key).await? else {
                        return Ok(None);
                    };
                    Some(GetRange::Bounded(only.to_range(size)))
                }
            };
            if let Some(GetRange::Bounded(r)) = &get {
                if r.is_empty() {
                    return Ok(Some(Blocks {
                        size: None,
                        blocks: vec![(r.start, Bytes::new())],
                    }));
                }
            }
            return Ok(self
                .get_one(key, get)
                .await?
                .map(|(start, bytes, size)| Blocks {
                    size: Some(size),
                    blocks: vec![(start, bytes)],
                }));
        }
        let mut size = None;
        let absolute: Vec<Range<u64>> = if ranges.iter().all(|r| bounded(r).is_some()) {
            ranges.iter().filter_map(bounded).collect()
        } else {
            let Some(s) = self.head(key).await? else {
                return Ok(None);
            };
            size = Some(s);
            ranges.iter().map(|r| r.to_range(s)).collect()
        };
        let merged: Vec<Range<u64>> = coalesce(&absolute, self.coalesce_gap)
            .into_iter()
            .filter(|r| !r.is_empty())
            .collect();
        let fetched: Vec<Option<(u64, Bytes, u64)>> = futures::stream::iter(merged)
            .map(|r| self.get_one(key, Some(GetRange::Bounded(r))))
            .buffer_unordered(self.concurrency)
            .try_collect()
            .await?;
        if fetched.iter().any(Option::is_none) {
            return Ok(None);
        }
        let mut blocks = Blocks {
            size,
            blocks: Vec::with_capacity(fetched.len() + 1),
        };
        for (start, bytes, s) in fetched.into_iter().flatten() {
            blocks.size = Some(s);
            blocks.blocks.push((start, bytes));
        }
        Ok(Some(blocks))
    }

    fn slice_all(
        key: &StoreKey,
        blocks: &Blocks,
        ranges: &[ByteRange],
    ) -> Result<Vec<Bytes>, StorageError> {
        ranges
            .iter()
            .map(|r| {
                if let ByteRange::FromStart(_, Some(0)) = r {
                    return Ok(Bytes::new());
                }
                blocks.slice(r).ok_or_else(|| {
                    StorageError::InvalidByteRangeError(InvalidByteRangeError::new(
                        *r,
                        blocks.size.unwrap_or(0),
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| match e {
                StorageError::InvalidByteRangeError(_) => e,
                other => StorageError::Other(format!("{key}: {other}")),
            })
    }

    /// Served from a prefetched set: `Some(None)` absent, `Some(Some(..))` all ranges held.
    fn lookup(&self, key: &StoreKey, ranges: &[ByteRange]) -> Option<Option<Vec<Bytes>>> {
        let sets = self.prefetched.lock().ok()?.clone();
        for set in sets {
            match set.entries.get(key) {
                Some(None) => return Some(None),
                Some(Some(blocks)) => {
                    if let Ok(v) = Self::slice_all(key, blocks, ranges) {
                        return Some(Some(v));
                    }
                }
                None => {}
            }
        }
        None
    }

    /// Fetch every `(key, ranges)` now, coalesced per key and concurrently across keys, and
    /// serve later reads of those ranges from memory until the guard is dropped.
    ///
    /// # Errors
    /// The first failed request.
    pub fn prefetch(
        self: &Arc<Self>,
        wants: Vec<(StoreKey, Vec<ByteRange>)>,
    ) -> Result<PrefetchGuard, StorageError> {
        if wants.is_empty() {
            return Ok(PrefetchGuard::none());
        }
        let entries = crate::runtime::block_on_io(async {
            futures::stream::iter(wants)
                .map(|(key, ranges)| async move {
                    let blocks = self.fetch(key.as_str(), &ranges).await?;
                    Ok::<_, StorageError>((key, blocks))
                })
                .buffer_unordered(self.concurrency)
                .try_collect::<HashMap<_, _>>()
                .await
        })
        .map_err(|e| StorageError::Other(e.message))??;
        let set = Arc::new(Prefetched { entries });
        self.prefetched
            .lock()
            .map_err(|_| StorageError::Other("prefetch lock poisoned".into()))?
            .push(set.clone());
        Ok(PrefetchGuard {
            owners: vec![(self.clone(), set)],
        })
    }

    async fn put(&self, key: &StoreKey, value: Bytes) -> Result<(), StorageError> {
        let k = key.as_str();
        let len = value.len() as u64;
        if len > self.multipart_threshold {
            return self.put_multipart(k, value).await;
        }
        let _permit = self.permit().await?;
        self.store
            .put_opts(&path(k), PutPayload::from(value), PutOptions::default())
            .await
            .map_err(|e| self.err("PUT", k, &e))?;
        self.counters.add_written(len);
        Ok(())
    }

    /// Upload in parts (bounded concurrency); abort on any failure so no object appears.
    async fn put_multipart(&self, k: &str, value: Bytes) -> Result<(), StorageError> {
        let mut upload = {
            let _permit = self.permit().await?;
            self.store
                .put_multipart_opts(&path(k), PutMultipartOptions::default())
                .await
                .map_err(|e| self.err("multipart upload", k, &e))?
        };
        let part = usize::try_from(self.part_size).unwrap_or(usize::MAX);
        let parts: Vec<Bytes> = (0..value.len())
            .step_by(part)
            .map(|at| value.slice(at..(at + part).min(value.len())))
            .collect();
        let sent = futures::stream::iter(parts)
            .map(|p| {
                let len = p.len() as u64;
                let fut = upload.put_part(PutPayload::from(p));
                async move {
                    let _permit = self.permit().await?;
                    fut.await.map_err(|e| self.err("multipart upload", k, &e))?;
                    self.counters.add_written(len);
                    Ok::<_, StorageError>(())
                }
            })
            .buffered(self.concurrency)
            .try_collect::<Vec<()>>()
            .await;
        let done = match sent {
            Ok(_) => {
                let _permit = self.permit().await?;
                upload
                    .complete()
                    .await
                    .map(|_| ())
                    .map_err(|e| self.err("multipart upload", k, &e))
            }
            Err(e) => Err(e),
        };
        if done.is_err() {
            // Best effort: the upload was never completed, so no object is visible either way.
            let _ = upload.abort().await;
        }
        done
    }

    fn to_key(&self, p: &Path) -> Result<StoreKey, StorageError> {
        StoreKey::new(p.as_ref()).map_err(StorageError::from)
    }
}

#[async_trait::async_trait]
impl AsyncReadableStorageTraits for ObjectBackend {
    async fn get(&self, key: &StoreKey) -> Result<MaybeBytes, StorageError> {
        if let Some(hit) = self.lookup(key, &[ByteRange::FromStart(0, None)]) {
            return Ok(hit.and_then(|v| v.into_iter().next()));
        }
        Ok(self
            .get_one(key.as_str(), None)
            .await?
            .map(|(_, bytes, _)| bytes))
    }

    async fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<AsyncMaybeBytesIterator<'a>, StorageError> {
        let ranges: Vec<ByteRange> = byte_ranges.collect();
        let values = match self.lookup(key, &ranges) {
            Some(hit) => hit,
            None => match self.fetch(key.as_str(), &ranges).await? {
                Some(blocks) => Some(Self::slice_all(key, &blocks, &ranges)?),
                None => None,
            },
        };
        Ok(values.map(|v| futures::stream::iter(v.into_iter().map(Ok)).boxed()))
    }

    async fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        self.head(key.as_str()).await
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}

#[async_trait::async_trait]
impl AsyncWritableStorageTraits for ObjectBackend {
    async fn set(&self, key: &StoreKey, value: Bytes) -> Result<(), StorageError> {
        self.put(key, value).await
    }

    async fn set_partial_many<'a>(
        &'a self,
        _key: &StoreKey,
        _offset_values: OffsetBytesIterator<'a>,
    ) -> Result<(), StorageError> {
        Err(StorageError::Unsupported(
            "object stores have no partial writes".into(),
        ))
    }

    async fn erase(&self, key: &StoreKey) -> Result<(), StorageError> {
        let k = key.as_str();
        let _permit = self.permit().await?;
        match self.store.delete(&path(k)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err("DELETE", k, &e)),
        }
    }

    async fn erase_prefix(&self, prefix: &StorePrefix) -> Result<(), StorageError> {
        let keys = self.list_prefix(prefix).await?;
        if keys.is_empty() {
            return Ok(());
        }
        let p = prefix.as_str();
        let locations =
            futures::stream::iter(keys.into_iter().map(|k| Ok(path(k.as_str())))).boxed();
        self.store
            .delete_stream(locations)
            .try_collect::<Vec<Path>>()
            .await
            .map_err(|e| self.err("DELETE", p, &e))?;
        Ok(())
    }

    fn supports_set_partial(&self) -> bool {
        false
    }
}

#[async_trait::async_trait]
impl AsyncListableStorageTraits for ObjectBackend {
    async fn list(&self) -> Result<StoreKeys, StorageError> {
        self.list_prefix(&StorePrefix::root()).await
    }

    async fn list_prefix(&self, prefix: &StorePrefix) -> Result<StoreKeys, StorageError> {
        let p = prefix.as_str();
        let dir = (!p.is_empty()).then(|| path(p.trim_end_matches('/')));
        let metas: Vec<_> = self
            .store
            .list(dir.as_ref())
            .try_collect()
            .await
            .map_err(|e| self.err("LIST", p, &e))?;
        let mut keys = metas
            .iter()
            .map(|m| self.to_key(&m.location))
            .collect::<Result<Vec<_>, _>>()?;
        // object_store lists whole path segments; a prefix ending mid-name filters here.
        keys.retain(|k| k.as_str().starts_with(p));
        keys.sort();
        Ok(keys)
    }

    async fn list_dir(&self, prefix: &StorePrefix) -> Result<StoreKeysPrefixes, StorageError> {
        let p = prefix.as_str();
        let dir = (!p.is_empty()).then(|| path(p.trim_end_matches('/')));
        let listed = self
            .store
            .list_with_delimiter(dir.as_ref())
            .await
            .map_err(|e| self.err("LIST", p, &e))?;
        let mut keys = listed
            .objects
            .iter()
            .map(|m| self.to_key(&m.location))
            .collect::<Result<Vec<_>, _>>()?;
        let mut prefixes = listed
            .common_prefixes
            .iter()
            .map(|d| StorePrefix::new(format!("{}/", d.as_ref())).map_err(StorageError::from))
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort();
        prefixes.sort();
        Ok(StoreKeysPrefixes::new(keys, prefixes))
    }

    async fn size_prefix(&self, prefix: &StorePrefix) -> Result<u64, StorageError> {
        let p = prefix.as_str();
        let dir = (!p.is_empty()).then(|| path(p.trim_end_matches('/')));
        self.store
            .list(dir.as_ref())
            .try_fold(0u64, |acc, m| async move { Ok(acc + m.size) })
            .await
            .map_err(|e| self.err("LIST", p, &e))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn coalescing_merges_touching_and_near_ranges() {
        let r = [0..10, 10..20, 25..30, 100..110, 5..8];
        assert_eq!(coalesce(&r, Some(0)), vec![0..20, 25..30, 100..110]);
        assert_eq!(coalesce(&r, Some(5)), vec![0..30, 100..110]);
        assert_eq!(coalesce(&r, Some(1000)), vec![0..110]);
        assert_eq!(coalesce(&r, None).len(), 5);
    }

    #[test]
    fn blocks_serve_contained_ranges_only() {
        let b = Blocks {
            size: Some(100),
            blocks: vec![
                (10, Bytes::from_static(b"0123456789")),
                (90, Bytes::from(vec![7u8; 10])),
            ],
        };
        assert_eq!(
            &b.slice(&ByteRange::FromStart(12, Some(3))).unwrap()[..],
            b"234"
        );
        assert_eq!(b.slice(&ByteRange::Suffix(4)).unwrap().len(), 4);
        assert!(b.slice(&ByteRange::FromStart(15, Some(10))).is_none());
        assert!(b.slice(&ByteRange::FromStart(0, None)).is_none());
    }
}
