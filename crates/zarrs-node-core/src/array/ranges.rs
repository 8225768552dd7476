//! Batched range reads of a 1-D array: many `[src, src + len)` pieces in one call. Every inner
//! chunk that any piece touches is decoded once, in parallel, and the pieces are copied straight
//! into the output. On object stores everything is fetched first in one concurrent batch: the
//! inner chunks of a sharded array (adjacent ones in one request, see [`crate::remote_read`]),
//! the whole chunks of an unsharded one. The sparse take reads through it.

use std::collections::BTreeMap;

use rayon::prelude::*;
use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::{ArrayShardedExt, ArraySubset};

use super::{codec_err, Inner, ZArray};
use crate::dtype::TypedVec;
use crate::error::{Error, ErrorCode, Result};
use crate::remote_read;
use crate::runtime::{self, CancelToken};
use crate::store::PrefetchGuard;

/// `len` elements of the array from index `src`, copied to output element `dst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// First array index.
    pub src: u64,
    /// Number of elements.
    pub len: u64,
    /// First output element.
    pub dst: u64,
}

/// The parts of pieces that fall into one inner chunk: `(start within the array, len, dst)`.
type Cuts = Vec<(u64, u64, u64)>;

impl ZArray {
    /// Read `pieces` of this 1-D array into a new buffer of `out_len` elements. Pieces may
    /// read the same elements more than once; their destinations must be in increasing order,
    /// must not overlap and must lie inside the output (elements no piece covers stay zero).
    ///
    /// # Errors
    /// [`ErrorCode::InvalidInput`] for an array that is not 1-D with fixed-size elements,
    /// [`ErrorCode::OutOfBounds`] for a piece past the end of the array, codec and storage
    /// errors, [`ErrorCode::Aborted`] when cancelled.
    pub fn read_pieces(
        &self,
        pieces: &[Piece],
        out_len: u64,
        cancel: &CancelToken,
    ) -> Result<TypedVec> {
        cancel.check()?;
        let fixed = self.numpy.is_none() && !self.dtype.is_variable();
        self.with(|inner| {
            let len = match inner.array.shape() {
                [n] if fixed => *n,
                _ => {
                    return Err(Error::invalid_input(format!(
                        "'{}' must be a 1-D array of numbers for a range read (it is {:?} {})",
                        self.path,
                        inner.array.shape(),
                        self.dtype_name()
                    )))
                }
            };
            check_pieces(pieces, len, out_len)?;
            let n = self.check_alloc(out_len)?;
            runtime::run(|| self.fill_pieces(inner, pieces, n, cancel))
        })
        .map_err(|e| e.naming(&self.path))
    }

    fn fill_pieces(
        &self,
        inner: &Inner,
        pieces: &[Piece],
        n: usize,
        cancel: &CancelToken,
    ) -> Result<TypedVec> {
        let mut out = self.alloc(n)?;
        let unit = inner.unit_shape()?[0];
        let units = split_by_unit(pieces, unit);
        if units.is_empty() {
            return Ok(out);
        }
        let _prefetched = if self.store.is_remote() {
            let touched: Vec<Vec<u64>> = units.keys().map(|&c| vec![c]).collect();
            if inner.array.is_sharded() {
                inner.prefetch(&self.store, &touched)?
            } else {
                // Unsharded: every touched chunk in one concurrent batch, not one GET per
                // decode (the pool has only a few threads to wait on requests).
                remote_read::prefetch_objects(&self.store, &inner.array, &touched)?
            }
        } else {
            PrefetchGuard::none()
        };
        let elem = self.elem_size();
        let bytes = out
            .bytes_mut()
            .ok_or_else(|| Error::new(ErrorCode::Internal, "fixed buffer expected"))?;
        let target = UnsafeCellSlice::new(bytes);
        let opts = Self::options();
        let units: Vec<(&u64, &Cuts)> = units.iter().collect();
        units.par_iter().try_for_each(|(_, cuts)| {
            cancel.check()?;
            // One decode covering every cut of this inner chunk.
            let lo = cuts.iter().map(|c| c.0).min().unwrap_or(0);
            let hi = cuts.iter().map(|c| c.0 + c.1).max().unwrap_or(lo);
            let bbox = ArraySubset::new_with_start_shape(vec![lo], vec![hi - lo])
                .map_err(|e| Error::invalid_selection(e.to_string()))?;
            let decoded = self.read_bbox(inner, &bbox, &opts)?;
            let decoded = decoded.into_fixed().map_err(codec_err)?;
            for &(start, len, dst) in cuts.iter() {
                let s = (start - lo) as usize * elem;
                let d = dst as usize * elem;
                let l = len as usize * elem;
                // SAFETY: `check_pieces` proved the destinations disjoint and inside the
                // output; splitting a piece at chunk boundaries keeps its parts disjoint.
                let dst = unsafe { target.index_mut(d..d + l) };
                dst.copy_from_slice(&decoded[s..s + l]);
            }
            Ok::<_, Error>(())
        })?;
        Ok(out)
    }
}

/// Pieces lie inside an array of `len` elements and have increasing, disjoint destinations
/// inside `out_len` (what makes the parallel copies in `fill_pieces` sound).
fn check_pieces(pieces: &[Piece], len: u64, out_len: u64) -> Result<()> {
    let mut next = 0u64;
    for p in pieces {
        let end = p.src.checked_add(p.len);
        if end.is_none_or(|e| e > len) {
            return Err(Error::new(
                ErrorCode::OutOfBounds,
                format!(
                    "range [{}, {}) is out of bounds for length {len}",
                    p.src,
                    p.src.saturating_add(p.len)
                ),
            ));
        }
        let dst_end = p.dst.checked_add(p.len);
        if p.dst < next || dst_end.is_none_or(|e| e > out_len) {
            return Err(Error::new(
                ErrorCode::Internal,
                format!("range read destinations overlap or exceed {out_len} elements"),
            ));
        }
        next = dst_end.unwrap_or(u64::MAX);
    }
    Ok(())
}

/// Group the pieces by the inner chunk (of `unit` elements) they touch, cutting pieces that
/// cross a chunk boundary.
fn split_by_unit(pieces: &[Piece], unit: u64) -> BTreeMap<u64, Cuts> {
    let mut units: BTreeMap<u64, Cuts> = BTreeMap::new();
    for p in pieces {
        let (mut src, mut dst, end) = (p.src, p.dst, p.src + p.len);
        while src < end {
            let chunk = src / unit;
            let cut_end = end.min((chunk + 1) * unit);
            units
                .entry(chunk)
                .or_default()
                .push((src, cut_end - src, dst));
            dst += cut_end - src;
            src = cut_end;
        }
    }
    units
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_cut_at_chunk_boundaries() {
        let p = |src, len, dst| Piece { src, len, dst };
        let units = split_by_unit(&[p(8, 5, 0), p(0, 2, 5), p(3, 0, 7)], 4);
        assert_eq!(units[&0], vec![(0, 2, 5)]);
        assert_eq!(units[&2], vec![(8, 4, 0)]);
        assert_eq!(units[&3], vec![(12, 1, 4)]);
        assert_eq!(units.len(), 3);
    }

    #[test]
    fn pieces_are_checked() {
        let p = |src, len, dst| Piece { src, len, dst };
        assert!(check_pieces(&[p(0, 2, 0), p(0, 2, 2)], 2, 4).is_ok());
        assert_eq!(
            check_pieces(&[p(1, 2, 0)], 2, 4).unwrap_err().code,
            ErrorCode::OutOfBounds
        );
        assert_eq!(
            check_pieces(&[p(0, 2, 1), p(0, 1, 2)], 2, 4)
                .unwrap_err()
                .code,
            ErrorCode::Internal
        );
        assert!(check_pieces(&[p(0, 2, 3)], 2, 4).is_err());
    }
}
