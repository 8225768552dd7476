//! Stores: open a location (path, `file://`, `memory://name`, `s3://`, `gs://`, `az://`,
//! `abfs://`, `http(s)://`; any of the file and object forms ending in `.zip` is a read-only
//! zip archive) into a [`Store`] that every array and group shares.
//!
//! Every backend sits behind one [`guard::Guarded`] adapter that validates keys (no `..`,
//! absolute paths or backslashes), enforces read-only mode and counts requests and bytes.
//! Object stores ([`remote`]) plug in as another [`Backend`] without touching array code; the
//! array layer only asks a store to [`prefetch`](Store::prefetch) the byte ranges it will read.

mod guard;
mod local;
mod metadata_lock;
pub mod remote;
pub mod remote_config;
mod rooted;
pub mod zip;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use zarrs_storage::byte_range::ByteRange;
use zarrs_storage::storage_adapter::async_to_sync::AsyncToSyncStorageAdapter;
use zarrs_storage::store::MemoryStore;
use zarrs_storage::{
    ListableStorageTraits, ReadableStorageTraits, ReadableWritableListableStorageTraits, StoreKey,
    StorePrefix, WritableStorageTraits,
};

pub use guard::{Counters, Guarded, StoreStats};
pub use local::LocalStore;
pub use metadata_lock::{MetadataGuard, MetadataLock};
pub use remote::{ObjectBackend, PrefetchGuard};
pub use remote_config::{BackoffOptions, RemoteKind, RemoteOptions, RemoteUrl, RetryOptions};
pub use rooted::Rooted;

use crate::error::{Error, ErrorCode, Result};

/// The storage type arrays and groups are built on.
pub type Storage = Arc<dyn ReadableWritableListableStorageTraits>;

/// What a metadata write below a consolidated group does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsolidatedWrites {
    /// Patch the consolidated copy after the write (default).
    #[default]
    Update,
    /// Refuse the write with `ConsolidatedStale` before anything is written.
    Refuse,
}

/// Options for [`Store::open`].
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StoreOptions {
    /// Refuse every write with [`ErrorCode::ReadOnly`].
    pub read_only: bool,
    /// Policy for metadata writes below consolidated groups.
    pub consolidated_writes: ConsolidatedWrites,
    /// Credentials, retries, concurrency and coalescing for object stores.
    #[serde(flatten)]
    pub remote: RemoteOptions,
}

impl StoreOptions {
    /// Parse the camelCase JSON of `openStore`'s options (`StoreOptions` in `src-ts/zarr/store.ts`).
    ///
    /// # Errors
    /// [`ErrorCode::InvalidInput`] naming the bad option.
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json)
            .map_err(|e| Error::invalid_input(format!("invalid store options: {e}")))
    }
}

/// Which backend a location resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A local directory.
    Local(PathBuf),
    /// A named process-wide in-memory store.
    Memory(String),
    /// An object store (S3, GCS, Azure, HTTP).
    Remote(RemoteUrl),
    /// A read-only zip archive: the local file or the object the inner location names.
    Zip(Box<Backend>),
}

impl Backend {
    /// Parse a location: a filesystem path, `file://...`, `memory://<name>`, or an object-store
    /// URL (`s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`,
    /// `abfs://container@account.dfs.core.windows.net/prefix`, `http(s)://host/prefix`).
    ///
    /// # Errors
    /// [`ErrorCode::Unsupported`] for URL schemes this build cannot open,
    /// [`ErrorCode::InvalidInput`] for an empty location or a URL without a bucket.
    pub fn parse(location: &str) -> Result<Self> {
        let backend = Self::parse_unzipped(location)?;
        let is_zip = |p: &str| {
            p.trim_end_matches('/')
                .to_ascii_lowercase()
                .ends_with(".zip")
        };
        Ok(match backend {
            Self::Local(ref p) if is_zip(&p.to_string_lossy()) => Self::Zip(Box::new(backend)),
            Self::Remote(ref u) if is_zip(&u.base) || is_zip(&u.prefix) => {
                Self::Zip(Box::new(backend))
            }
            other => other,
        })
    }

    fn parse_unzipped(location: &str) -> Result<Self> {
        if location.is_empty() {
            return Err(Error::invalid_input("store location is empty"));
        }
        if let Some(rest) = location.strip_prefix("file://") {
            // file:///abs/path and file://localhost/abs/path
            let rest = rest.strip_prefix("localhost").unwrap_or(rest);
            let decoded = percent_decode(rest)?;
            #[cfg(windows)]
            let decoded = decoded
                .strip_prefix('/')
                .map_or(decoded.clone(), str::to_string);
            return Ok(Self::Local(PathBuf::from(decoded)));
        }
        if let Some(name) = location.strip_prefix("memory://") {
            return Ok(Self::Memory(name.trim_end_matches('/').to_string()));
        }
        if let Some(remote) = RemoteUrl::parse(location) {
            return remote.map(Self::Remote);
        }
        if let Some((scheme, _)) = location.split_once("://") {
            return Err(
                Error::unsupported(format!("unknown store URL scheme '{scheme}://'"))
                    .with_key(location),
            );
        }
        Ok(Self::Local(PathBuf::from(location)))
    }
}

/// Decode `%XX` escapes of a `file://` URL path. Works on bytes (an escape next to a multi-byte
/// character must not slice inside it); a malformed escape or a result that is not UTF-8 is the
/// caller's mistake, not something to guess at.
fn percent_decode(s: &str) -> Result<String> {
    let bad = |why: &str| Error::invalid_input(format!("file URL path {why}")).with_key(s);
    let hex = |b: u8| char::from(b).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let digits = bytes
            .get(i + 1..i + 3)
            .and_then(|d| Some((hex(d[0])?, hex(d[1])?)));
        let Some((hi, lo)) = digits else {
            return Err(bad("has a '%' that is not followed by two hex digits"));
        };
        // both digits are < 16, so the byte fits
        out.push(u8::try_from(hi * 16 + lo).map_err(|_| bad("has a bad escape"))?);
        i += 3;
    }
    String::from_utf8(out).map_err(|_| bad("does not decode to UTF-8"))
}

fn memory_registry() -> &'static Mutex<HashMap<String, Arc<MemoryStore>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<MemoryStore>>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

struct StoreInner {
    storage: Arc<Guarded>,
    remote: Option<Arc<ObjectBackend>>,
    location: String,
    backend: Backend,
    closed: AtomicBool,
    consolidated_writes: ConsolidatedWrites,
    /// Shared with every other `Store` on the same location in this process.
    metadata_lock: Arc<MetadataLock>,
}

/// A handle to an opened store. Cheap to clone; all clones share stats and the closed flag.
#[derive(Clone)]
pub struct Store {
    inner: Arc<StoreInner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.inner.location)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Open `location` (see [`Backend::parse`]).
    ///
    /// Object stores send no request here: a wrong endpoint or credential shows on first use,
    /// except missing credentials, which fail here (see [`remote_config`]). `http(s)://` stores
    /// are always read-only.
    ///
    /// # Errors
    /// Unsupported schemes, a local path that exists but is not a directory, an incomplete
    /// object-store configuration.
    pub fn open(location: &str, options: &StoreOptions) -> Result<Self> {
        crate::runtime::configure();
        let backend = Backend::parse(location)?;
        let mut remote = None;
        let guarded = match &backend {
            Backend::Zip(archive) => open_zip(location, archive, options)?,
            Backend::Local(path) => {
                Guarded::new(Arc::new(LocalStore::new(path.clone())?), options.read_only)
            }
            Backend::Memory(name) => {
                let mut reg = memory_registry().lock().map_err(|_| {
                    Error::new(ErrorCode::Internal, "memory store registry poisoned")
                })?;
                let storage = reg
                    .entry(name.clone())
                    .or_insert_with(|| Arc::new(MemoryStore::new()))
                    .clone();
                Guarded::new(storage, options.read_only)
            }
            Backend::Remote(url) => {
                let counters = Arc::new(Counters::default());
                let object = Arc::new(ObjectBackend::new(
                    location,
                    url,
                    &options.remote,
                    counters.clone(),
                )?);
                let sync: Storage = Arc::new(AsyncToSyncStorageAdapter::new(
                    object.clone(),
                    crate::runtime::IoBlockOn::new()?,
                ));
                remote = Some(object);
                let read_only = options.read_only || url.kind == RemoteKind::Http;
                Guarded::self_counting(sync, read_only, counters)
            }
        };
        Ok(Self {
            inner: Arc::new(StoreInner {
                metadata_lock: MetadataLock::for_backend(&backend),
                storage: Arc::new(guarded),
                remote,
                location: location.to_string(),
                backend,
                closed: AtomicBool::new(false),
                consolidated_writes: options.consolidated_writes,
            }),
        })
    }

    /// The location this store was opened from.
    #[must_use]
    pub fn location(&self) -> &str {
        &self.inner.location
    }

    /// The resolved backend.
    #[must_use]
    pub fn backend(&self) -> &Backend {
        &self.inner.backend
    }

    /// Policy for metadata writes below consolidated groups.
    #[must_use]
    pub fn consolidated_writes(&self) -> ConsolidatedWrites {
        self.inner.consolidated_writes
    }

    /// The lock that serialises read-modify-writes of consolidated documents at this location
    /// (shared by every `Store` opened on it in this process), and their change counter.
    #[must_use]
    pub fn metadata_lock(&self) -> &MetadataLock {
        &self.inner.metadata_lock
    }

    /// Whether writes are refused.
    #[must_use]
    pub fn read_only(&self) -> bool {
        self.inner.storage.read_only()
    }

    /// The storage handle arrays and groups use (after the closed check).
    ///
    /// # Errors
    /// [`ErrorCode::InvalidInput`] once the store is closed.
    pub fn storage(&self) -> Result<Storage> {
        self.check_open()?;
        Ok(self.inner.storage.clone())
    }

    /// Fail with a clear error if [`close`](Self::close) was called.
    ///
    /// # Errors
    /// [`ErrorCode::InvalidInput`] when closed.
    pub fn check_open(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::invalid_input(format!(
                "store '{}' is closed",
                self.inner.location
            )));
        }
        Ok(())
    }

    /// Fail with [`ErrorCode::ReadOnly`] if writes are refused.
    ///
    /// # Errors
    /// When the store is read-only or closed.
    pub fn check_writable(&self, key: &str) -> Result<()> {
        self.check_open()?;
        if self.read_only() {
            return Err(Error::new(
                ErrorCode::ReadOnly,
                format!("store '{}' is read-only", self.inner.location),
            )
            .with_key(key));
        }
        Ok(())
    }

    /// Mark the store closed; later calls on it (or arrays opened from it) fail clearly.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
    }

    /// Remove temporary files left by killed writers (local directories; object stores have
    /// none: an unfinished PUT stores nothing). Returns how many were removed.
    ///
    /// # Errors
    /// I/O errors while walking the directory.
    pub fn sweep_temporaries(&self) -> Result<u64> {
        match &self.inner.backend {
            Backend::Local(root) => local::sweep_temporaries(root)
                .map_err(|e| Error::new(ErrorCode::Storage, format!("{}: {e}", self.location()))),
            _ => Ok(0),
        }
    }

    /// Whether this is an object store (where requests cost latency, so reads are batched).
    #[must_use]
    pub fn is_remote(&self) -> bool {
        self.inner.remote.is_some()
    }

    /// Fetch the byte ranges `wants` names now (object stores: coalesced per key, concurrent
    /// across keys) and serve reads of them from memory while the guard lives. A no-op guard
    /// on local and memory stores.
    ///
    /// # Errors
    /// The first failed request, with its key.
    pub fn prefetch(&self, wants: Vec<(StoreKey, Vec<ByteRange>)>) -> Result<PrefetchGuard> {
        self.check_open()?;
        match &self.inner.remote {
            Some(remote) => remote.prefetch(wants).map_err(Error::from),
            None => Ok(PrefetchGuard::none()),
        }
    }

    /// Request and byte counters.
    #[must_use]
    pub fn stats(&self) -> StoreStats {
        self.inner.storage.stats()
    }

    /// Reset the counters to zero.
    pub fn reset_stats(&self) {
        self.inner.storage.reset_stats();
    }

    /// Read a whole value; `None` if absent.
    ///
    /// # Errors
    /// Invalid key or storage failure.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let k = store_key(key)?;
        let storage = self.storage()?;
        Ok(storage
            .get(&k)
            .map_err(|e| Error::from(e).with_key(key))?
            .map(|b| b.to_vec()))
    }

    /// Read `length` bytes from `offset` (or to the end when `length` is `None`).
    ///
    /// # Errors
    /// Invalid key, a range past the end, or storage failure.
    pub fn get_range(
        &self,
        key: &str,
        offset: u64,
        length: Option<u64>,
    ) -> Result<Option<Vec<u8>>> {
        let k = store_key(key)?;
        let storage = self.storage()?;
        let range = zarrs_storage::byte_range::ByteRange::FromStart(offset, length);
        Ok(storage
            .get_partial(&k, range)
            .map_err(|e| Error::from(e).with_key(key))?
            .map(|b| b.to_vec()))
    }

    /// Write a whole value (atomically on local stores).
    ///
    /// # Errors
    /// Invalid key, read-only store, or storage failure.
    pub fn set(&self, key: &str, value: Vec<u8>) -> Result<()> {
        let k = store_key(key)?;
        self.check_writable(key)?;
        self.storage()?
            .set(&k, value.into())
            .map_err(|e| Error::from(e).with_key(key))
    }

    /// Delete a value (absent keys are fine).
    ///
    /// # Errors
    /// Invalid key, read-only store, or storage failure.
    pub fn delete(&self, key: &str) -> Result<()> {
        let k = store_key(key)?;
        self.check_writable(key)?;
        self.storage()?
            .erase(&k)
            .map_err(|e| Error::from(e).with_key(key))
    }

    /// Delete every key under `prefix` (a node path; `""` is the whole store).
    ///
    /// # Errors
    /// Invalid prefix, read-only store, or storage failure.
    pub fn delete_prefix(&self, prefix: &str) -> Result<()> {
        let p = store_prefix(prefix)?;
        self.check_writable(prefix)?;
        self.storage()?
            .erase_prefix(&p)
            .map_err(|e| Error::from(e).with_key(prefix))
    }

    /// All keys under `prefix` (`""` lists everything), sorted.
    ///
    /// # Errors
    /// Invalid prefix or storage failure.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let storage = self.storage()?;
        let keys = if prefix.is_empty() {
            storage.list()
        } else {
            let p = if prefix.ends_with('/') {
                validate_path(prefix.trim_end_matches('/'))?;
                StorePrefix::new(prefix).map_err(|e| Error::invalid_input(e.to_string()))?
            } else {
                // A bare prefix like "a/b" lists "a/b/..." (node semantics).
                store_prefix(prefix)?
            };
            storage.list_prefix(&p)
        }
        .map_err(|e| Error::from(e).with_key(prefix))?;
        let mut out: Vec<String> = keys.into_iter().map(|k| k.as_str().to_string()).collect();
        out.sort();
        Ok(out)
    }

    /// Immediate children of a node path: `(keys, prefixes)` with prefixes ending in `/`.
    ///
    /// # Errors
    /// Invalid path or storage failure.
    pub fn list_dir(&self, path: &str) -> Result<(Vec<String>, Vec<String>)> {
        let p = store_prefix(path)?;
        let kp = self
            .storage()?
            .list_dir(&p)
            .map_err(|e| Error::from(e).with_key(path))?;
        Ok((
            kp.keys().iter().map(|k| k.as_str().to_string()).collect(),
            kp.prefixes()
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
        ))
    }
}

/// Open the zip archive `archive` names: its parent directory (or object prefix) is opened as
/// a store and zarrs_zip reads the archive from it with range reads. Always read-only.
fn open_zip(location: &str, archive: &Backend, options: &StoreOptions) -> Result<Guarded> {
    match archive {
        Backend::Local(path) => {
            if path.is_dir() {
                return Err(Error::invalid_input(format!(
                    "'{location}' is a directory, not a zip archive"
                ))
                .with_key(location));
            }
            let parent = path.parent().map(PathBuf::from).unwrap_or_default();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let parent: Storage = Arc::new(LocalStore::new(parent)?);
            let zip = zip::ZipBackend::open(parent, &name, location, false)?;
            Ok(Guarded::new(zip::into_storage(zip), true))
        }
        Backend::Remote(url) => {
            // Point the object store at the archive's parent; the archive is one key there.
            let (parent_url, name) = if url.kind == RemoteKind::Http {
                let (base, name) = zip::split_archive_path(&url.base);
                (
                    RemoteUrl {
                        base: base.to_string(),
                        ..url.clone()
                    },
                    name.to_string(),
                )
            } else {
                let (prefix, name) = zip::split_archive_path(&url.prefix);
                (
                    RemoteUrl {
                        prefix: prefix.to_string(),
                        ..url.clone()
                    },
                    name.to_string(),
                )
            };
            let counters = Arc::new(Counters::default());
            let object = Arc::new(ObjectBackend::new(
                location,
                &parent_url,
                &options.remote,
                counters.clone(),
            )?);
            let parent: Storage = Arc::new(AsyncToSyncStorageAdapter::new(
                object,
                crate::runtime::IoBlockOn::new()?,
            ));
            let zip = zip::ZipBackend::open(parent, &name, location, true)?;
            Ok(Guarded::self_counting(
                zip::into_storage(zip),
                true,
                counters,
            ))
        }
        other => Err(Error::unsupported(format!(
            "'{location}': a zip archive must be a file or an object, not {other:?}"
        ))
        .with_key(location)),
    }
}

/// Check a node path or key: `/`-separated segments, none empty, `.` or `..`, no backslash or
/// NUL. A leading `/` is tolerated for node paths by [`normalize_node_path`], never here.
///
/// # Errors
/// [`ErrorCode::InvalidInput`] naming the offending path.
pub fn validate_path(path: &str) -> Result<()> {
    if path.is_empty() {
        return Ok(());
    }
    let bad =
        |why: &str| Error::invalid_input(format!("invalid key {path:?}: {why}")).with_key(path);
    if path.starts_with('/') {
        return Err(bad("absolute paths are not allowed"));
    }
    if path.contains('\\') {
        return Err(bad("backslashes are not allowed"));
    }
    if path.contains('\0') {
        return Err(bad("NUL bytes are not allowed"));
    }
    #[cfg(windows)]
    if path.contains(':') {
        return Err(bad("':' is not allowed"));
    }
    for seg in path.split('/') {
        match seg {
            "" => return Err(bad("empty path segment")),
            "." | ".." => return Err(bad("'.' and '..' segments are not allowed")),
            _ => {}
        }
    }
    Ok(())
}

/// Normalise a user node path: strip leading/trailing `/`, then [`validate_path`].
///
/// # Errors
/// See [`validate_path`].
pub fn normalize_node_path(path: &str) -> Result<String> {
    let p = path.trim_matches('/');
    validate_path(p)?;
    Ok(p.to_string())
}

/// A validated [`StoreKey`].
///
/// # Errors
/// [`ErrorCode::InvalidInput`] for an empty or invalid key.
pub fn store_key(key: &str) -> Result<StoreKey> {
    if key.is_empty() {
        return Err(Error::invalid_input("store key is empty"));
    }
    validate_path(key)?;
    StoreKey::new(key).map_err(|e| Error::invalid_input(e.to_string()).with_key(key))
}

/// The [`StorePrefix`] of a node path (`""` is the root).
///
/// # Errors
/// [`ErrorCode::InvalidInput`] for an invalid path.
pub fn store_prefix(path: &str) -> Result<StorePrefix> {
    let p = normalize_node_path(path)?;
    if p.is_empty() {
        Ok(StorePrefix::root())
    } else {
        StorePrefix::new(format!("{p}/"))
            .map_err(|e| Error::invalid_input(e.to_string()).with_key(path))
    }
}

/// Join a node path and a child name.
#[must_use]
pub fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else if name.is_empty() {
        path.to_string()
    } else {
        format!("{path}/{name}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn options_from_json() {
        let o = StoreOptions::from_json(
            r#"{"readOnly":true,"consolidatedWrites":"refuse","region":"eu-west-1",
                "retry":{"maxRetries":0,"backoff":{"initialMs":7}},"coalesceGapBytes":0}"#,
        )
        .unwrap();
        assert!(o.read_only);
        assert_eq!(o.consolidated_writes, ConsolidatedWrites::Refuse);
        assert_eq!(o.remote.region.as_deref(), Some("eu-west-1"));
        assert_eq!(o.remote.retry.max_retries, Some(0));
        assert_eq!(o.remote.retry.backoff.initial_ms, Some(7));
        assert_eq!(o.remote.coalesce_gap, Some(0));
        for bad in [
            r#"{"consolidatedWrites":"never"}"#,
            r#"{"retry":{"timeoutMs":-1}}"#,
            r#"{"multipartThreshold":1.5}"#,
        ] {
            let e = StoreOptions::from_json(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn parses_locations() {
        assert_eq!(
            Backend::parse("/tmp/x").unwrap(),
            Backend::Local("/tmp/x".into())
        );
        #[cfg(unix)]
        assert_eq!(
            Backend::parse("file:///tmp/a%20b").unwrap(),
            Backend::Local("/tmp/a b".into())
        );
        #[cfg(unix)]
        assert_eq!(
            Backend::parse("file:///d/%E5%90%8D%41").unwrap(),
            Backend::Local("/d/名A".into())
        );
        // an escape next to a multi-byte character, a truncated escape, bytes that are not UTF-8
        for bad in [
            "file:///data/%名x",
            "file:///data/%4",
            "file:///data/%zz",
            "file:///data/%FF",
        ] {
            assert_eq!(
                Backend::parse(bad).unwrap_err().code,
                ErrorCode::InvalidInput,
                "{bad}"
            );
        }
        assert_eq!(
            Backend::parse("memory://m").unwrap(),
            Backend::Memory("m".into())
        );
        assert_eq!(
            Backend::parse("s3://b/k/").unwrap(),
            Backend::Remote(RemoteUrl {
                kind: RemoteKind::S3,
                base: "s3://b".into(),
                prefix: "k".into()
            })
        );
        assert_eq!(
            Backend::parse("/tmp/a.zarr.zip").unwrap(),
            Backend::Zip(Box::new(Backend::Local("/tmp/a.zarr.zip".into())))
        );
        assert!(matches!(
            Backend::parse("https://h/x/a.ZIP").unwrap(),
            Backend::Zip(inner) if matches!(*inner, Backend::Remote(_))
        ));
        assert_eq!(zip::split_archive_path("d/e/a.zip"), ("d/e", "a.zip"));
        assert_eq!(zip::split_archive_path("a.zip"), ("", "a.zip"));
        assert_eq!(
            Backend::parse("foo://b/k").unwrap_err().code,
            ErrorCode::Unsupported
        );
        assert_eq!(
            Backend::parse("s3:///k").unwrap_err().code,
            ErrorCode::InvalidInput
        );
        assert_eq!(
            Backend::parse("").unwrap_err().code,
            ErrorCode::InvalidInput
        );
    }

    #[test]
    fn rejects_traversal() {
        for bad in ["../x", "a/../../b", "/etc/passwd", "a//b", "a\\b", "./a"] {
            assert_eq!(
                validate_path(bad).unwrap_err().code,
                ErrorCode::InvalidInput,
                "{bad}"
            );
        }
        assert!(validate_path("a/b/zarr.json").is_ok());
        assert!(validate_path("a/.zarray").is_ok());
    }

    #[test]
    fn memory_stores_are_shared_by_name() {
        let a = Store::open("memory://shared-test", &StoreOptions::default()).unwrap();
        a.set("k", vec![1, 2, 3]).unwrap();
        let b = Store::open("memory://shared-test", &StoreOptions::default()).unwrap();
        assert_eq!(b.get("k").unwrap(), Some(vec![1, 2, 3]));
        assert_eq!(b.get_range("k", 1, Some(1)).unwrap(), Some(vec![2]));
    }

    #[test]
    fn read_only_and_closed() {
        let s = Store::open(
            "memory://ro-test",
            &StoreOptions {
                read_only: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.set("k", vec![1]).unwrap_err().code, ErrorCode::ReadOnly);
        s.close();
        assert_eq!(s.get("k").unwrap_err().code, ErrorCode::InvalidInput);
    }
}
