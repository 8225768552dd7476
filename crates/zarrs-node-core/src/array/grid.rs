//! How selections meet the chunk grid: a step-1 region cut into slabs along dimension 0, an
//! orthogonal selection split into grid cells ([`GridPlan`]), and the parallel fill of an
//! output from decoded units ([`fill_from_units`]).

use std::collections::BTreeMap;

use rayon::prelude::*;
use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::{ArrayBytes, ArrayBytesFixedDisjointView, ArraySubset};

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
    /// Read the step-1 region `start + shape` of fixed-size elements of an unsharded array into
    /// `out` (its C-order bytes). A region over several chunks decodes each chunk on its own, in
    /// parallel, and copies its rows into place: zarrs' own `retrieve_*_into` places a chunk
    /// into a larger output through an index iterator that costs ~120 ns per contiguous run,
    /// and for 64^3 chunks of a 512^3 array (runs of 64 elements) half the CPU time of a full
    /// read went there (uncompressed: 265 -> 104 ms). A region inside one chunk is one run of
    /// that iterator, so zarrs decodes it straight into `out`, with no rayon (for
    /// [`runtime::run_here`]). Sharded arrays stay with zarrs: decoding inner chunks one by one
    /// allocates three buffers each, which cost more than the iterator.
    pub(super) fn read_chunks_into(
        inner: &super::Inner,
        start: &[u64],
        shape: &[u64],
        out: &mut [u8],
        elem: usize,
        opts: &zarrs::array::CodecOptions,
    ) -> Result<()> {
        let array = &inner.array;
        let unit = Self::unit_shape(array)?;
        let units = crate::remote_read::subchunks_of_region(start, shape, &unit);
        if units.len() <= 1 || inner.shard_cache.array_is_sharded() {
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
            let subset = ArraySubset::new_with_start_shape(start.to_vec(), shape.to_vec())
                .map_err(|e| Error::invalid_selection(e.to_string()))?;
            array.retrieve_array_subset_into_opt(&subset, (&mut view).into(), opts)?;
            return Ok(());
        }
        // Many chunks: one thread each; fewer chunks than threads: the codecs share them.
        let mut unit_opts = *opts;
        if units.len() >= opts.concurrent_target() {
            unit_opts.set_concurrent_target(1);
        }
        let whole_chunks = crate::remote_read::reads_whole_chunks(array);
        let region = ArraySubset::new_with_start_shape(start.to_vec(), shape.to_vec())
            .map_err(|e| Error::invalid_selection(e.to_string()))?;
        let target = UnsafeCellSlice::new(out);
        units.par_iter().try_for_each(|idx| {
            // The chunk's full extent (edge chunks decode to their full shape too) and the part
            // of it the region takes.
            let chunk = array.chunk_subset(idx)?;
            let part = chunk.overlap(&region).map_err(codec_err)?;
            let (lo, len) = (part.start(), part.shape());
            let at: Vec<u64> = lo.iter().zip(start).map(|(l, s)| l - s).collect();
            let dst = Placed { shape, at: &at };
            // A chain that decodes a chunk whole for any part of it: take the whole chunk and
            // copy the part out here (zarrs would copy it out with the same slow iterator).
            // Otherwise (uncompressed) zarrs reads only the part's bytes.
            let (decoded, src_shape, in_src): (ArrayBytes, &[u64], Vec<u64>) = if whole_chunks {
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
        })
    }
}

/// A C-order buffer of elements of `shape`, and the corner `at` of a block in it.
struct Placed<'a> {
    shape: &'a [u64],
    at: &'a [u64],
}

/// Copy the block of shape `len` at `src.at` of the C-order buffer `src_bytes` (shape
/// `src.shape`) to `dst.at` of the C-order buffer `dst_bytes` (shape `dst.shape`), one `memcpy`
/// per contiguous run (trailing dimensions both buffers hold whole are merged into the run).
///
/// # Safety
/// No other thread may write the bytes of `dst_bytes` this block covers while it runs.
unsafe fn copy_block(
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
