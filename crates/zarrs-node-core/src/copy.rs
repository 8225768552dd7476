//! The streaming copy behind conversion: rows of a source array, read in blocks aligned to the
//! destination's shards, each block written once, so every destination shard is encoded and
//! stored exactly once and memory holds at most two blocks (one read ahead, one being written).

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;

use crate::array::{WriteValue, ZArray};
use crate::dtype::{DType, TypedVec};
use crate::error::{Error, Result};
use crate::runtime::CancelToken;
use crate::selection::DimSpec;
use crate::source::{ElementType, Source};

/// Anything rows can be read from: a zarr array or an array of a [`Source`].
pub trait RowSource: Send + Sync {
    /// Shape (empty for a scalar).
    fn shape(&self) -> &[u64];
    /// Element type.
    fn dtype(&self) -> DType;
    /// Rows `rows` (all other dimensions whole), C order; a scalar has the one row `0..1`.
    ///
    /// # Errors
    /// Read errors of the source.
    fn read_rows(&self, rows: Range<u64>, cancel: &CancelToken) -> Result<TypedVec>;
}

/// One array of a [`Source`] as a [`RowSource`].
pub struct SourceArray<'a, S: Source + ?Sized> {
    source: &'a S,
    path: String,
    shape: Vec<u64>,
    dtype: DType,
}

impl<'a, S: Source + ?Sized> SourceArray<'a, S> {
    /// The array at `path` of `source`; record arrays are `Unsupported`.
    ///
    /// # Errors
    /// `NotFound`, `Unsupported` for record arrays.
    pub fn new(source: &'a S, path: &str) -> Result<Self> {
        let info = source.array_info(path)?;
        let ElementType::Scalar(dtype) = info.element else {
            return Err(Error::unsupported(format!(
                "{}: {path} is a record array; the streaming copy carries numbers, booleans \
                 and strings",
                source.location()
            ))
            .with_key(path));
        };
        Ok(Self {
            source,
            path: path.to_owned(),
            shape: info.shape,
            dtype,
        })
    }
}

impl<S: Source + Sync + ?Sized> RowSource for SourceArray<'_, S> {
    fn shape(&self) -> &[u64] {
        &self.shape
    }
    fn dtype(&self) -> DType {
        self.dtype
    }
    fn read_rows(&self, rows: Range<u64>, cancel: &CancelToken) -> Result<TypedVec> {
        cancel.check()?;
        self.source.read_rows(&self.path, rows)
    }
}

/// A zarr array as a row source.
pub struct ZarrRows<'a> {
    array: &'a ZArray,
    shape: Vec<u64>,
}

impl<'a> ZarrRows<'a> {
    /// Rows of `array`.
    ///
    /// # Errors
    /// When the array's metadata lock is poisoned.
    pub fn new(array: &'a ZArray) -> Result<Self> {
        Ok(Self {
            shape: array.shape()?,
            array,
        })
    }
}

impl RowSource for ZarrRows<'_> {
    fn shape(&self) -> &[u64] {
        &self.shape
    }
    fn dtype(&self) -> DType {
        self.array.dtype()
    }
    fn read_rows(&self, rows: Range<u64>, cancel: &CancelToken) -> Result<TypedVec> {
        let specs = row_specs(&self.shape, &rows)?;
        Ok(self.array.get(&specs, cancel)?.0)
    }
}

/// Counters a caller polls while a copy runs (the CLI's progress bar).
#[derive(Debug, Default)]
pub struct Progress {
    /// Uncompressed bytes copied (strings: their UTF-8 length).
    pub bytes: AtomicU64,
    /// Blocks written.
    pub blocks: AtomicU64,
    /// Blocks skipped because every shard they cover was already stored (`skip_complete`).
    pub skipped: AtomicU64,
}

/// What a copy did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CopyStats {
    /// Blocks read and written.
    pub written: u64,
    /// Blocks skipped as complete.
    pub skipped: u64,
}

/// The selection of rows `rows` of an array of `shape` (nothing for a scalar).
fn row_specs(shape: &[u64], rows: &Range<u64>) -> Result<Vec<DimSpec>> {
    if shape.is_empty() {
        return Ok(Vec::new());
    }
    let int = |v: u64| i64::try_from(v).map_err(|_| Error::invalid_input("row index too large"));
    let mut specs = vec![DimSpec::All; shape.len()];
    specs[0] = DimSpec::Slice {
        start: Some(int(rows.start)?),
        stop: Some(int(rows.end)?),
        step: None,
    };
    Ok(specs)
}

fn bytes_of(v: &TypedVec) -> u64 {
    match v {
        TypedVec::String(s) => s.iter().map(|x| x.len() as u64).sum(),
        other => other.bytes().map_or(0, |b| b.len() as u64),
    }
}

/// Rows per stored object (shard, or chunk when unsharded) along the first dimension.
fn unit_rows(dst: &ZArray) -> Result<u64> {
    Ok(match dst.shards()? {
        Some(s) => s.first().copied().unwrap_or(1),
        None => dst.chunks()?.first().copied().unwrap_or(1),
    }
    .max(1))
}

/// Check that `blocks` tile whole stored objects of `dst` along the first dimension, so no
/// object is written by two blocks (or by two parts of a partitioned run).
fn check_blocks(dst: &ZArray, shape: &[u64], blocks: &[Range<u64>]) -> Result<()> {
    let unit = unit_rows(dst)?;
    let rows = shape.first().copied().unwrap_or(1);
    for b in blocks {
        let aligned = b.start % unit == 0 && (b.end % unit == 0 || b.end == rows);
        if b.start >= b.end || b.end > rows || !aligned {
            return Err(Error::invalid_input(format!(
                "copy block {b:?} of '{}' is not a whole number of its {unit}-row shards \
                 within 0..{rows}",
                dst.path()
            ))
            .with_key(dst.path()));
        }
    }
    Ok(())
}

/// Copy `blocks` (row ranges aligned to `dst`'s shards) from `src` into `dst`, reading the next
/// block while the current one is encoded and written. With `skip_complete`, blocks whose
/// shards are all stored and sound ([`ZArray::check_objects`]) are skipped (resume after a kill).
///
/// # Errors
/// Mismatched shapes or types, unaligned blocks, read and write errors, `Aborted` on cancel.
pub fn copy_rows(
    src: &dyn RowSource,
    dst: &ZArray,
    blocks: &[Range<u64>],
    skip_complete: bool,
    progress: &Progress,
    cancel: &CancelToken,
) -> Result<CopyStats> {
    let shape = dst.shape()?;
    if src.shape() != shape.as_slice() || src.dtype() != dst.dtype() {
        return Err(Error::invalid_input(format!(
            "cannot copy a {:?} {} array into '{}', a {shape:?} {} array",
            src.shape(),
            src.dtype().name(),
            dst.path(),
            dst.dtype().name()
        ))
        .with_key(dst.path()));
    }
    check_blocks(dst, &shape, blocks)?;
    let mut todo: Vec<Range<u64>> = Vec::with_capacity(blocks.len());
    let mut stats = CopyStats::default();
    if skip_complete {
        for b in blocks {
            // only sound objects count: a damaged shard is rewritten
            if dst.check_objects(b)?.complete() {
                stats.skipped += 1;
                progress.skipped.fetch_add(1, Ordering::Relaxed);
            } else {
                todo.push(b.clone());
            }
        }
    } else {
        todo.extend(blocks.iter().cloned());
    }
    let write = |rows: &Range<u64>, data: TypedVec| -> Result<()> {
        let n = bytes_of(&data);
        let specs = row_specs(&shape, rows)?;
        match data {
            TypedVec::String(s) => dst.set(&specs, WriteValue::Strings(s), cancel)?,
            other => dst.set(
                &specs,
                WriteValue::Bytes(other.bytes().unwrap_or_default()),
                cancel,
            )?,
        }
        progress.bytes.fetch_add(n, Ordering::Relaxed);
        progress.blocks.fetch_add(1, Ordering::Relaxed);
        Ok(())
    };
    std::thread::scope(|scope| -> Result<()> {
        // Capacity 0: the reader holds at most one finished block while one is written.
        let (tx, rx) = sync_channel::<Result<(Range<u64>, TypedVec)>>(0);
        let reader_blocks = &todo;
        scope.spawn(move || {
            for b in reader_blocks {
                let item = src.read_rows(b.clone(), cancel).map(|d| (b.clone(), d));
                let failed = item.is_err();
                if tx.send(item).is_err() || failed {
                    return;
                }
            }
        });
        for item in rx {
            let (rows, data) = item?;
            cancel.check()?;
            write(&rows, data)?;
            stats.written += 1;
        }
        Ok(())
    })?;
    Ok(stats)
}
