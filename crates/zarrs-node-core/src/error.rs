//! One error type for the whole core, tagged with a stable [`ErrorCode`].
//!
//! The binding turns the code into the JS `ZarrsError.code`, so codes are part of the public
//! contract: add new ones, never rename.

use std::fmt;

use zarrs::array::{ArrayCreateError, ArrayError, CodecError};
use zarrs::group::GroupCreateError;
use zarrs_storage::StorageError;

/// Stable error tags (mirrored by `ZarrsError.code` in TypeScript).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A node or key does not exist.
    NotFound,
    /// `zarr.json`, `.zarray`, `.zgroup` or `.zattrs` is missing a field or is not valid JSON.
    InvalidMetadata,
    /// A chunk could not be encoded or decoded (corrupt or truncated frame, bad shard index).
    Codec,
    /// A checksum codec (crc32c) found a mismatch.
    Checksum,
    /// A selection reaches past the array bounds.
    OutOfBounds,
    /// A selection is malformed (wrong dimensionality, zero step, unsorted where sorted is needed).
    InvalidSelection,
    /// A codec, data type or feature that this build does not support.
    Unsupported,
    /// A write was attempted on a read-only store.
    ReadOnly,
    /// A write would leave consolidated metadata out of date and the caller asked us to refuse.
    ConsolidatedStale,
    /// The operation was cancelled through its `AbortSignal`.
    Aborted,
    /// The storage backend failed (I/O error, permission, network).
    Storage,
    /// An argument is invalid (wrong buffer type or length, bad key, absurd size).
    InvalidInput,
    /// A bug: a panic or an invariant that should hold. Reported, never aborts the process.
    Internal,
    /// A store a conversion has not finished (killed, or parts missing): see
    /// [`crate::group::UNFINISHED_KEY`].
    Incomplete,
}

impl ErrorCode {
    /// The string form used across the N-API boundary.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "NotFound",
            Self::Incomplete => "Incomplete",
            Self::InvalidMetadata => "InvalidMetadata",
            Self::Codec => "Codec",
            Self::Checksum => "Checksum",
            Self::OutOfBounds => "OutOfBounds",
            Self::InvalidSelection => "InvalidSelection",
            Self::Unsupported => "Unsupported",
            Self::ReadOnly => "ReadOnly",
            Self::ConsolidatedStale => "ConsolidatedStale",
            Self::Aborted => "Aborted",
            Self::Storage => "Storage",
            Self::InvalidInput => "InvalidInput",
            Self::Internal => "Internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with a code, the store key or node path involved, and a human message that keeps
/// the cause chain (`... : caused by ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// Stable tag.
    pub code: ErrorCode,
    /// Store key or node path the error is about, when there is one.
    pub key: Option<String>,
    /// Human-readable description including causes.
    pub message: String,
}

/// Result alias for the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error with no key.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            key: None,
            message: message.into(),
        }
    }

    /// Attach the key or path involved, unless a more specific one is already set.
    #[must_use]
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        if self.key.is_none() {
            self.key = Some(key.into());
        }
        self
    }

    /// Attach the node `path` (as [`with_key`](Self::with_key)) and name it at the start of
    /// the message when the message does not name it already, so that an error about one
    /// element of a hierarchy says which.
    #[must_use]
    pub fn naming(mut self, path: &str) -> Self {
        if !path.is_empty() && !self.message.contains(path) {
            self.message = format!("'{path}': {}", self.message);
        }
        self.with_key(path)
    }

    /// Shorthand for [`ErrorCode::InvalidInput`].
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// Shorthand for [`ErrorCode::InvalidSelection`].
    pub fn invalid_selection(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidSelection, message)
    }

    /// Shorthand for [`ErrorCode::InvalidMetadata`].
    pub fn invalid_metadata(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidMetadata, message)
    }

    /// Shorthand for [`ErrorCode::Unsupported`].
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unsupported, message)
    }

    /// Shorthand for [`ErrorCode::NotFound`] about `key`.
    pub fn not_found(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message).with_key(key)
    }

    /// The error for a cancelled operation.
    #[must_use]
    pub fn aborted() -> Self {
        Self::new(ErrorCode::Aborted, "the operation was aborted")
    }
}

/// A store backend's failure about one key (object stores, zip archives); carried inside
/// [`StorageError::IOError`] so that the conversion to [`Error`] below can recover the key and
/// the not-found case.
#[derive(Debug)]
pub struct RemoteError {
    /// The store key (relative to the store root).
    pub key: String,
    /// Whether the object does not exist.
    pub not_found: bool,
    /// What failed, with the `object_store` cause chain.
    pub message: String,
}

impl std::fmt::Display for RemoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RemoteError {}

/// The [`RemoteError`] inside `err`, if it came from an object store or a zip archive.
#[must_use]
pub fn remote_error(err: &StorageError) -> Option<&RemoteError> {
    match err {
        StorageError::IOError(io) => io.get_ref()?.downcast_ref::<RemoteError>(),
        _ => None,
    }
}

/// Render an error and its `source()` chain as one line.
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": caused by ");
            out.push_str(&s_text);
        }
        source = s.source();
    }
    out
}

impl From<StorageError> for Error {
    fn from(err: StorageError) -> Self {
        // Object stores: keep the key and the not-found case, and say just what failed.
        if let Some(remote) = remote_error(&err) {
            let code = if remote.not_found {
                ErrorCode::NotFound
            } else {
                ErrorCode::Storage
            };
            return Self::new(code, remote.message.clone()).with_key(remote.key.clone());
        }
        let code = match &err {
            StorageError::ReadOnly => ErrorCode::ReadOnly,
            StorageError::InvalidStoreKey(_) | StorageError::StorePrefixError(_) => {
                ErrorCode::InvalidInput
            }
            StorageError::InvalidMetadata(..) => ErrorCode::InvalidMetadata,
            StorageError::MissingMetadata(_) => ErrorCode::NotFound,
            StorageError::Unsupported(_) => ErrorCode::Unsupported,
            StorageError::InvalidByteRangeError(_) => ErrorCode::Codec,
            StorageError::IOError(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
                ErrorCode::Storage
            }
            _ => ErrorCode::Storage,
        };
        let mut e = Self::new(code, chain(&err));
        if let StorageError::InvalidMetadata(key, _) = &err {
            e = e.with_key(key.as_str());
        }
        e
    }
}

impl From<CodecError> for Error {
    fn from(err: CodecError) -> Self {
        let err = match err {
            CodecError::StorageError(e) if remote_error(&e).is_some() => return e.into(),
            other => other,
        };
        let code = match &err {
            CodecError::InvalidChecksum => ErrorCode::Checksum,
            CodecError::StorageError(StorageError::ReadOnly) => ErrorCode::ReadOnly,
            // A range past the end of a value: a truncated value or a corrupt shard index.
            CodecError::StorageError(StorageError::InvalidByteRangeError(_)) => ErrorCode::Codec,
            CodecError::StorageError(_) => ErrorCode::Storage,
            CodecError::UnsupportedDataType(..) | CodecError::UnsupportedDataTypeCodec(_) => {
                ErrorCode::Unsupported
            }
            CodecError::SubsetOutOfBounds(_) => ErrorCode::OutOfBounds,
            _ => ErrorCode::Codec,
        };
        Self::new(code, chain(&err))
    }
}

impl From<ArrayError> for Error {
    fn from(err: ArrayError) -> Self {
        match err {
            ArrayError::StorageError(e) => e.into(),
            ArrayError::CodecError(e) => e.into(),
            ArrayError::InvalidArraySubset(..)
            | ArrayError::InvalidChunkGridIndicesError(_)
            | ArrayError::InvalidChunkSubset(..) => Self::new(ErrorCode::OutOfBounds, chain(&err)),
            ArrayError::IncompatibleDimensionalityError(_) | ArrayError::ArraySubsetError(_) => {
                Self::new(ErrorCode::InvalidSelection, chain(&err))
            }
            ArrayError::InvalidBytesInputSize(..)
            | ArrayError::InvalidDataShape(..)
            | ArrayError::ElementError(_) => Self::new(ErrorCode::InvalidInput, chain(&err)),
            ArrayError::UnsupportedMethod(_) => Self::new(ErrorCode::Unsupported, chain(&err)),
            _ => Self::new(ErrorCode::Codec, chain(&err)),
        }
    }
}

impl From<ArrayCreateError> for Error {
    fn from(err: ArrayCreateError) -> Self {
        match err {
            ArrayCreateError::StorageError(e) => e.into(),
            ArrayCreateError::MissingMetadata => Self::new(ErrorCode::NotFound, chain(&err)),
            ArrayCreateError::DataTypeCreateError(_)
            | ArrayCreateError::CodecsCreateError(_)
            | ArrayCreateError::StorageTransformersCreateError(_)
            | ArrayCreateError::ChunkKeyEncodingCreateError(_)
            | ArrayCreateError::AdditionalFieldUnsupportedError(_) => {
                Self::new(ErrorCode::Unsupported, chain(&err))
            }
            ArrayCreateError::UnsupportedZarrV2Array(_) => {
                Self::new(ErrorCode::Unsupported, chain(&err))
            }
            _ => Self::new(ErrorCode::InvalidMetadata, chain(&err)),
        }
    }
}

impl From<GroupCreateError> for Error {
    fn from(err: GroupCreateError) -> Self {
        match err {
            GroupCreateError::StorageError(e) => e.into(),
            _ => Self::new(ErrorCode::InvalidMetadata, chain(&err)),
        }
    }
}

impl From<zarrs::array::IncompatibleDimensionalityError> for Error {
    fn from(err: zarrs::array::IncompatibleDimensionalityError) -> Self {
        Self::new(ErrorCode::InvalidSelection, chain(&err))
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Self::new(ErrorCode::InvalidMetadata, chain(&err))
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        let code = if err.kind() == std::io::ErrorKind::NotFound {
            ErrorCode::NotFound
        } else {
            ErrorCode::Storage
        };
        Self::new(code, chain(&err))
    }
}

/// Run `f`, turning a panic into an [`ErrorCode::Internal`] error so that no panic ever
/// unwinds into Node (which would abort the process).
pub fn catch_panic<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(Error::new(
                ErrorCode::Internal,
                format!("internal error (panic): {msg}"),
            ))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn panic_becomes_internal_error() {
        let r: Result<()> = catch_panic(|| panic!("boom"));
        let e = r.unwrap_err();
        assert_eq!(e.code, ErrorCode::Internal);
        assert!(e.message.contains("boom"));
    }

    #[test]
    fn with_key_keeps_first_key() {
        let e = Error::invalid_input("x").with_key("a").with_key("b");
        assert_eq!(e.key.as_deref(), Some("a"));
    }
}
