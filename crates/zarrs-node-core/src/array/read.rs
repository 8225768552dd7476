//! Reads: basic, orthogonal, coordinate and record selections.
//!
//! Reads of a step-1 region decode straight into the output buffer ([`TypedVec`]), in slabs
//! along the first dimension aligned to chunk boundaries so an `AbortSignal` is honoured
//! between slabs. Partial reads of sharded arrays decode only the inner chunks a selection
//! touches, with each shard's index read once per handle: here, from the indexes the shard
//! check decoded ([`ZArray::read_subchunks_into`]), or, for uncompressed inner chunks read in
//! small parts, by zarrs' sharded reader and its own index cache. Strided, orthogonal and coordinate selections are
//! grouped by inner chunk: each inner chunk is decoded once, in parallel, and its elements
//! scattered into the output.

use std::collections::HashMap;

use zarrs::array::{ArrayBytes, ArrayShardedReadableExt, ArraySubset, CodecOptions, ElementOwned};

use super::grid::{c_strides, fill_from_units, GridPlan};
use super::{Inner, RecordColumn, ZArray};
use crate::dtype::TypedVec;
use crate::error::{Error, ErrorCode, Result};
use crate::remote_read;
use crate::runtime::{self, CancelToken};
use crate::selection::{coordinates, DimSpec, Selection};
use crate::store::PrefetchGuard;

impl ZArray {
    /// Basic selection (integers, slices with steps, `All`). Returns data and output shape.
    ///
    /// # Errors
    /// Selection, codec and storage errors, [`ErrorCode::Aborted`] when cancelled.
    pub fn get(&self, specs: &[DimSpec], cancel: &CancelToken) -> Result<(TypedVec, Vec<u64>)> {
        self.get_selection(specs, false, cancel)
    }

    /// Basic selection of a record array: one column per field, in field order.
    ///
    /// # Errors
    /// As [`get`](Self::get); [`ErrorCode::InvalidInput`] when the array is not a record array.
    pub fn get_records(
        &self,
        specs: &[DimSpec],
        cancel: &CancelToken,
    ) -> Result<(Vec<RecordColumn>, Vec<u64>)> {
        let fields = self.record_fields()?;
        let (raw, shape) = self.read_selection(specs, false, cancel)?;
        let bytes = raw.bytes().unwrap_or_default();
        let stride = self.elem_size();
        let columns = fields
            .iter()
            .map(|f| {
                let col = f.scalar.decode(bytes, stride, f.offset).map_err(|e| {
                    Error::new(e.code, format!("field '{}': {}", f.name, e.message))
                        .with_key(self.path.clone())
                })?;
                Ok((f.name.clone(), col))
            })
            .collect::<Result<_>>()?;
        Ok((columns, shape))
    }

    /// Orthogonal selection (index lists and masks allowed per dimension).
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn get_orthogonal(
        &self,
        specs: &[DimSpec],
        cancel: &CancelToken,
    ) -> Result<(TypedVec, Vec<u64>)> {
        self.get_selection(specs, true, cancel)
    }

    fn get_selection(
        &self,
        specs: &[DimSpec],
        orthogonal: bool,
        cancel: &CancelToken,
    ) -> Result<(TypedVec, Vec<u64>)> {
        self.not_records()?;
        let (raw, shape) = self.read_selection(specs, orthogonal, cancel)?;
        Ok((self.decode_scalar(raw)?, shape))
    }

    /// Read a selection as stored elements (raw bytes for numpy dtypes).
    fn read_selection(
        &self,
        specs: &[DimSpec],
        orthogonal: bool,
        cancel: &CancelToken,
    ) -> Result<(TypedVec, Vec<u64>)> {
        cancel.check()?;
        self.with(|inner| {
            let shape = inner.array.shape().to_vec();
            let sel = Selection::new(specs, &shape, orthogonal)
                .map_err(|e| e.with_key(self.path.clone()))?;
            let n = sel.num_elements().unwrap_or(u64::MAX);
            let n = self.check_alloc(n)?;
            let out_shape = sel.output_shape();
            let region = sel.as_region();
            let data = match region {
                // Handing a small read to the pool and back costs more than the read itself.
                Some((start, region)) if self.reads_inline(inner, &start, &region, n)? => {
                    runtime::run_here(|| {
                        let opts = Self::options_for(1);
                        self.read_region(inner, &start, &region, n, &opts, cancel)
                    })
                }
                Some((start, region)) => runtime::run(|| {
                    self.read_region(inner, &start, &region, n, &Self::options(), cancel)
                }),
                None => runtime::run(|| self.gather_orthogonal(inner, &sel, n, cancel)),
            }
            .map_err(|e| e.with_key(self.path.clone()))?;
            Ok((data, out_shape))
        })
    }

    /// Point selection: `coords[d]` holds indices along dimension `d`; output is 1-D.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn get_coordinates(
        &self,
        coords: &[Vec<i64>],
        cancel: &CancelToken,
    ) -> Result<(TypedVec, Vec<u64>)> {
        cancel.check()?;
        self.not_records()?;
        self.with(|inner| {
            let shape = inner.array.shape().to_vec();
            let points = coordinates(coords, &shape).map_err(|e| e.with_key(self.path.clone()))?;
            let n = self.check_alloc(points.len() as u64)?;
            let data = runtime::run(|| self.gather_points(inner, &points, n, cancel))
                .map_err(|e| e.with_key(self.path.clone()))?;
            Ok((self.decode_scalar(data)?, vec![n as u64]))
        })
    }

    fn read_region(
        &self,
        inner: &Inner,
        start: &[u64],
        region: &[u64],
        n: usize,
        opts: &CodecOptions,
        cancel: &CancelToken,
    ) -> Result<TypedVec> {
        let array = &inner.array;
        let mut out = self.alloc(n)?;
        if n == 0 {
            return Ok(out);
        }
        let subset = ArraySubset::new_with_start_shape(start.to_vec(), region.to_vec())
            .map_err(|e| Error::invalid_selection(e.to_string()))?;
        let whole = Self::covers_whole_chunks(array, &subset)?;
        let sharded_partial = inner.shard_cache.array_is_sharded() && !whole;
        // Object stores fetch up front, concurrently, what zarrs would fetch one request at a
        // time: the inner chunks of a partial shard read, or whole objects where zarrs reads
        // whole objects (chunks the read covers; any chunk of a chain that cannot read part of
        // its input, such as a compressed one). Shard indexes are then checked from the fetched
        // bytes. Variable-length data is one decode of the whole subset, so fetched here;
        // fixed-size data per slab below.
        let remote = self.store.is_remote();
        let whole_objects =
            remote && !sharded_partial && (whole || remote_read::reads_whole_chunks(array));
        let var_len = matches!(out, TypedVec::String(_) | TypedVec::Bytes(_));
        let _prefetched = if remote && sharded_partial {
            let subchunks = remote_read::subchunks_of_region(start, region, &inner.unit_shape()?);
            inner.prefetch(&self.store, &subchunks)?
        } else if whole_objects && var_len {
            inner.prefetch_objects(&self.store, &subset)?
        } else if whole_objects {
            PrefetchGuard::none()
        } else {
            inner
                .shard_checks
                .check_subset(&self.store, array, &subset)?;
            PrefetchGuard::none()
        };

        match &mut out {
            TypedVec::String(v) => {
                *v = Self::read_var(inner, &subset, sharded_partial, opts)?;
                return Ok(out);
            }
            TypedVec::Bytes(v) => {
                *v = Self::read_var(inner, &subset, sharded_partial, opts)?;
                return Ok(out);
            }
            _ => {}
        }
        let elem = self.elem_size();
        let bytes = out
            .bytes_mut()
            .ok_or_else(|| Error::new(ErrorCode::Internal, "fixed buffer expected"))?;
        if sharded_partial {
            // Partial shard reads: cached shard indexes, only the needed inner chunks decoded,
            // here when that beats zarrs' sharded reader, else by it.
            if let Some(sharding) = inner.sharding.as_deref() {
                if sharding.decodes_here(region, &inner.unit_shape()?, remote, elem)
                    && Self::read_subchunks_into(
                        inner,
                        &self.store,
                        sharding,
                        &subset,
                        bytes,
                        elem,
                        opts,
                    )?
                {
                    return Ok(out);
                }
            }
            let decoded: ArrayBytes =
                array.retrieve_array_subset_sharded_opt(&inner.shard_cache, &subset, opts)?;
            let decoded = decoded
                .into_fixed()
                .map_err(|e| Error::new(ErrorCode::Codec, e.to_string()))?;
            bytes.copy_from_slice(&decoded);
            return Ok(out);
        }
        // Object stores: slabs bound what the prefetch holds at once (encoded bytes of a few
        // concurrent rounds of GETs), not the whole region's.
        let slab_chunks = if whole_objects {
            Some(remote_read::SLAB_OBJECTS.max(Self::cancel_slab_chunks(cancel).unwrap_or(0)))
        } else {
            Self::cancel_slab_chunks(cancel)
        };
        for (s, r, lo, hi) in Self::slab_parts(array, start, region, elem, slab_chunks)? {
            cancel.check()?;
            let slab = &mut bytes[lo..hi];
            let slab_subset = ArraySubset::new_with_start_shape(s.clone(), r.clone())
                .map_err(|e| Error::invalid_selection(e.to_string()))?;
            let _held = if whole_objects {
                inner.prefetch_objects(&self.store, &slab_subset)?
            } else {
                PrefetchGuard::none()
            };
            Self::read_chunks_into(inner, !remote, &s, &r, slab, elem, opts)?;
        }
        Ok(out)
    }

    /// Variable-length elements (strings, byte strings) of a region.
    fn read_var<T: ElementOwned>(
        inner: &Inner,
        subset: &ArraySubset,
        sharded_partial: bool,
        opts: &CodecOptions,
    ) -> Result<Vec<T>> {
        Ok(if sharded_partial {
            inner.array.retrieve_array_subset_sharded_opt::<Vec<T>>(
                &inner.shard_cache,
                subset,
                opts,
            )?
        } else {
            inner
                .array
                .retrieve_array_subset_opt::<Vec<T>>(subset, opts)?
        })
    }

    /// Decode the bounding box `bbox` (array coordinates) with the shard-index cache: here when
    /// [`Sharding::decodes_here`](super::grid::Sharding::decodes_here) says so, else by zarrs.
    pub(super) fn read_bbox(
        &self,
        inner: &Inner,
        bbox: &ArraySubset,
        opts: &CodecOptions,
    ) -> Result<ArrayBytes<'static>> {
        let elem = self.elem_size();
        if let Some(sharding) = inner.sharding.as_deref() {
            let here = !self.dtype.is_variable()
                && sharding.decodes_here(
                    bbox.shape(),
                    &inner.unit_shape()?,
                    self.store.is_remote(),
                    elem,
                );
            if here {
                let mut out = vec![0u8; self.check_alloc(bbox.num_elements())? * elem];
                if Self::read_subchunks_into(
                    inner,
                    &self.store,
                    sharding,
                    bbox,
                    &mut out,
                    elem,
                    opts,
                )? {
                    return Ok(ArrayBytes::new_flen(out));
                }
            }
        }
        inner
            .shard_checks
            .check_subset(&self.store, &inner.array, bbox)?;
        Ok(inner
            .array
            .retrieve_array_subset_sharded_opt(&inner.shard_cache, bbox, opts)?)
    }

    fn gather_orthogonal(
        &self,
        inner: &Inner,
        sel: &Selection,
        n: usize,
        cancel: &CancelToken,
    ) -> Result<TypedVec> {
        let mut out = self.alloc(n)?;
        // One unit of work per touched inner chunk, decoded once.
        let unit = inner.unit_shape()?;
        let plan = GridPlan::new(sel, &unit);
        let cells = plan.cells();
        let _prefetched = if self.store.is_remote() {
            let subchunks: Vec<Vec<u64>> = cells
                .iter()
                .map(|c| c.lo.iter().zip(&unit).map(|(l, u)| l / u).collect())
                .collect();
            inner.prefetch(&self.store, &subchunks)?
        } else {
            PrefetchGuard::none()
        };
        let opts = Self::options();
        // SAFETY: `GridPlan::new` puts each selected position of a dimension in exactly one
        // grid cell of that dimension, and a `Cell` is one combination of a cell per
        // dimension, so each output position tuple (hence each C-order output index, the
        // strides being those of the full output shape) is in exactly one `Cell`; positions
        // are below the selection's lengths, so indices are below `n`, the size of `out`.
        unsafe {
            fill_from_units(
                &mut out,
                self.elem_size(),
                &cells,
                |cell| {
                    cancel.check()?;
                    self.read_bbox(inner, &cell.subset()?, &opts)
                },
                |cell, f| cell.for_each_pair(&plan.out_strides, f),
            )?;
        }
        Ok(out)
    }

    fn gather_points(
        &self,
        inner: &Inner,
        points: &[Vec<u64>],
        n: usize,
        cancel: &CancelToken,
    ) -> Result<TypedVec> {
        let mut out = self.alloc(n)?;
        let unit = inner.unit_shape()?;
        let mut groups: HashMap<Vec<u64>, Vec<usize>> = HashMap::new();
        for (i, p) in points.iter().enumerate() {
            groups
                .entry(p.iter().zip(&unit).map(|(a, u)| a / u).collect())
                .or_default()
                .push(i);
        }
        let _prefetched = if self.store.is_remote() {
            inner.prefetch(&self.store, &groups.keys().cloned().collect::<Vec<_>>())?
        } else {
            PrefetchGuard::none()
        };
        // Per inner chunk: the bounding box of its points and (output, in-box) index pairs.
        let units = groups
            .into_values()
            .map(|g| {
                let ndim = unit.len();
                let lo: Vec<u64> = (0..ndim)
                    .map(|d| g.iter().map(|&i| points[i][d]).min().unwrap_or(0))
                    .collect();
                let shape: Vec<u64> = (0..ndim)
                    .map(|d| g.iter().map(|&i| points[i][d]).max().unwrap_or(0) + 1 - lo[d])
                    .collect();
                let strides = c_strides(&shape);
                let pairs = g
                    .iter()
                    .map(|&i| {
                        (
                            i,
                            (0..ndim)
                                .map(|d| (points[i][d] - lo[d]) * strides[d])
                                .sum::<u64>() as usize,
                        )
                    })
                    .collect::<Vec<_>>();
                let bbox = ArraySubset::new_with_start_shape(lo, shape)
                    .map_err(|e| Error::invalid_selection(e.to_string()))?;
                Ok((bbox, pairs))
            })
            .collect::<Result<Vec<_>>>()?;
        let opts = Self::options();
        // SAFETY: each point index `i` was pushed into exactly one group above, a unit's
        // pairs are that group's points, and `i < points.len() == n`, the size of `out`.
        unsafe {
            fill_from_units(
                &mut out,
                self.elem_size(),
                &units,
                |(bbox, _)| {
                    cancel.check()?;
                    self.read_bbox(inner, bbox, &opts)
                },
                |(_, pairs), f| pairs.iter().for_each(|&(o, s)| f(o, s)),
            )?;
        }
        Ok(out)
    }
}
