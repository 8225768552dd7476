//! How selections meet the chunk grid: a step-1 region cut into slabs along dimension 0, an
//! orthogonal selection split into grid cells ([`GridPlan`]), and the parallel fill of an
//! output from decoded units ([`fill_from_units`]).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::sync::Arc;

use rayon::prelude::*;
use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::codec::{ShardingCodec, ShardingCodecConfiguration, ShardingIndexLocation};
use zarrs::array::{
    ArrayBytes, ArrayBytesFixedDisjointView, ArrayShardedExt, ArraySubset, CodecChain,
};

use super::{codec_err, ZArray, ZArrayInner};
use crate::dtype::TypedVec;
use crate::error::{Error, ErrorCode, Result};
use crate::runtime::{self, CancelToken};
use crate::selection::Selection;

/// A slab of a region: its start, its shape, and its byte range in a C-order buffer of the
/// whole region.
type Slab = (Vec<u64>, Vec<u64>, usize, usize);

impl ZArray {
    /// Chunks per slab for work that only needs to stop on cancellation: `16 x threads`, so
    /// the token is checked often without starving the pool; `None` (one slab, no barriers at
    /// all) without a cancellable token.
    pub(super) fn cancel_slab_chunks(cancel: &CancelToken) -> Option<u64> {
        cancel
            .is_cancellable()
            .then(|| runtime::threads() as u64 * 16)
    }

    /// Split `start..start+len` along dimension 0 into slabs aligned to the chunk grid, each
    /// holding about `chunks_per_slab` chunks; `None` is one slab.
    fn slabs(
        array: &ZArrayInner,
        start: &[u64],
        region: &[u64],
        chunks_per_slab: Option<u64>,
    ) -> Result<Vec<(u64, u64)>> {
        let Some(target) = chunks_per_slab.filter(|_| !region.is_empty() && region[0] > 0) else {
            return Ok(vec![(0, region.first().copied().unwrap_or(1))]);
        };
        let zero = vec![0u64; array.dimensionality()];
        let chunk = array.chunk_shape(&zero)?;
        let c0 = chunk[0].get();
        let per_row: u64 = region
            .iter()
            .zip(chunk.iter())
            .skip(1)
            .map(|(r, c)| r.div_ceil(c.get()).max(1))
            .product();
        let rows_per_slab = target.div_ceil(per_row.max(1)).max(1);
        let mut out = Vec::new();
        let end = start[0] + region[0];
        let mut s = start[0];
        while s < end {
            // Next chunk boundary `rows_per_slab` chunk rows ahead.
            let boundary = (s / c0 + rows_per_slab) * c0;
            let e = boundary.min(end);
            out.push((s - start[0], e - s));
            s = e;
        }
        Ok(out)
    }

    /// Slabs as `(start, shape, byte_lo, byte_hi)`: the region of each slab and its byte range
    /// in a C-order buffer of the whole region (slabs split dimension 0, so ranges are contiguous).
    pub(super) fn slab_parts(
        array: &ZArrayInner,
        start: &[u64],
        region: &[u64],
        elem: usize,
        chunks_per_slab: Option<u64>,
    ) -> Result<Vec<Slab>> {
        if start.is_empty() {
            return Ok(vec![(vec![], vec![], 0, elem)]);
        }
        let row_bytes = usize::try_from(region.iter().skip(1).product::<u64>())
            .map_err(|_| Error::invalid_input("region too large"))?
            * elem;
        Ok(Self::slabs(array, start, region, chunks_per_slab)?
            .into_iter()
            .map(|(off, len)| {
                let mut s = start.to_vec();
                let mut r = region.to_vec();
                s[0] += off;
                r[0] = len;
                let lo = off as usize * row_bytes;
                (s, r, lo, lo + len as usize * row_bytes)
            })
            .collect())
    }

    /// Whether `subset` is exactly a set of whole chunks: a write then reads nothing back and
    /// a read needs no partial-shard decoding.
    pub(super) fn covers_whole_chunks(array: &ZArrayInner, subset: &ArraySubset) -> Result<bool> {
        let Some(chunks) = array.chunks_in_array_subset(subset)? else {
            return Ok(false);
        };
        Ok(&array.chunks_subset_bounded(&chunks)? == subset)
    }
}

/// An orthogonal selection split by a regular grid (inner chunks for reads, stored chunks for
/// writes): per dimension, grid cell -> `[(output position, source index)]`.
pub(super) struct GridPlan {
    groups: Vec<BTreeMap<u64, Vec<(u64, u64)>>>,
    /// Strides of the (undropped) output, C order.
    pub(super) out_strides: Vec<u64>,
}

/// The selected points of one grid cell: per dimension its `(output, source)` pairs, and the
/// bounding box of the sources.
pub(super) struct Cell<'a> {
    lists: Vec<&'a [(u64, u64)]>,
    pub(super) lo: Vec<u64>,
    shape: Vec<u64>,
}

impl GridPlan {
    pub(super) fn new(sel: &Selection, cell_shape: &[u64]) -> Self {
        let groups = sel
            .dims
            .iter()
            .zip(cell_shape)
            .map(|(d, &u)| {
                let mut m: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
                for i in 0..d.len() {
                    let src = d.source(i);
                    m.entry(src / u).or_default().push((i, src));
                }
                m
            })
            .collect();
        let full = sel.full_shape();
        Self {
            groups,
            out_strides: c_strides(&full),
        }
    }

    /// Every combination of touched cells.
    pub(super) fn cells(&self) -> Vec<Cell<'_>> {
        let mut cells: Vec<Vec<&[(u64, u64)]>> = vec![vec![]];
        for g in &self.groups {
            cells = cells
                .into_iter()
                .flat_map(|c| {
                    g.values().map(move |l| {
                        let mut c = c.clone();
                        c.push(l.as_slice());
                        c
                    })
                })
                .collect();
        }
        cells
            .into_iter()
            .map(|lists| {
                let lo: Vec<u64> = lists
                    .iter()
                    .map(|l| l.iter().map(|p| p.1).min().unwrap_or(0))
                    .collect();
                let shape = lists
                    .iter()
                    .zip(&lo)
                    .map(|(l, lo)| l.iter().map(|p| p.1).max().unwrap_or(0) + 1 - lo)
                    .collect();
                Cell { lists, lo, shape }
            })
            .collect()
    }
}

impl Cell<'_> {
    pub(super) fn subset(&self) -> Result<ArraySubset> {
        ArraySubset::new_with_start_shape(self.lo.clone(), self.shape.clone())
            .map_err(|e| Error::invalid_selection(e.to_string()))
    }

    /// Call `f(output linear index, linear index within the bounding box)` for every point.
    pub(super) fn for_each_pair(&self, out_strides: &[u64], mut f: impl FnMut(usize, usize)) {
        let ndim = self.lists.len();
        let box_strides = c_strides(&self.shape);
        let mut idx = vec![0usize; ndim];
        loop {
            let (mut o, mut s) = (0u64, 0u64);
            for d in 0..ndim {
                let (op, src) = self.lists[d][idx[d]];
                o += op * out_strides[d];
                s += (src - self.lo[d]) * box_strides[d];
            }
            f(o as usize, s as usize);
            // Odometer increment, last dimension fastest.
            let mut d = ndim;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < self.lists[d].len() {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
}

pub(super) fn c_strides(shape: &[u64]) -> Vec<u64> {
    let mut strides = vec![1u64; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    strides
}

/// Decode every unit in parallel and copy its elements into `out`: `pairs(unit, f)` calls
/// `f(output index, index within the decoded unit)`.
///
/// # Safety
/// The caller guarantees that every output index `pairs` yields belongs to exactly one unit
/// (no two units yield the same index) and is below the number of elements of `out`. The
/// units are copied in parallel through one shared view of `out`, so an index yielded by two
/// units would be two threads writing the same bytes. (An index out of bounds panics rather
/// than writes; debug builds also panic on an index yielded twice.)
pub(super) unsafe fn fill_from_units<U: Sync>(
    out: &mut TypedVec,
    elem: usize,
    units: &[U],
    decode: impl Fn(&U) -> Result<ArrayBytes<'static>> + Sync,
    pairs: impl Fn(&U, &mut dyn FnMut(usize, usize)) + Sync,
) -> Result<()> {
    match out {
        TypedVec::String(v) => return fill_var_from_units(v, units, decode, pairs),
        TypedVec::Bytes(v) => return fill_var_from_units(v, units, decode, pairs),
        _ => {}
    }
    let Some(bytes) = out.bytes_mut() else {
        return Err(Error::new(ErrorCode::Internal, "fixed buffer expected"));
    };
    #[cfg(debug_assertions)]
    let claimed: Vec<std::sync::atomic::AtomicBool> = (0..bytes.len() / elem.max(1))
        .map(|_| std::sync::atomic::AtomicBool::new(false))
        .collect();
    let target = UnsafeCellSlice::new(bytes);
    units.par_iter().try_for_each(|u| {
        let decoded = decode(u)?.into_fixed().map_err(codec_err)?;
        pairs(u, &mut |o, s| {
            #[cfg(debug_assertions)]
            assert!(
                !claimed[o].swap(true, std::sync::atomic::Ordering::Relaxed),
                "output index {o} yielded twice"
            );
            // SAFETY: `o` is yielded by this unit only (this function's contract), so no
            // other thread touches these bytes; `index_mut` checks the bounds.
            let dst = unsafe { target.index_mut(o * elem..(o + 1) * elem) };
            dst.copy_from_slice(&decoded[s * elem..(s + 1) * elem]);
        });
        Ok::<_, Error>(())
    })
}

/// The variable-length arm of [`fill_from_units`].
fn fill_var_from_units<U: Sync, T: VarElem>(
    out: &mut [T],
    units: &[U],
    decode: impl Fn(&U) -> Result<ArrayBytes<'static>> + Sync,
    pairs: impl Fn(&U, &mut dyn FnMut(usize, usize)) + Sync,
) -> Result<()> {
    let parts: Vec<Vec<(usize, T)>> = units
        .par_iter()
        .map(|u| {
            let (data, offsets) = decode(u)?.into_variable().map_err(codec_err)?.into_parts();
            let mut v = Vec::new();
            pairs(u, &mut |o, s| {
                v.push((o, T::from_slice(&data[offsets[s]..offsets[s + 1]])));
            });
            Ok(v)
        })
        .collect::<Result<_>>()?;
    for (o, s) in parts.into_iter().flatten() {
        out[o] = s;
    }
    Ok(())
}

/// Variable-length elements as decoded from zarrs' offsets + bytes.
trait VarElem: Send {
    fn from_slice(b: &[u8]) -> Self;
}

impl VarElem for String {
    fn from_slice(b: &[u8]) -> Self {
        String::from_utf8_lossy(b).into_owned()
    }
}

impl VarElem for Vec<u8> {
    fn from_slice(b: &[u8]) -> Self {
        b.to_vec()
    }
}

impl ZArray {
    /// Read the step-1 region `start + shape` of fixed-size elements into `out` (its C-order
    /// bytes). A region over several chunks decodes each chunk on its own, in parallel, and
    /// copies its rows into place: zarrs' own `retrieve_*_into` places a chunk into a larger
    /// output through an index iterator that costs ~120 ns per contiguous run, and for 64^3
    /// chunks of a 512^3 array (runs of 64 elements) half the CPU time of a full read went
    /// there (uncompressed: 265 -> 104 ms). zarrs' sharding codec places inner chunks through
    /// the same iterator, so whole shards of an exclusively sharded array are decoded here too
    /// ([`Self::read_shards_into`]); partial shard reads do not come here, they are read inner
    /// chunk by inner chunk ([`Self::read_subchunks_into`]). A region inside one chunk that
    /// zarrs reads well is one run of that iterator, so zarrs decodes it straight into `out`,
    /// with no rayon (for [`runtime::run_here`]).
    pub(super) fn read_chunks_into(
        inner: &super::Inner,
        local: bool,
        start: &[u64],
        shape: &[u64],
        out: &mut [u8],
        elem: usize,
        opts: &zarrs::array::CodecOptions,
    ) -> Result<()> {
        let array = &inner.array;
        let region = ArraySubset::new_with_start_shape(start.to_vec(), shape.to_vec())
            .map_err(|e| Error::invalid_selection(e.to_string()))?;
        let sharded = inner.shard_cache.array_is_sharded();
        if let Some(sharding) = inner.sharding.as_deref() {
            if let Some(shards) = array.chunks_in_array_subset(&region)? {
                if array.chunks_subset_bounded(&shards)? == region {
                    return Self::read_shards_into(
                        inner, sharding, &shards, &region, out, elem, opts,
                    );
                }
            }
        }
        let unit = inner.unit_shape()?;
        let units = crate::remote_read::subchunks_of_region(start, shape, &unit);
        let whole_chunks = crate::remote_read::reads_whole_chunks(array);
        // Each chunk's full extent (edge chunks decode to their full shape too), the part of it
        // the region takes, and whether to read it whole.
        let plan = |idx: &[u64]| -> Result<(ArraySubset, ArraySubset, bool)> {
            let chunk = array.chunk_subset(idx)?;
            let part = chunk.overlap(&region).map_err(codec_err)?;
            let whole =
                whole_chunks || (local && part_is_scattered(part.shape(), chunk.shape(), elem));
            Ok((chunk, part, whole))
        };
        let zarrs_reads = sharded
            || match units.as_slice() {
                [] => true,
                [idx] => !plan(idx)?.2 || whole_chunks,
                _ => false,
            };
        if zarrs_reads {
            let mut view = unsafe {
                // SAFETY: one view over the whole buffer; nothing else aliases it.
                ArrayBytesFixedDisjointView::new(
                    UnsafeCellSlice::new(out),
                    elem,
                    shape,
                    ArraySubset::new_with_shape(shape.to_vec()),
                )
            }
            .map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
            array.retrieve_array_subset_into_opt(&region, (&mut view).into(), opts)?;
            return Ok(());
        }
        // Many chunks: one thread each; fewer chunks than threads: the codecs share them.
        let mut unit_opts = *opts;
        if units.len() >= opts.concurrent_target() {
            unit_opts.set_concurrent_target(1);
        }
        let target = UnsafeCellSlice::new(out);
        let read_unit = |idx: &Vec<u64>| -> Result<()> {
            let (chunk, part, whole) = plan(idx)?;
            let (lo, len) = (part.start(), part.shape());
            let at: Vec<u64> = lo.iter().zip(start).map(|(l, s)| l - s).collect();
            let dst = Placed { shape, at: &at };
            // Whole: take the whole chunk and copy the part out here (zarrs would copy it out
            // with the slow iterator, or read it a run at a time). Otherwise zarrs reads only
            // the part's bytes.
            let (decoded, src_shape, in_src): (ArrayBytes, &[u64], Vec<u64>) = if whole {
                let in_chunk = lo.iter().zip(chunk.start()).map(|(l, c)| l - c).collect();
                (
                    array.retrieve_chunk_opt(idx, &unit_opts)?,
                    chunk.shape(),
                    in_chunk,
                )
            } else {
                (
                    array.retrieve_array_subset_opt(&part, &unit_opts)?,
                    len,
                    vec![0; len.len()],
                )
            };
            let decoded = decoded.into_fixed().map_err(codec_err)?;
            let src = Placed {
                shape: src_shape,
                at: &in_src,
            };
            // SAFETY: chunks are disjoint cells of the grid, so each writes only its own part
            // of the region; `copy_block` checks every range against the buffers.
            unsafe { copy_block(&target, &dst, &decoded, &src, len, elem) }
        };
        match units.as_slice() {
            // One chunk stays on this thread (it may be the calling thread, with no pool).
            [idx] => read_unit(idx),
            _ => units.par_iter().try_for_each(read_unit),
        }
    }

    /// Read `region`, which covers the `shards` whole, into `out`: each shard's bytes in one
    /// read, its index decoded by zarrs' sharding codec, and its inner chunks decoded in
    /// parallel with the inner codecs and copied into place a run at a time. Absent shards and
    /// inner chunks are the fill value. (zarrs' own `retrieve_encoded_subchunk` cannot be used
    /// per inner chunk: it overflows on the index entry of an absent one.)
    fn read_shards_into(
        inner: &super::Inner,
        sharding: &Sharding,
        shards: &ArraySubset,
        region: &ArraySubset,
        out: &mut [u8],
        elem: usize,
        opts: &zarrs::array::CodecOptions,
    ) -> Result<()> {
        let array = &inner.array;
        let mut unit_opts = *opts;
        unit_opts.set_concurrent_target(1);
        let place = InnerPlacement::new(
            array,
            sharding,
            inner.unit_shape()?,
            region,
            out,
            elem,
            &unit_opts,
        )?;
        let sub = &place.sub;
        let shard_list: Vec<Vec<u64>> = shards.indices().into_iter().map(|i| i.to_vec()).collect();
        shard_list.par_iter().try_for_each(|s| -> Result<()> {
            let shard = array.chunk_subset(s)?;
            let per = per_shard(shard.shape(), sub);
            let per_nz = nonzero(&per)?;
            let encoded = array.retrieve_encoded_chunk(s)?;
            let index = match &encoded {
                Some(bytes) => Some(
                    sharding
                        .codec
                        .decode_index(bytes, &per_nz, opts)
                        .map_err(codec_err)?,
                ),
                None => None,
            };
            let n_inner: u64 = per.iter().product();
            (0..n_inner)
                .into_par_iter()
                .try_for_each(|k| -> Result<()> {
                    let corner = unravel(k, &per, shard.start(), sub);
                    let entry = index.as_ref().map(|ix| {
                        let i = usize::try_from(k).unwrap_or(usize::MAX);
                        (ix.get(2 * i).copied(), ix.get(2 * i + 1).copied())
                    });
                    let stored = match (entry, &encoded) {
                        (Some((Some(off), Some(size))), Some(bytes)) if off != u64::MAX => {
                            let range = usize::try_from(off)
                                .ok()
                                .zip(usize::try_from(size).ok())
                                .and_then(|(o, n)| Some(o..o.checked_add(n)?))
                                .filter(|r| r.end <= bytes.len())
                                .ok_or_else(|| {
                                    codec_err(format!(
                                        "shard {}: the index points past its end",
                                        array.chunk_key(s)
                                    ))
                                })?;
                            Some(&bytes[range])
                        }
                        (Some((Some(_), Some(_))), _) | (None, _) => None,
                        _ => return Err(codec_err("a shard index shorter than its shard")),
                    };
                    // SAFETY: inner chunks are disjoint cells of the grid.
                    unsafe { place.place(corner, stored) }
                })
        })
    }

    /// Read `region` of an exclusively sharded array into `out` inner chunk by inner chunk:
    /// where each lies comes from the shard indexes [`ShardChecks`] decoded (one read each per
    /// handle), its bytes from one ranged read (prefetched on object stores), and it is decoded
    /// with the inner codecs and copied into place a run at a time. zarrs' sharded reader does
    /// the same but places each inner chunk through its per-run iterator, ~120 ns a run: a
    /// 64^3 block across 8 inner chunks of 64^3 paid ~0.5 ms for it. Returns `false`, having
    /// written nothing, when an index is not one decoded here (zarrs then reads the region).
    ///
    /// [`ShardChecks`]: crate::precheck::ShardChecks
    pub(super) fn read_subchunks_into(
        inner: &super::Inner,
        store: &crate::store::Store,
        sharding: &Sharding,
        region: &ArraySubset,
        out: &mut [u8],
        elem: usize,
        opts: &zarrs::array::CodecOptions,
    ) -> Result<bool> {
        let array = &inner.array;
        let sub = inner.unit_shape()?;
        let subchunks =
            crate::remote_read::subchunks_of_region(region.start(), region.shape(), &sub);
        inner
            .shard_checks
            .check_subchunks(store, array, &subchunks)?;
        let Some(locations) = inner.shard_checks.locations(array, &subchunks)? else {
            return Ok(false);
        };
        // Many inner chunks: one thread each; fewer than threads: the codecs share them.
        let mut unit_opts = *opts;
        if subchunks.len() >= opts.concurrent_target() {
            unit_opts.set_concurrent_target(1);
        }
        let place = InnerPlacement::new(array, sharding, sub, region, out, elem, &unit_opts)?;
        let storage = store.storage()?;
        let read_one = |(s, (shard, range)): (&Vec<u64>, &crate::precheck::Location)| {
            let corner: Vec<u64> = s.iter().zip(&place.sub).map(|(i, u)| i * u).collect();
            let bytes = match range {
                Some(range) => {
                    let key = array.chunk_key(shard);
                    let got = storage
                        .get_partial(&key, *range)
                        .map_err(|e| Error::from(e).with_key(key.as_str()))?;
                    // The index said it is stored: gone now means the shard changed under us.
                    Some(got.ok_or_else(|| {
                        Error::new(
                            ErrorCode::Storage,
                            format!("shard '{}' was removed while being read", key.as_str()),
                        )
                        .with_key(key.as_str())
                    })?)
                }
                None => None,
            };
            // SAFETY: inner chunks are disjoint cells of the grid.
            unsafe { place.place(corner, bytes.as_deref()) }
        };
        match subchunks.as_slice() {
            // One inner chunk stays on this thread (it may be the calling thread, with no pool).
            [one] => read_one((one, &locations[0]))?,
            _ => subchunks
                .par_iter()
                .zip(&locations)
                .try_for_each(read_one)?,
        }
        Ok(true)
    }
}

/// What placing decoded inner chunks into a region's buffer takes, shared by all of them.
struct InnerPlacement<'a> {
    array: &'a ZArrayInner,
    sharding: &'a Sharding,
    sub_nz: Vec<NonZeroU64>,
    sub: Vec<u64>,
    /// One inner chunk of the fill value, made for the first absent one (a fresh buffer per
    /// read costs its page faults, a tenth of a one-element read).
    fill: std::sync::OnceLock<Vec<u8>>,
    region: &'a ArraySubset,
    target: UnsafeCellSlice<'a, u8>,
    elem: usize,
    opts: zarrs::array::CodecOptions,
}

impl<'a> InnerPlacement<'a> {
    /// `sub` is the inner chunk shape.
    fn new(
        array: &'a ZArrayInner,
        sharding: &'a Sharding,
        sub: Vec<u64>,
        region: &'a ArraySubset,
        out: &'a mut [u8],
        elem: usize,
        opts: &zarrs::array::CodecOptions,
    ) -> Result<Self> {
        let sub_nz = nonzero(&sub)?;
        Ok(Self {
            array,
            sharding,
            sub_nz,
            sub,
            fill: std::sync::OnceLock::new(),
            region,
            target: UnsafeCellSlice::new(out),
            elem,
            opts: *opts,
        })
    }

    fn fill(&self) -> Result<&[u8]> {
        if let Some(f) = self.fill.get() {
            return Ok(f);
        }
        let made = ArrayBytes::new_fill_value(
            self.array.data_type(),
            self.sub.iter().product(),
            self.array.fill_value(),
        )
        .map_err(codec_err)?
        .into_fixed()
        .map_err(codec_err)?
        .into_owned();
        Ok(self.fill.get_or_init(|| made))
    }

    /// Decode the inner chunk at `corner` (array coordinates) from `encoded` (`None`: absent,
    /// the fill value) and copy its part of the region into place.
    ///
    /// # Safety
    /// No other thread may place the same inner chunk at the same time.
    unsafe fn place(&self, corner: Vec<u64>, encoded: Option<&[u8]>) -> Result<()> {
        use zarrs::array::codec::api::ArrayToBytesCodecTraits;
        let extent =
            ArraySubset::new_with_start_shape(corner, self.sub.clone()).map_err(codec_err)?;
        let part = extent.overlap(self.region).map_err(codec_err)?;
        if part.num_elements() == 0 {
            // Past the array's end, in an edge shard.
            return Ok(());
        }
        let decoded = match encoded {
            Some(bytes) => Some(
                self.sharding
                    .inner_codecs
                    .decode(
                        Cow::Borrowed(bytes),
                        &self.sub_nz,
                        self.array.data_type(),
                        self.array.fill_value(),
                        &self.opts,
                    )
                    .map_err(codec_err)?
                    .into_fixed()
                    .map_err(codec_err)?,
            ),
            None => None,
        };
        let src_bytes: &[u8] = match &decoded {
            Some(d) => d,
            None => self.fill()?,
        };
        let (lo, len) = (part.start(), part.shape());
        let at: Vec<u64> = lo
            .iter()
            .zip(self.region.start())
            .map(|(l, r)| l - r)
            .collect();
        let in_src: Vec<u64> = lo.iter().zip(extent.start()).map(|(l, e)| l - e).collect();
        let dst = Placed {
            shape: self.region.shape(),
            at: &at,
        };
        let src = Placed {
            shape: &self.sub,
            at: &in_src,
        };
        // SAFETY: the caller places each inner chunk once, and inner chunks are disjoint cells
        // of the grid, so this writes only its own part of the region; `copy_block` checks
        // every range against the buffers.
        unsafe { copy_block(&self.target, &dst, src_bytes, &src, len, self.elem) }
    }
}

/// What decoding shards (or parts of them) of an exclusively sharded array here takes: zarrs' sharding
/// codec (for its index) and the inner chunks' codecs, built once per handle.
pub(super) struct Sharding {
    codec: ShardingCodec,
    pub(super) inner_codecs: CodecChain,
    /// For shards assembled here ([`ZArray::write_whole_chunks`]).
    pub(super) index_codecs: CodecChain,
    pub(super) index_at_start: bool,
}

impl Sharding {
    /// Whether a partial read of a region of `shape` decodes its inner chunks here
    /// ([`ZArray::read_subchunks_into`]) rather than in zarrs' sharded reader: always when the
    /// inner codecs decode whole inner chunks anyway (a compressor) or the bytes come from an
    /// object store (prefetched whole); for uncompressed inner chunks in a local store, when
    /// zarrs would read the region's part of an inner chunk in scattered runs.
    /// `sub` is the inner chunk shape.
    pub(super) fn decodes_here(
        &self,
        shape: &[u64],
        sub: &[u64],
        remote: bool,
        elem: usize,
    ) -> bool {
        use zarrs::array::CodecTraits;
        if remote || !self.inner_codecs.partial_decoder_capability().partial_read {
            return true;
        }
        let part: Vec<u64> = shape.iter().zip(sub).map(|(r, s)| *r.min(s)).collect();
        part_is_scattered(&part, sub, elem)
    }

    /// `None` unless `array` is exclusively sharded on a regular grid, or when zarrs rejects the
    /// codec (its own reads then report why).
    pub(super) fn of(array: &ZArrayInner) -> Option<Arc<Self>> {
        if !array.is_exclusively_sharded() {
            return None;
        }
        let doc = serde_json::to_value(array.metadata()).ok()?;
        if doc
            .pointer("/chunk_grid/name")
            .and_then(serde_json::Value::as_str)
            != Some("regular")
        {
            return None;
        }
        let config: ShardingCodecConfiguration =
            serde_json::from_value(crate::remote_read::sharding_configuration(&doc)?.clone())
                .ok()?;
        let ShardingCodecConfiguration::V1(v1) = &config else {
            return None;
        };
        Some(Arc::new(Self {
            codec: ShardingCodec::new_with_configuration(&config).ok()?,
            inner_codecs: CodecChain::from_metadata(&v1.codecs).ok()?,
            index_codecs: CodecChain::from_metadata(&v1.index_codecs).ok()?,
            index_at_start: v1.index_location == ShardingIndexLocation::Start,
        }))
    }
}

/// Whether a part of an uncompressed chunk in a local store is cheaper to read with the whole
/// chunk than run by run. zarrs reads a part as one positioned read per contiguous run, and a
/// system call costs about what copying 4 KiB from the page cache does: a 32^3 corner of a
/// 64^3 uint16 chunk is 1,024 reads of 64 bytes (200 64^3 blocks took 1.6 s that way), where
/// the whole chunk is one read of 512 KiB.
fn part_is_scattered(part: &[u64], chunk: &[u64], elem: usize) -> bool {
    const BYTES_PER_READ: u64 = 4096;
    let runs = contiguous_runs(part, chunk);
    let chunk_bytes = chunk.iter().product::<u64>().saturating_mul(elem as u64);
    runs > 1 && runs.saturating_mul(BYTES_PER_READ) >= chunk_bytes
}

/// How many contiguous runs the C-order block `part` of a C-order buffer of shape `outer` is:
/// the trailing dimensions it spans whole, and the first one it does not, form one run.
fn contiguous_runs(part: &[u64], outer: &[u64]) -> u64 {
    let mut split = part.len().saturating_sub(1);
    while split > 0 && part[split] == outer[split] {
        split -= 1;
    }
    part[..split].iter().product()
}

/// Inner chunks of shape `sub` per dimension of a shard of shape `shard`.
pub(super) fn per_shard(shard: &[u64], sub: &[u64]) -> Vec<u64> {
    shard.iter().zip(sub).map(|(s, u)| s.div_ceil(*u)).collect()
}

/// The corner (array coordinates) of inner chunk `k` (C order over `per` inner chunks per
/// dimension) of the shard at `origin`, inner chunks of shape `sub`.
pub(super) fn unravel(k: u64, per: &[u64], origin: &[u64], sub: &[u64]) -> Vec<u64> {
    let mut rest = k;
    let mut corner = vec![0u64; per.len()];
    for d in (0..per.len()).rev() {
        corner[d] = origin[d] + (rest % per[d]) * sub[d];
        rest /= per[d];
    }
    corner
}

/// `shape` as zarrs' chunk shapes take it; an empty dimension is an error.
pub(super) fn nonzero(shape: &[u64]) -> Result<Vec<NonZeroU64>> {
    shape
        .iter()
        .map(|&n| NonZeroU64::new(n).ok_or_else(|| codec_err("an empty chunk shape")))
        .collect()
}

/// A C-order buffer of elements of `shape`, and the corner `at` of a block in it.
pub(super) struct Placed<'a> {
    pub(super) shape: &'a [u64],
    pub(super) at: &'a [u64],
}

/// Copy the block of shape `len` at `src.at` of the C-order buffer `src_bytes` (shape
/// `src.shape`) to `dst.at` of the C-order buffer `dst_bytes` (shape `dst.shape`), one `memcpy`
/// per contiguous run (trailing dimensions both buffers hold whole are merged into the run).
///
/// # Safety
/// No other thread may write the bytes of `dst_bytes` this block covers while it runs.
pub(super) unsafe fn copy_block(
    dst_bytes: &UnsafeCellSlice<u8>,
    dst: &Placed,
    src_bytes: &[u8],
    src: &Placed,
    len: &[u64],
    elem: usize,
) -> Result<()> {
    let n = len.len();
    let src_total = src.shape.iter().product::<u64>() as usize * elem;
    if src_bytes.len() != src_total {
        return Err(Error::new(
            ErrorCode::Codec,
            format!(
                "a decoded chunk has {} bytes, {src_total} expected",
                src_bytes.len()
            ),
        ));
    }
    if len.contains(&0) {
        return Ok(());
    }
    if n == 0 {
        // SAFETY: as below.
        unsafe { dst_bytes.index_mut(0..elem) }.copy_from_slice(&src_bytes[..elem]);
        return Ok(());
    }
    // The run: the last dimension, plus each dimension before it while the block spans the
    // ones after it whole in both buffers.
    let mut split = n - 1;
    while split > 0 && len[split] == dst.shape[split] && len[split] == src.shape[split] {
        split -= 1;
    }
    let run = len[split..].iter().product::<u64>() as usize * elem;
    let byte_strides = |shape: &[u64]| -> Vec<usize> {
        c_strides(shape)
            .iter()
            .map(|&s| s as usize * elem)
            .collect()
    };
    let (ds, ss) = (byte_strides(dst.shape), byte_strides(src.shape));
    let corner = |at: &[u64], strides: &[usize]| -> usize {
        at.iter().zip(strides).map(|(&a, &s)| a as usize * s).sum()
    };
    let (mut d_off, mut s_off) = (corner(dst.at, &ds), corner(src.at, &ss));
    let runs: u64 = len[..split].iter().product();
    let mut pos = vec![0u64; split];
    for _ in 0..runs {
        // SAFETY: the caller owns these bytes for the duration; `index_mut` checks bounds.
        unsafe { dst_bytes.index_mut(d_off..d_off + run) }
            .copy_from_slice(&src_bytes[s_off..s_off + run]);
        // Advance the odometer over the dimensions before the run.
        for d in (0..split).rev() {
            pos[d] += 1;
            d_off += ds[d];
            s_off += ss[d];
            if pos[d] < len[d] {
                break;
            }
            d_off -= ds[d] * len[d] as usize;
            s_off -= ss[d] * len[d] as usize;
            pos[d] = 0;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_runs_merge_whole_trailing_dimensions() {
        let chunk = [64u64, 64, 64];
        assert_eq!(contiguous_runs(&[64, 64, 64], &chunk), 1);
        assert_eq!(contiguous_runs(&[3, 64, 64], &chunk), 1);
        assert_eq!(contiguous_runs(&[3, 5, 64], &chunk), 3);
        assert_eq!(contiguous_runs(&[32, 32, 32], &chunk), 1024);
        assert_eq!(contiguous_runs(&[7], &[64]), 1);
        // 1,024 reads of 64 bytes: the whole 512 KiB chunk is cheaper; one plane of 64 rows is not.
        assert!(part_is_scattered(&[32, 32, 32], &chunk, 2));
        assert!(!part_is_scattered(&[1, 64, 32], &chunk, 2));
        assert!(!part_is_scattered(&[64, 64, 64], &chunk, 2));
    }

    /// `copy_block` of every block position and shape of a 4x5 (and a 3x4x2) grid, against
    /// an element-by-element copy.
    #[test]
    fn copy_block_places_every_block() {
        for dst_shape in [vec![4u64, 5], vec![3, 4, 2]] {
            let n = dst_shape.len();
            let total: u64 = dst_shape.iter().product();
            let strides = c_strides(&dst_shape);
            // Every block [at, at + len) inside the grid.
            let mut blocks: Vec<(Vec<u64>, Vec<u64>)> = vec![(vec![], vec![])];
            for &side in &dst_shape {
                let mut next = Vec::new();
                for (a, l) in &blocks {
                    for s in 0..side {
                        for w in 1..=side - s {
                            let (mut a, mut l) = (a.clone(), l.clone());
                            a.push(s);
                            l.push(w);
                            next.push((a, l));
                        }
                    }
                }
                blocks = next;
            }
            for (at, len) in blocks {
                let count: u64 = len.iter().product();
                let src: Vec<u8> = (0..count * 2).map(|i| (i % 251) as u8 + 1).collect();
                let mut dst = vec![0u8; total as usize * 2];
                let cell = UnsafeCellSlice::new(dst.as_mut_slice());
                // SAFETY: one block, one thread.
                let zeros = vec![0; n];
                let (to, from) = (
                    Placed {
                        shape: &dst_shape,
                        at: &at,
                    },
                    Placed {
                        shape: &len,
                        at: &zeros,
                    },
                );
                unsafe { copy_block(&cell, &to, &src, &from, &len, 2) }.expect("copy");
                let mut want = vec![0u8; total as usize * 2];
                for i in 0..count {
                    let (mut r, mut o) = (i, 0u64);
                    for d in (0..n).rev() {
                        o += (at[d] + r % len[d]) * strides[d];
                        r /= len[d];
                    }
                    let (o, i) = (o as usize * 2, i as usize * 2);
                    want[o..o + 2].copy_from_slice(&src[i..i + 2]);
                }
                assert_eq!(dst, want, "{dst_shape:?} at {at:?} len {len:?}");
            }
        }
    }
}
