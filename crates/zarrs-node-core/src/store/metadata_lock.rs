//! One metadata lock per normalised store location in this process: every `Store` opened on a
//! location shares it, so read-modify-writes of consolidated documents never interleave. Two
//! counters say what changed since a caller last looked: consolidated documents (group views
//! re-read) and which groups are consolidated (writers re-check their ancestors).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use super::Backend;

/// Shared by every [`Store`](super::Store) on one location.
#[derive(Debug, Default)]
pub struct MetadataLock {
    lock: Mutex<()>,
    /// Bumped whenever a consolidated document at this location is written.
    changes: AtomicU64,
    /// Bumped when groups may have gained or lost consolidated metadata (a consolidation, a
    /// node replaced with everything below it): what writers that checked earlier re-check.
    regroupings: AtomicU64,
}

/// Held while a consolidated document is read, patched and written back.
pub struct MetadataGuard<'a> {
    _guard: MutexGuard<'a, ()>,
}

impl MetadataLock {
    /// The lock of `backend`'s location, created on first use.
    pub fn for_backend(backend: &Backend) -> Arc<Self> {
        static REGISTRY: OnceLock<Mutex<HashMap<String, Weak<MetadataLock>>>> = OnceLock::new();
        let key = location_key(backend);
        let mut reg = REGISTRY
            .get_or_init(Mutex::default)
            .lock()
            // The map holds only weak handles: a panic while it was held left it consistent.
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(lock) = reg.get(&key).and_then(Weak::upgrade) {
            return lock;
        }
        reg.retain(|_, w| w.strong_count() > 0);
        let lock = Arc::new(Self::default());
        reg.insert(key, Arc::downgrade(&lock));
        lock
    }

    /// Wait for the lock.
    pub fn lock(&self) -> MetadataGuard<'_> {
        MetadataGuard {
            // The lock guards no data, only ordering: poisoning leaves nothing inconsistent.
            _guard: self
                .lock
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        }
    }

    /// How many times a consolidated document at this location was written.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// Record a write of a consolidated document.
    pub fn changed(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// How many times groups may have gained or lost consolidated metadata here.
    pub fn regroupings(&self) -> u64 {
        self.regroupings.load(Ordering::Acquire)
    }

    /// Record that groups may have gained or lost consolidated metadata (also a change).
    pub fn regrouped(&self) {
        self.regroupings.fetch_add(1, Ordering::AcqRel);
        self.changed();
    }
}

/// The same string for every spelling of one location: an absolute, symlink-resolved directory;
/// a memory store's name; an object store's bucket and prefix. Locations that differ only by
/// endpoint share a key, which costs some needless waiting but never a lost entry.
fn location_key(backend: &Backend) -> String {
    match backend {
        Backend::Local(path) => format!("file://{}", canonical(path).display()),
        Backend::Memory(name) => format!("memory://{name}"),
        Backend::Remote(url) => format!("{}/{}", url.base, url.prefix),
        // Zip stores are read-only: no metadata write ever waits on this key.
        Backend::Zip(archive) => format!("zip:{}", location_key(archive)),
    }
}

/// `path` made absolute, with symlinks resolved as far as it exists (it may not exist yet)
/// and `.`/`..` removed from the rest.
fn canonical(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut lexical = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                lexical.pop();
            }
            Component::CurDir => {}
            c => lexical.push(c),
        }
    }
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            return rest.iter().rev().fold(c, |p, seg| p.join(seg));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => return lexical,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn one_lock_per_location_however_spelt() {
        let dir = std::env::temp_dir().join(format!("zn-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = MetadataLock::for_backend(&Backend::Local(dir.join("x")));
        let b = MetadataLock::for_backend(&Backend::Local(dir.join("y/../x")));
        assert!(Arc::ptr_eq(&a, &b));
        let c = MetadataLock::for_backend(&Backend::Local(dir.join("z")));
        assert!(!Arc::ptr_eq(&a, &c));
        let m1 = MetadataLock::for_backend(&Backend::Memory("lock-test".into()));
        let m2 = MetadataLock::for_backend(&Backend::Memory("lock-test".into()));
        assert!(Arc::ptr_eq(&m1, &m2));
        a.changed();
        a.regrouped();
        assert_eq!((b.changes(), b.regroupings()), (2, 1));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
