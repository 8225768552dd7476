//! A local-directory store whose writes are atomic: each value is written to a hidden temporary
//! file in the destination directory and then put at the key (see [`replace`]), so a killed
//! writer never leaves a truncated chunk, shard or metadata document at a real key.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use zarrs_storage::byte_range::{ByteRange, ByteRangeIterator, InvalidByteRangeError};
use zarrs_storage::{
    Bytes, ListableStorageTraits, MaybeBytesIterator, OffsetBytesIterator, ReadableStorageTraits,
    StorageError, StoreKey, StoreKeys, StoreKeysPrefixes, StorePrefix, WritableStorageTraits,
};

use crate::error::{Error, Result};

/// Marker in temporary file names; listing skips such files.
pub const TEMP_MARKER: &str = ".zarrs-node-tmp-";

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Put the finished temporary file `tmp` at `path`, atomically: the key names the old whole
/// file or the new one, never a part. Over an existing file, Linux swaps the two
/// (`renameat2(RENAME_EXCHANGE)`) and the old one is removed after: ext4 starts writing back a
/// file renamed over another at once, in the renaming thread (`auto_da_alloc`, its guard for
/// programs that replace files without `fsync`), and a swap is not a rename over a file.
/// Replacing 512 files of 512 KiB took 320 ms by rename and 130 ms by swap here. Like
/// zarr-python and tensorstore, nothing is synced to disk: a killed process loses nothing
/// written, a power cut may lose what the kernel had not written back yet.
fn replace(tmp: &Path, path: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) && exchange(tmp, path).is_ok() {
        // `tmp` holds the old value now; one left behind is swept like any temporary file.
        let _ = fs::remove_file(tmp);
        return Ok(());
    }
    // No file there yet, or a filesystem that cannot swap (the rename then reports why).
    fs::rename(tmp, path)
}

/// Swap two paths atomically (Linux 3.15+, on filesystems that support it).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both are NUL-terminated paths that outlive the call; the syscall reads only them.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A directory on the local filesystem.
#[derive(Debug)]
pub struct LocalStore {
    root: PathBuf,
}

fn io_err(e: std::io::Error) -> StorageError {
    StorageError::IOError(Arc::new(e))
}

fn is_temp(name: &str) -> bool {
    name.contains(TEMP_MARKER)
}

/// Remove the temporary files killed writers left under `root` (a file being written is also
/// named so: call this only when no writer runs on the store). Returns how many were removed.
///
/// # Errors
/// I/O errors other than a missing directory.
pub fn sweep_temporaries(root: &Path) -> std::io::Result<u64> {
    let mut removed = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else if is_temp(&entry.file_name().to_string_lossy()) {
                fs::remove_file(&path)?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

impl LocalStore {
    /// A store rooted at `root`. The directory is created on first write.
    ///
    /// # Errors
    /// When `root` exists but is not a directory.
    pub fn new(root: PathBuf) -> Result<Self> {
        if root.exists() && !root.is_dir() {
            return Err(Error::invalid_input(format!(
                "store location {} exists and is not a directory",
                root.display()
            ))
            .with_key(root.display().to_string()));
        }
        Ok(Self { root })
    }

    fn path_of(&self, key: &str) -> PathBuf {
        let mut p = self.root.clone();
        for seg in key.split('/').filter(|s| !s.is_empty()) {
            p.push(seg);
        }
        p
    }

    fn read_ranges(
        path: &Path,
        ranges: Vec<ByteRange>,
    ) -> Result<Option<Vec<Bytes>>, StorageError> {
        let mut file = match fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(e)),
        };
        let meta = file.metadata().map_err(io_err)?;
        if meta.is_dir() {
            return Ok(None);
        }
        let size = meta.len();
        let mut out = Vec::with_capacity(ranges.len());
        for range in ranges {
            let (start, len) = match range {
                ByteRange::FromStart(offset, None) => (offset, size.saturating_sub(offset)),
                ByteRange::FromStart(offset, Some(len)) => (offset, len),
                ByteRange::Suffix(len) => (size.saturating_sub(len), len),
            };
            // A range past the end means the value is truncated or an index is corrupt.
            if start.checked_add(len).is_none_or(|end| end > size) {
                return Err(StorageError::InvalidByteRangeError(
                    InvalidByteRangeError::new(range, size),
                ));
            }
            let len = usize::try_from(len).map_err(|_| {
                StorageError::InvalidByteRangeError(InvalidByteRangeError::new(range, size))
            })?;
            let mut buf = vec![0u8; len];
            file.seek(SeekFrom::Start(start)).map_err(io_err)?;
            file.read_exact(&mut buf).map_err(io_err)?;
            out.push(Bytes::from(buf));
        }
        Ok(Some(out))
    }

    fn walk(&self, dir: &Path, prefix: &str, out: &mut Vec<StoreKey>) -> std::io::Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_temp(&name) {
                continue;
            }
            let key = format!("{prefix}{name}");
            if entry.file_type()?.is_dir() {
                self.walk(&entry.path(), &format!("{key}/"), out)?;
            } else if let Ok(k) = StoreKey::new(key) {
                out.push(k);
            }
        }
        Ok(())
    }
}

impl ReadableStorageTraits for LocalStore {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        let values = Self::read_ranges(&self.path_of(key.as_str()), byte_ranges.collect())?;
        Ok(values.map(|v| Box::new(v.into_iter().map(Ok)) as Box<dyn Iterator<Item = _>>))
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        match fs::metadata(self.path_of(key.as_str())) {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(e)),
        }
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}

impl ListableStorageTraits for LocalStore {
    fn list(&self) -> Result<StoreKeys, StorageError> {
        let mut out = Vec::new();
        self.walk(&self.root, "", &mut out).map_err(io_err)?;
        out.sort();
        Ok(out)
    }

    fn list_prefix(&self, prefix: &StorePrefix) -> Result<StoreKeys, StorageError> {
        let mut out = Vec::new();
        let p = prefix.as_str();
        if p.is_empty() {
            return self.list();
        }
        if p.ends_with('/') {
            self.walk(&self.path_of(p), p, &mut out).map_err(io_err)?;
        } else {
            // A prefix that ends mid-name: list the parent and filter.
            let parent = p.rsplit_once('/').map_or("", |(a, _)| a);
            let parent_prefix = if parent.is_empty() {
                String::new()
            } else {
                format!("{parent}/")
            };
            self.walk(&self.path_of(parent), &parent_prefix, &mut out)
                .map_err(io_err)?;
            out.retain(|k| k.as_str().starts_with(p));
        }
        out.sort();
        Ok(out)
    }

    fn list_dir(&self, prefix: &StorePrefix) -> Result<StoreKeysPrefixes, StorageError> {
        let dir = self.path_of(prefix.as_str());
        let mut keys = Vec::new();
        let mut prefixes = Vec::new();
        match fs::read_dir(&dir) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(io_err)?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if is_temp(&name) {
                        continue;
                    }
                    let full = format!("{}{name}", prefix.as_str());
                    if entry.file_type().map_err(io_err)?.is_dir() {
                        if let Ok(p) = StorePrefix::new(format!("{full}/")) {
                            prefixes.push(p);
                        }
                    } else if let Ok(k) = StoreKey::new(full) {
                        keys.push(k);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(e)),
        }
        keys.sort();
        prefixes.sort();
        Ok(StoreKeysPrefixes::new(keys, prefixes))
    }

    fn size_prefix(&self, prefix: &StorePrefix) -> Result<u64, StorageError> {
        let keys = self.list_prefix(prefix)?;
        let mut total = 0;
        for k in keys {
            total += self.size_key(&k)?.unwrap_or(0);
        }
        Ok(total)
    }
}

impl WritableStorageTraits for LocalStore {
    fn set(&self, key: &StoreKey, value: Bytes) -> Result<(), StorageError> {
        let path = self.path_of(key.as_str());
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(io_err)?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let tmp = dir.join(format!(
            ".{name}{TEMP_MARKER}{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&value)?;
            f.flush()?;
            drop(f);
            replace(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io_err(e)
        })
    }

    fn set_partial_many(
        &self,
        _key: &StoreKey,
        _offset_values: OffsetBytesIterator,
    ) -> Result<(), StorageError> {
        // In-place partial writes cannot be atomic; zarrs falls back to whole-value writes.
        Err(StorageError::Unsupported(
            "partial writes are not supported by the local store".into(),
        ))
    }

    fn erase(&self, key: &StoreKey) -> Result<(), StorageError> {
        match fs::remove_file(self.path_of(key.as_str())) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(e)),
        }
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> Result<(), StorageError> {
        let path = self.path_of(prefix.as_str());
        if prefix.as_str().is_empty() {
            // Never remove the root directory itself, only its contents.
            if let Ok(entries) = fs::read_dir(&path) {
                for entry in entries.flatten() {
                    let p = entry.path();
                    let r = if p.is_dir() {
                        fs::remove_dir_all(&p)
                    } else {
                        fs::remove_file(&p)
                    };
                    r.map_err(io_err)?;
                }
            }
            return Ok(());
        }
        match fs::remove_dir_all(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(e)),
        }
    }

    fn supports_set_partial(&self) -> bool {
        false
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("zarrs-node-local-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn atomic_set_leaves_no_temp_files() {
        let d = tmpdir("atomic");
        let s = LocalStore::new(d.clone()).unwrap();
        let k = StoreKey::new("a/b/c").unwrap();
        s.set(&k, Bytes::from_static(b"hello")).unwrap();
        s.set(&k, Bytes::from_static(b"world!")).unwrap();
        assert_eq!(fs::read(d.join("a/b/c")).unwrap(), b"world!");
        let names: Vec<_> = fs::read_dir(d.join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert_eq!(s.list().unwrap(), vec![k]);
        // A key that names a directory is refused, not swapped with it.
        assert!(s
            .set(&StoreKey::new("a/b").unwrap(), Bytes::from_static(b"x"))
            .is_err());
        assert_eq!(fs::read(d.join("a/b/c")).unwrap(), b"world!");
        assert_eq!(fs::read_dir(d.join("a")).unwrap().count(), 1);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn concurrent_overwrites_leave_one_whole_value() {
        let d = tmpdir("overwrites");
        let s = Arc::new(LocalStore::new(d.clone()).unwrap());
        let k = StoreKey::new("c/0").unwrap();
        let values: Vec<Vec<u8>> = (0..8u8).map(|t| vec![t; 4096 + usize::from(t)]).collect();
        std::thread::scope(|scope| {
            for v in &values {
                let (s, k) = (s.clone(), k.clone());
                scope.spawn(move || {
                    for _ in 0..50 {
                        s.set(&k, Bytes::from(v.clone())).unwrap();
                    }
                });
            }
        });
        let got = fs::read(d.join("c/0")).unwrap();
        assert!(values.contains(&got), "a torn value of {} bytes", got.len());
        assert_eq!(
            fs::read_dir(d.join("c")).unwrap().count(),
            1,
            "temporary files left"
        );
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn ranges_and_missing() {
        let d = tmpdir("ranges");
        let s = LocalStore::new(d.clone()).unwrap();
        let k = StoreKey::new("x").unwrap();
        assert!(s.get(&k).unwrap().is_none());
        s.set(&k, Bytes::from_static(b"0123456789")).unwrap();
        let r = s.get_partial(&k, ByteRange::Suffix(3)).unwrap().unwrap();
        assert_eq!(&r[..], b"789");
        let r = s
            .get_partial(&k, ByteRange::FromStart(2, Some(3)))
            .unwrap()
            .unwrap();
        assert_eq!(&r[..], b"234");
        assert!(s.get_partial(&k, ByteRange::FromStart(8, Some(5))).is_err());
        fs::remove_dir_all(d).unwrap();
    }
}
