//! Writes: basic selections and record fields. A step-1 region of fixed-size elements that
//! covers whole chunks is encoded here (`encode.rs`); any other step-1 region is stored by
//! zarrs in slabs along the first dimension (an `AbortSignal` is honoured between chunks or
//! slabs); a strided selection is grouped by stored chunk (shard), and each of those is read,
//! modified and stored once, in parallel.

use rayon::prelude::*;
use serde_json::Value;
use zarrs::array::{ArrayBytes, ArraySubset, CodecOptions, Element, ElementOwned};

use super::grid::GridPlan;
use super::{codec_err, Inner, WriteValue, ZArray, ZArrayInner};
use crate::dtype::DType;
use crate::error::{Error, ErrorCode, Result};
use crate::numpy::{ColumnValue, NumpyDtype};
use crate::runtime::{self, CancelToken};
use crate::selection::{DimSpec, Selection};

impl ZArray {
    /// Write `value` into a basic selection (integers, slices with steps).
    ///
    /// # Errors
    /// Read-only stores, selection errors, wrong value length or type, codec/storage errors.
    pub fn set(
        &self,
        specs: &[DimSpec],
        value: WriteValue<'_>,
        cancel: &CancelToken,
    ) -> Result<()> {
        self.write_selection(specs, cancel, |n| self.materialize(value, n))
    }

    /// Write the value `make(n)` builds for the `n` elements of a basic selection.
    fn write_selection<'a>(
        &self,
        specs: &[DimSpec],
        cancel: &CancelToken,
        make: impl FnOnce(usize) -> Result<Materialized<'a>>,
    ) -> Result<()> {
        cancel.check()?;
        self.store.check_writable(&self.path)?;
        let result = self.with(|inner| {
            let shape = inner.array.shape().to_vec();
            let sel = Selection::new(specs, &shape, false)?;
            let n = sel.num_elements().unwrap_or(u64::MAX);
            let n = self.check_alloc(n)?;
            let value = make(n)?;
            runtime::run(|| match sel.as_region() {
                Some((start, region)) => self.write_region(inner, &start, &region, value, cancel),
                None => self.scatter(inner, &sel, value, cancel),
            })
        });
        // Decoded shard indexes may now be stale.
        if let Ok(inner) = self.inner.read() {
            inner.clear_shard_cache();
        }
        result.map_err(|e| e.with_key(self.path.clone()))
    }

    /// Write one column per field into a basic selection of a record array. Every field must
    /// be given exactly once: numbers and times as little-endian element bytes, fixed-length
    /// strings as strings.
    ///
    /// # Errors
    /// As [`set`](Self::set); [`ErrorCode::InvalidInput`] for missing, unknown or ill-sized
    /// fields and strings longer than their field.
    pub fn set_records(
        &self,
        specs: &[DimSpec],
        columns: &[(String, ColumnValue<'_>)],
        cancel: &CancelToken,
    ) -> Result<()> {
        let fields = self.record_fields()?;
        if let Some((name, _)) = columns
            .iter()
            .find(|(name, _)| !fields.iter().any(|f| &f.name == name))
        {
            return Err(
                Error::invalid_input(format!("'{}' has no field '{name}'", self.path))
                    .with_key(self.path.clone()),
            );
        }
        let stride = self.elem_size();
        self.write_selection(specs, cancel, |n| {
            let mut raw = vec![0u8; n * stride];
            for f in fields {
                let mut given = columns.iter().filter(|(name, _)| name == &f.name);
                let (Some((_, value)), None) = (given.next(), given.next()) else {
                    return Err(Error::invalid_input(format!(
                        "field '{}' must be given exactly once",
                        f.name
                    )));
                };
                f.scalar
                    .encode(*value, &mut raw, stride, f.offset)
                    .map_err(|e| {
                        Error::new(e.code, format!("field '{}': {}", f.name, e.message))
                    })?;
            }
            Ok(Materialized::Bytes(std::borrow::Cow::Owned(raw)))
        })
    }

    /// Check the value against the selection size and turn scalars into full buffers.
    fn materialize<'a>(&self, value: WriteValue<'a>, n: usize) -> Result<Materialized<'a>> {
        if let Some(raw) = &self.numpy {
            self.not_records()?;
            let NumpyDtype::Scalar(s) = &raw.dtype else {
                return Err(Error::new(ErrorCode::Internal, "record dtype"));
            };
            let size = s.size();
            let bytes = match value {
                WriteValue::Scalar(v) => s.json_bytes(&v)?.repeat(n),
                WriteValue::Strings(v) => {
                    let mut out = vec![0u8; n * size];
                    s.encode(ColumnValue::Strings(&v), &mut out, size, 0)?;
                    out
                }
                WriteValue::Bytes(b) => {
                    let mut out = vec![0u8; n * size];
                    s.encode(ColumnValue::Bytes(b), &mut out, size, 0)?;
                    out
                }
                WriteValue::Binary(_) => {
                    return Err(Error::invalid_input(format!(
                        "byte strings cannot be written to a {} array",
                        s.numpy()
                    )))
                }
            };
            return Ok(Materialized::Bytes(std::borrow::Cow::Owned(bytes)));
        }
        match (value, self.dtype) {
            (WriteValue::Strings(s), DType::String) => {
                Ok(Materialized::Strings(exactly(s, n, "strings")?))
            }
            (WriteValue::Strings(_), dt) => Err(Error::invalid_input(format!(
                "strings cannot be written to a {} array",
                dt.name()
            ))),
            (WriteValue::Binary(b), DType::Bytes) => {
                Ok(Materialized::Binary(exactly(b, n, "byte strings")?))
            }
            (WriteValue::Binary(_), dt) => Err(Error::invalid_input(format!(
                "byte strings cannot be written to a {} array",
                dt.name()
            ))),
            (WriteValue::Bytes(_) | WriteValue::Scalar(_), DType::Bytes) => Err(
                Error::invalid_input("a bytes array needs byte-string values (Uint8Array[])"),
            ),
            (WriteValue::Bytes(_), DType::String) => Err(Error::invalid_input(
                "a string array needs string values, not a TypedArray",
            )),
            (WriteValue::Bytes(b), dt) => {
                let elem = dt.size().unwrap_or(1);
                if b.len() != n * elem {
                    return Err(Error::invalid_input(format!(
                        "expected {n} {} elements ({} bytes), got {} bytes",
                        dt.name(),
                        n * elem,
                        b.len()
                    )));
                }
                Ok(Materialized::Bytes(std::borrow::Cow::Borrowed(b)))
            }
            (WriteValue::Scalar(v), DType::String) => match v {
                Value::String(s) => Ok(Materialized::Strings(vec![s; n])),
                other => Err(Error::invalid_input(format!("{other} is not a string"))),
            },
            (WriteValue::Scalar(v), dt) => {
                let one = crate::scalar::scalar_bytes(dt, &v)?;
                Ok(Materialized::Bytes(std::borrow::Cow::Owned(one.repeat(n))))
            }
        }
    }

    fn region_subset(start: &[u64], region: &[u64]) -> Result<ArraySubset> {
        ArraySubset::new_with_start_shape(start.to_vec(), region.to_vec())
            .map_err(|e| Error::invalid_selection(e.to_string()))
    }

    fn write_region(
        &self,
        inner: &Inner,
        start: &[u64],
        region: &[u64],
        value: Materialized<'_>,
        cancel: &CancelToken,
    ) -> Result<()> {
        let array = &inner.array;
        let opts = Self::options();
        if region.contains(&0) {
            return Ok(());
        }
        // Partly written shards are read, modified and rewritten: check their indexes first.
        // A write of whole shards reads nothing, so it needs no check (and costs no request).
        let written = ArraySubset::new_with_start_shape(start.to_vec(), region.to_vec())
            .map_err(|e| Error::invalid_selection(e.to_string()))?;
        let whole = Self::covers_whole_chunks(array, &written)?;
        if !whole {
            inner
                .shard_checks
                .check_subset(&self.store, array, &written)?;
        }
        match value {
            Materialized::Bytes(bytes) if whole => {
                Self::write_whole_chunks(inner, &written, &bytes, self.elem_size(), cancel)?;
            }
            Materialized::Strings(s) => {
                array.store_array_subset_opt(&Self::region_subset(start, region)?, s, &opts)?;
            }
            Materialized::Binary(b) => {
                array.store_array_subset_opt(&Self::region_subset(start, region)?, b, &opts)?;
            }
            Materialized::Bytes(bytes) => {
                let elem = self.elem_size();
                for (s, r, lo, hi) in
                    Self::slab_parts(array, start, region, elem, Self::cancel_slab_chunks(cancel))?
                {
                    cancel.check()?;
                    let subset = ArraySubset::new_with_start_shape(s, r)
                        .map_err(|e| Error::invalid_selection(e.to_string()))?;
                    array.store_array_subset_opt(
                        &subset,
                        ArrayBytes::new_flen(&bytes[lo..hi]),
                        &opts,
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Strided writes: group by stored chunk (shard), read-modify-write each once, in parallel.
    fn scatter(
        &self,
        inner: &Inner,
        sel: &Selection,
        value: Materialized<'_>,
        cancel: &CancelToken,
    ) -> Result<()> {
        let array = &inner.array;
        let zero = vec![0u64; array.dimensionality()];
        let chunk: Vec<u64> = array.chunk_shape(&zero)?.iter().map(|c| c.get()).collect();
        // One read-modify-write per stored chunk (shard); cells never share a chunk.
        let plan = GridPlan::new(sel, &chunk);
        let opts = Self::options();
        let elem = if self.numpy.is_some() {
            Some(self.elem_size())
        } else {
            self.dtype.size()
        };
        plan.cells().par_iter().try_for_each(|cell| {
            cancel.check()?;
            let bbox = cell.subset()?;
            inner.shard_checks.check_subset(&self.store, array, &bbox)?;
            let mut pairs = Vec::new();
            cell.for_each_pair(&plan.out_strides, |i, s| pairs.push((i, s)));
            match (&value, elem) {
                (Materialized::Strings(vals), _) => {
                    rewrite_var(array, &bbox, &pairs, vals, &opts)?;
                }
                (Materialized::Binary(vals), _) => {
                    rewrite_var(array, &bbox, &pairs, vals, &opts)?;
                }
                (Materialized::Bytes(vals), Some(elem)) => {
                    let cur: ArrayBytes = array.retrieve_array_subset_opt(&bbox, &opts)?;
                    let mut cur = cur.into_fixed().map_err(codec_err)?.into_owned();
                    for (i, s) in pairs {
                        cur[s * elem..(s + 1) * elem]
                            .copy_from_slice(&vals[i * elem..(i + 1) * elem]);
                    }
                    array.store_array_subset_opt(&bbox, ArrayBytes::new_flen(cur), &opts)?;
                }
                (Materialized::Bytes(_), None) => {
                    return Err(Error::new(ErrorCode::Internal, "element size unknown"))
                }
            }
            Ok(())
        })
    }
}

enum Materialized<'a> {
    Bytes(std::borrow::Cow<'a, [u8]>),
    Strings(Vec<String>),
    Binary(Vec<Vec<u8>>),
}

/// `values` when it holds exactly `n` elements (`what` names them in the error).
fn exactly<T>(values: Vec<T>, n: usize, what: &str) -> Result<Vec<T>> {
    if values.len() != n {
        return Err(Error::invalid_input(format!(
            "expected {n} {what}, got {}",
            values.len()
        )));
    }
    Ok(values)
}

/// Read-modify-write of variable-length elements in `bbox`: `pairs` maps value index -> index
/// within the box.
fn rewrite_var<T: ElementOwned + Element + Clone>(
    array: &ZArrayInner,
    bbox: &ArraySubset,
    pairs: &[(usize, usize)],
    vals: &[T],
    opts: &CodecOptions,
) -> Result<()> {
    let mut cur: Vec<T> = array.retrieve_array_subset_opt(bbox, opts)?;
    for &(i, s) in pairs {
        cur[s].clone_from(&vals[i]);
    }
    array.store_array_subset_opt(bbox, cur, opts)?;
    Ok(())
}
