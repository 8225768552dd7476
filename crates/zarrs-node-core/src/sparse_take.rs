//! The sparse take: rows of a CSR matrix (columns of a CSC) gathered in one call. From the
//! caller's `indptr` it finds the stored range of every asked major position, reads those
//! ranges of `data` and `indices` with one batched range read each (only the inner chunks that
//! cover them are decoded), then filters the minor axis (a range or a list) without densifying.

use rayon::prelude::*;

use crate::array::{Piece, ZArray};
use crate::dtype::{DType, TypedVec};
use crate::error::{Error, ErrorCode, Result};
use crate::runtime::{self, CancelToken};
use crate::sparse::Indices;

/// The stored parts of a compressed matrix: the two arrays and the `indptr` values (read once
/// by the caller and reused across takes).
#[derive(Clone, Copy)]
pub struct Compressed<'a> {
    /// Stored values (1-D, any numeric dtype).
    pub data: &'a ZArray,
    /// Minor-axis index of every stored value (1-D, any integer dtype).
    pub indices: &'a ZArray,
    /// `major + 1` offsets into `data` / `indices`.
    pub indptr: Indices<'a>,
}

/// Which minor-axis positions (CSR columns, CSC rows) a take keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MinorSelection {
    /// Every position; indices come back as stored.
    All,
    /// `start..stop`; indices come back shifted by `start`.
    Range {
        /// First kept position.
        start: i64,
        /// One past the last kept position.
        stop: i64,
    },
    /// Positions in the asked order, duplicates allowed, negatives counted from the end;
    /// indices come back as output positions, ascending within each major position.
    List(Vec<i64>),
}

/// The assembled matrix: `data` keeps the stored dtype; `indices` keep the stored index dtype
/// when every output index fits it, else int64; `indptr` is int32 when `indices` are int32 and
/// the stored count fits, else int64 (scipy's rule: one index dtype for both).
#[derive(Debug, Clone, PartialEq)]
pub struct SparseTake {
    /// Stored values, major positions in the asked order.
    pub data: TypedVec,
    /// Minor index of every value.
    pub indices: TypedVec,
    /// `major.len() + 1` offsets.
    pub indptr: TypedVec,
}

/// Take the major positions `major` (in that order, duplicates allowed, negatives counted from
/// the end) and the minor positions `minor` of a minor axis of length `minor_len`. The length is
/// required with a range or a list; with it, every stored index the take returns or filters is
/// checked to lie on the minor axis.
///
/// # Errors
/// [`ErrorCode::OutOfBounds`] for positions outside either axis, [`ErrorCode::InvalidSelection`]
/// for a reversed range, [`ErrorCode::InvalidMetadata`] for arrays of the wrong kind or length,
/// an `indptr` that decreases or points past the stored values, or stored indices outside the
/// minor axis; [`ErrorCode::InvalidInput`] for a range or list without `minor_len`; codec, storage and
/// [`ErrorCode::Aborted`] errors of the reads. Messages name the matrix (the parent of `data`).
pub fn take_sparse(
    m: &Compressed<'_>,
    major: &[i64],
    minor: &MinorSelection,
    minor_len: Option<u64>,
    cancel: &CancelToken,
) -> Result<SparseTake> {
    let elem = element_path(m.data);
    let nnz = check_arrays(m, elem)?;
    let n_major = m.indptr.len().checked_sub(1).ok_or_else(|| {
        Error::invalid_metadata(format!("'{elem}/indptr' is empty")).with_key(elem)
    })?;
    let minor = match (minor, minor_len) {
        (MinorSelection::All, None) => Minor::All,
        (_, Some(len)) => resolve_minor(minor, len, elem)?,
        (_, None) => {
            return Err(Error::invalid_input(format!(
                "'{elem}': a minor range or list needs the length of the minor axis"
            ))
            .with_key(elem))
        }
    };
    // only the filters read it, and `resolve_minor` ran for them: the length is known there
    let minor_len = minor_len.unwrap_or(u64::MAX);
    let (pieces, ptr) = plan(m.indptr, major, n_major as u64, nnz, elem)?;
    let total = ptr.last().copied().unwrap_or(0);
    let (data, indices) = runtime::run(|| {
        let (d, i) = rayon::join(
            || m.data.read_pieces(&pieces, total, cancel),
            || m.indices.read_pieces(&pieces, total, cancel),
        );
        Ok((d?, i?))
    })?;
    let (data, indices, ptr) = match minor {
        Minor::All => {
            if minor_len != u64::MAX {
                check_indices(&indices, minor_len, elem)?;
            }
            (data, indices, ptr)
        }
        Minor::Range { start, stop } => {
            let filter = RangeFilter { start, stop };
            filtered(
                m,
                data,
                &indices,
                &ptr,
                &filter,
                stop - start,
                minor_len,
                elem,
            )?
        }
        Minor::List(list) => {
            let filter = ListMap::new(&list, minor_len, total as usize + list.len())?;
            filtered(
                m,
                data,
                &indices,
                &ptr,
                &filter,
                list.len() as u64,
                minor_len,
                elem,
            )?
        }
    };
    let indptr = indptr_like(&indices, ptr);
    Ok(SparseTake {
        data,
        indices,
        indptr,
    })
}

/// The matrix a `data` array belongs to (its parent path), for messages.
fn element_path(data: &ZArray) -> &str {
    data.path()
        .rsplit_once('/')
        .map_or("", |(parent, _)| parent)
}

/// Both arrays 1-D of the same length, numeric data, integer indices; returns that length.
fn check_arrays(m: &Compressed<'_>, elem: &str) -> Result<u64> {
    let one_d = |a: &ZArray| -> Result<u64> {
        match a.shape()?.as_slice() {
            [n] => Ok(*n),
            s => Err(Error::invalid_metadata(format!(
                "'{}' must be 1-D, it has shape {s:?}",
                a.path()
            ))
            .with_key(a.path())),
        }
    };
    let (nd, ni) = (one_d(m.data)?, one_d(m.indices)?);
    if m.data.numpy_dtype().is_some() || m.data.dtype().is_variable() {
        return Err(Error::invalid_metadata(format!(
            "'{}' must hold numbers, not {}",
            m.data.path(),
            m.data.dtype_name()
        ))
        .with_key(m.data.path()));
    }
    if m.indices.numpy_dtype().is_some() || !is_integer(m.indices.dtype()) {
        return Err(Error::invalid_metadata(format!(
            "'{}' must hold integers, not {}",
            m.indices.path(),
            m.indices.dtype_name()
        ))
        .with_key(m.indices.path()));
    }
    if nd != ni {
        return Err(Error::invalid_metadata(format!(
            "'{elem}': data has {nd} values but indices has {ni}"
        ))
        .with_key(elem));
    }
    Ok(nd)
}

fn is_integer(d: DType) -> bool {
    use DType as D;
    matches!(
        d,
        D::Int8 | D::Int16 | D::Int32 | D::Int64 | D::UInt8 | D::UInt16 | D::UInt32 | D::UInt64
    )
}

/// A position along an axis of length `len`, negatives counted from the end.
fn position(p: i64, len: u64, what: &str, elem: &str) -> Result<u64> {
    let j = if p < 0 {
        i128::from(p) + i128::from(len)
    } else {
        i128::from(p)
    };
    if j < 0 || j >= i128::from(len) {
        return Err(Error::new(
            ErrorCode::OutOfBounds,
            format!("'{elem}': {what} index {p} is out of bounds for length {len}"),
        )
        .with_key(elem));
    }
    Ok(j as u64)
}

/// A minor selection checked against the axis length.
enum Minor {
    All,
    Range { start: u64, stop: u64 },
    List(Vec<u64>),
}

fn resolve_minor(minor: &MinorSelection, len: u64, elem: &str) -> Result<Minor> {
    Ok(match minor {
        MinorSelection::All => Minor::All,
        &MinorSelection::Range { start, stop } => {
            let bound = |v: i64, what: &str| -> Result<u64> {
                u64::try_from(v).ok().filter(|&v| v <= len).ok_or_else(|| {
                    Error::new(
                        ErrorCode::OutOfBounds,
                        format!("'{elem}': minor range {what} {v} is outside [0, {len}]"),
                    )
                    .with_key(elem)
                })
            };
            let (start, stop) = (bound(start, "start")?, bound(stop, "stop")?);
            if stop < start {
                return Err(Error::invalid_selection(format!(
                    "'{elem}': minor range {start}..{stop} is reversed"
                ))
                .with_key(elem));
            }
            Minor::Range { start, stop }
        }
        MinorSelection::List(list) => Minor::List(
            list.iter()
                .map(|&p| position(p, len, "minor", elem))
                .collect::<Result<_>>()?,
        ),
    })
}

/// The stored range of every asked major position, as pieces of the range read, and the
/// offsets (`indptr`) of the unfiltered result.
fn plan(
    indptr: Indices<'_>,
    major: &[i64],
    n_major: u64,
    nnz: u64,
    elem: &str,
) -> Result<(Vec<Piece>, Vec<u64>)> {
    let mut pieces = Vec::with_capacity(major.len());
    let mut ptr = Vec::with_capacity(major.len() + 1);
    ptr.push(0u64);
    let mut total = 0u64;
    for &p in major {
        let r = position(p, n_major, "major", elem)? as usize;
        let (lo, hi) = (indptr.get(r), indptr.get(r + 1));
        if lo < 0 || hi < lo || hi as u64 > nnz {
            return Err(Error::invalid_metadata(format!(
                "'{elem}/indptr' is corrupt at {r}: [{lo}, {hi}) is not a range of the {nnz} stored values"
            ))
            .with_key(elem));
        }
        let len = (hi - lo) as u64;
        if len > 0 {
            pieces.push(Piece {
                src: lo as u64,
                len,
                dst: total,
            });
        }
        total = total.checked_add(len).ok_or_else(|| {
            Error::invalid_input(format!("'{elem}': the take holds more than 2^64 values"))
                .with_key(elem)
        })?;
        ptr.push(total);
    }
    Ok((pieces, ptr))
}

/// A stored minor index, of any integer dtype, read as `i64` where the filter looks at it: the
/// filter runs on the stored values as they are, with no widened copy of all of them (a 10k-row
/// take holds ~10M).
trait StoredIndex: Copy + Sync {
    fn value(self) -> i64;
}

macro_rules! stored_index {
    ($($t:ty),*) => {
        $(impl StoredIndex for $t {
            #[inline]
            fn value(self) -> i64 {
                i64::from(self)
            }
        })*
    };
}
stored_index!(i8, i16, i32, i64, u8, u16, u32);

impl StoredIndex for u64 {
    #[inline]
    fn value(self) -> i64 {
        // past i64::MAX is past any minor axis: the range check refuses it
        i64::try_from(self).unwrap_or(i64::MAX)
    }
}

fn bad_index(elem: &str, c: i64, len: u64) -> Error {
    Error::invalid_metadata(format!(
        "'{elem}/indices' holds {c}, outside the minor axis [0, {len})"
    ))
    .with_key(elem)
}

/// `$body` with `$x` bound to the values of `$v` as a typed slice when it holds integers (of
/// any width), else `$other`.
macro_rules! on_integers {
    ($v:expr, $x:ident => $body:expr, _ => $other:expr) => {
        match $v {
            TypedVec::Int8($x) => $body,
            TypedVec::Int16($x) => $body,
            TypedVec::Int32($x) => $body,
            TypedVec::Int64($x) => $body,
            TypedVec::UInt8($x) => $body,
            TypedVec::UInt16($x) => $body,
            TypedVec::UInt32($x) => $body,
            TypedVec::UInt64($x) => $body,
            _ => $other,
        }
    };
}

/// The first stored index outside the minor axis `[0, len)`.
fn first_outside<T: StoredIndex>(x: &[T], len: u64) -> Result<Option<i64>> {
    runtime::run(|| {
        Ok(x.par_iter()
            .map(|&c| c.value())
            .find_first(|&c| c < 0 || c as u64 >= len))
    })
}

/// Every stored index lies on the minor axis `[0, len)`.
fn check_indices(v: &TypedVec, len: u64, elem: &str) -> Result<()> {
    let bad = on_integers!(v, x => first_outside(x, len)?, _ => None);
    bad.map_or(Ok(()), |c| Err(bad_index(elem, c, len)))
}

/// A minor-axis filter, applied one major position (row) at a time.
trait RowFilter: Sync {
    /// How many values `row` (its stored minor indices, all valid) keeps.
    fn count<T: StoredIndex>(&self, row: &[T]) -> usize;
    /// Fill `out` (exactly `count` long) with `(output index, position in row)` pairs, in the
    /// order the result keeps them.
    fn fill<T: StoredIndex>(&self, row: &[T], out: &mut [(i64, u32)]);
}

/// `start..stop`: kept in stored order, shifted by `start`.
struct RangeFilter {
    start: u64,
    stop: u64,
}

impl RowFilter for RangeFilter {
    fn count<T: StoredIndex>(&self, row: &[T]) -> usize {
        let (lo, hi) = (self.start as i64, self.stop as i64);
        row.iter()
            .filter(|&&c| (lo..hi).contains(&c.value()))
            .count()
    }

    fn fill<T: StoredIndex>(&self, row: &[T], out: &mut [(i64, u32)]) {
        let (lo, hi) = (self.start as i64, self.stop as i64);
        let kept = row
            .iter()
            .map(|&c| c.value())
            .enumerate()
            .filter(|&(_, c)| c >= lo && c < hi)
            .map(|(k, c)| (c - lo, k as u32));
        for (slot, pair) in out.iter_mut().zip(kept) {
            *slot = pair;
        }
    }
}

/// For each minor position, the list positions that ask for it (ascending): dense over the
/// axis when that is small next to the work, else a sorted table searched per value.
enum ListMap {
    Dense {
        first: Vec<u32>,
        order: Vec<u32>,
    },
    Sorted {
        keys: Vec<u64>,
        first: Vec<u32>,
        order: Vec<u32>,
    },
}

impl ListMap {
    fn new(list: &[u64], len: u64, work: usize) -> Result<Self> {
        if u32::try_from(list.len()).is_err() {
            return Err(Error::invalid_selection(
                "a minor list longer than 2^32-1 positions",
            ));
        }
        // list positions sorted by the minor position they ask for (stable: ascending)
        let mut order: Vec<u32> = (0..list.len() as u32).collect();
        order.sort_by_key(|&i| list[i as usize]);
        if len <= (work as u64).saturating_mul(4).saturating_add(1 << 16) {
            let mut first = vec![0u32; len as usize + 1];
            for &c in list {
                first[c as usize + 1] += 1;
            }
            for i in 1..first.len() {
                first[i] += first[i - 1];
            }
            return Ok(Self::Dense { first, order });
        }
        let mut keys = Vec::new();
        let mut first = Vec::new();
        for (at, &i) in order.iter().enumerate() {
            let c = list[i as usize];
            if keys.last() != Some(&c) {
                keys.push(c);
                first.push(at as u32);
            }
        }
        first.push(order.len() as u32);
        Ok(Self::Sorted { keys, first, order })
    }

    /// The list positions asking for minor position `c`.
    fn positions(&self, c: u64) -> &[u32] {
        match self {
            Self::Dense { first, order } => {
                &order[first[c as usize] as usize..first[c as usize + 1] as usize]
            }
            Self::Sorted { keys, first, order } => match keys.binary_search(&c) {
                Ok(k) => &order[first[k] as usize..first[k + 1] as usize],
                Err(_) => &[],
            },
        }
    }
}

/// A list: every asked copy of a stored position, ascending by list position.
impl RowFilter for ListMap {
    fn count<T: StoredIndex>(&self, row: &[T]) -> usize {
        row.iter()
            .map(|&c| self.positions(c.value() as u64).len())
            .sum()
    }

    fn fill<T: StoredIndex>(&self, row: &[T], out: &mut [(i64, u32)]) {
        let pairs = row.iter().enumerate().flat_map(|(k, &c)| {
            self.positions(c.value() as u64)
                .iter()
                .map(move |&p| (i64::from(p), k as u32))
        });
        for (slot, pair) in out.iter_mut().zip(pairs) {
            *slot = pair;
        }
        // already sorted when the list and the stored indices are
        out.sort_unstable();
    }
}

/// Apply `filter` to the unfiltered take (`data`, `indices`, offsets `ptr`) in two parallel
/// passes over the rows: count (checking the stored indices against the minor axis), then fill
/// each row's slice of the output. `bound` is the length of the filtered minor axis.
#[allow(clippy::too_many_arguments)]
fn filtered(
    m: &Compressed<'_>,
    data: TypedVec,
    indices: &TypedVec,
    ptr: &[u64],
    filter: &impl RowFilter,
    bound: u64,
    minor_len: u64,
    elem: &str,
) -> Result<(TypedVec, TypedVec, Vec<u64>)> {
    let path = m.indices.path();
    on_integers!(
        indices,
        x => filtered_stored(m, data, x, ptr, filter, bound, minor_len, elem),
        _ => Err(Error::invalid_metadata(format!("'{path}' must hold integers")).with_key(path))
    )
}

/// [`filtered`] on the stored indices in their own dtype.
#[allow(clippy::too_many_arguments)]
fn filtered_stored<T: StoredIndex>(
    m: &Compressed<'_>,
    data: TypedVec,
    stored: &[T],
    ptr: &[u64],
    filter: &impl RowFilter,
    bound: u64,
    minor_len: u64,
    elem: &str,
) -> Result<(TypedVec, TypedVec, Vec<u64>)> {
    runtime::run(|| {
        let row = |w: &[u64]| &stored[w[0] as usize..w[1] as usize];
        let counts: Vec<usize> = ptr
            .par_windows(2)
            .map(|w| {
                let r = row(w);
                if let Some(c) = r
                    .iter()
                    .map(|&c| c.value())
                    .find(|&c| c < 0 || c as u64 >= minor_len)
                {
                    return Err(bad_index(elem, c, minor_len));
                }
                Ok(filter.count(r))
            })
            .collect::<Result<_>>()?;
        let total: usize = counts.iter().sum();
        check_alloc(total, m, elem)?;
        let mut pairs = vec![(0i64, 0u32); total];
        let mut slices = Vec::with_capacity(counts.len());
        let mut rest = pairs.as_mut_slice();
        for &n in &counts {
            let (head, tail) = rest.split_at_mut(n);
            slices.push(head);
            rest = tail;
        }
        slices
            .into_par_iter()
            .zip(ptr.par_windows(2))
            .for_each(|(out, w)| filter.fill(row(w), out));
        // positions of the kept values in the unfiltered result
        let mut new_ptr = Vec::with_capacity(ptr.len());
        new_ptr.push(0u64);
        let mut keep = Vec::with_capacity(total);
        let mut at = 0usize;
        for (w, &n) in ptr.windows(2).zip(&counts) {
            keep.extend(
                pairs[at..at + n]
                    .iter()
                    .map(|&(_, k)| w[0] as usize + k as usize),
            );
            at += n;
            new_ptr.push(at as u64);
        }
        let out: Vec<i64> = pairs.into_par_iter().map(|(i, _)| i).collect();
        Ok((
            gather(&data, &keep)?,
            narrow(out, m.indices.dtype(), bound),
            new_ptr,
        ))
    })
}

/// A filtered result of `n` values must fit the allocation limit (like every read).
fn check_alloc(n: usize, m: &Compressed<'_>, elem: &str) -> Result<()> {
    let per = m.data.dtype().size().unwrap_or(8) + 8 + 16;
    if (n as u64).saturating_mul(per as u64) > crate::max_alloc_bytes() {
        return Err(Error::invalid_input(format!(
            "'{elem}': a take of {n} values exceeds the allocation limit of {} bytes",
            crate::max_alloc_bytes()
        ))
        .with_key(elem));
    }
    Ok(())
}

/// The elements of `v` at `keep`, in that order.
fn gather(v: &TypedVec, keep: &[usize]) -> Result<TypedVec> {
    macro_rules! pick {
        ($variant:ident, $x:expr) => {
            TypedVec::$variant(keep.par_iter().map(|&k| $x[k]).collect())
        };
    }
    Ok(match v {
        TypedVec::Bool(x) => pick!(Bool, x),
        TypedVec::Int8(x) => pick!(Int8, x),
        TypedVec::Int16(x) => pick!(Int16, x),
        TypedVec::Int32(x) => pick!(Int32, x),
        TypedVec::Int64(x) => pick!(Int64, x),
        TypedVec::UInt8(x) => pick!(UInt8, x),
        TypedVec::UInt16(x) => pick!(UInt16, x),
        TypedVec::UInt32(x) => pick!(UInt32, x),
        TypedVec::UInt64(x) => pick!(UInt64, x),
        TypedVec::Float16(x) => pick!(Float16, x),
        TypedVec::Float32(x) => pick!(Float32, x),
        TypedVec::Float64(x) => pick!(Float64, x),
        TypedVec::String(_) | TypedVec::Bytes(_) => {
            return Err(Error::new(
                ErrorCode::Internal,
                "sparse data must be numeric",
            ))
        }
    })
}

/// Output indices (all in `0..bound`) in the stored index dtype when `bound - 1` fits it,
/// else int64.
fn narrow(values: Vec<i64>, dtype: DType, bound: u64) -> TypedVec {
    macro_rules! as_ty {
        ($variant:ident, $t:ty) => {
            if bound == 0 || <$t>::try_from(bound - 1).is_ok() {
                // every value is below `bound`, so it fits as well
                return TypedVec::$variant(
                    values
                        .iter()
                        .map(|&v| <$t>::try_from(v).unwrap_or_default())
                        .collect(),
                );
            }
        };
    }
    match dtype {
        DType::Int8 => as_ty!(Int8, i8),
        DType::Int16 => as_ty!(Int16, i16),
        DType::Int32 => as_ty!(Int32, i32),
        DType::UInt8 => as_ty!(UInt8, u8),
        DType::UInt16 => as_ty!(UInt16, u16),
        DType::UInt32 => as_ty!(UInt32, u32),
        DType::UInt64 => as_ty!(UInt64, u64),
        _ => {}
    }
    TypedVec::Int64(values)
}

/// Offsets as int32 when the indices are int32 and the count fits, else int64.
fn indptr_like(indices: &TypedVec, ptr: Vec<u64>) -> TypedVec {
    let total = ptr.last().copied().unwrap_or(0);
    if matches!(indices, TypedVec::Int32(_)) && i32::try_from(total).is_ok() {
        return TypedVec::Int32(ptr.into_iter().map(|v| v as i32).collect());
    }
    TypedVec::Int64(ptr.into_iter().map(|v| v as i64).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn list_maps_agree_dense_and_sorted() {
        let list = [5u64, 2, 5, 9, 0];
        let dense = ListMap::new(&list, 10, 100).unwrap();
        let sorted = ListMap::new(&list, 1 << 40, 0).unwrap();
        assert!(matches!(dense, ListMap::Dense { .. }));
        assert!(matches!(sorted, ListMap::Sorted { .. }));
        for c in 0..10 {
            assert_eq!(dense.positions(c), sorted.positions(c), "{c}");
        }
        assert_eq!(dense.positions(5), &[0, 2]);
        assert!(sorted.positions(7).is_empty());
        // a row asking 5 twice and 9: sorted by list position
        let row = [9i64, 5];
        let mut out = vec![(0, 0); dense.count(&row)];
        dense.fill(&row, &mut out);
        assert_eq!(out, vec![(0, 1), (2, 1), (3, 0)]);
    }

    #[test]
    fn output_index_dtypes() {
        assert_eq!(
            narrow(vec![1, 0], DType::Int32, 2),
            TypedVec::Int32(vec![1, 0])
        );
        assert_eq!(
            narrow(vec![200], DType::Int8, 300),
            TypedVec::Int64(vec![200])
        );
        assert_eq!(
            narrow(vec![200], DType::UInt8, 256),
            TypedVec::UInt8(vec![200])
        );
        assert_eq!(narrow(vec![], DType::Int16, 0), TypedVec::Int16(vec![]));
        let i32s = TypedVec::Int32(vec![]);
        assert_eq!(indptr_like(&i32s, vec![0, 3]), TypedVec::Int32(vec![0, 3]));
        let big = 1u64 << 33;
        assert_eq!(
            indptr_like(&i32s, vec![0, big]),
            TypedVec::Int64(vec![0, big as i64])
        );
        assert_eq!(
            indptr_like(&TypedVec::UInt32(vec![]), vec![0]),
            TypedVec::Int64(vec![0])
        );
    }
}
