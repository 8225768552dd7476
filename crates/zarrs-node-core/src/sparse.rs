//! Structural checks of compressed sparse matrices (CSR/CSC), run once in Rust over the raw
//! `indptr` / `indices` buffers instead of an element loop in TypeScript: `indptr` starts at 0,
//! never decreases and ends at the number of stored values; every index lies in `[0, minor)`.

use rayon::prelude::*;

use crate::error::{Error, Result};

/// An index buffer as stored: int32 or int64 values.
#[derive(Clone, Copy)]
pub enum Indices<'a> {
    /// int32 values.
    I32(&'a [i32]),
    /// int64 values.
    I64(&'a [i64]),
}

impl Indices<'_> {
    /// Number of values.
    #[must_use]
    pub fn len(self) -> usize {
        match self {
            Self::I32(v) => v.len(),
            Self::I64(v) => v.len(),
        }
    }

    /// Whether there are no values.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Value `i` as i64 (panics past the end, like slice indexing).
    #[must_use]
    pub fn get(self, i: usize) -> i64 {
        match self {
            Self::I32(v) => i64::from(v[i]),
            Self::I64(v) => v[i],
        }
    }

    /// The first position whose value is outside `[0, limit)`, searched in parallel.
    fn first_outside(self, limit: i64) -> Option<usize> {
        const BLOCK: usize = 1 << 16;
        match self {
            Self::I32(v) => v.par_chunks(BLOCK).enumerate().find_map_first(|(b, c)| {
                c.iter()
                    .position(|&x| x < 0 || i64::from(x) >= limit)
                    .map(|p| b * BLOCK + p)
            }),
            Self::I64(v) => v.par_chunks(BLOCK).enumerate().find_map_first(|(b, c)| {
                c.iter()
                    .position(|&x| x < 0 || x >= limit)
                    .map(|p| b * BLOCK + p)
            }),
        }
    }
}

/// Check a compressed matrix with `major` rows (CSR; columns for CSC), `minor` columns and
/// `nnz` stored values. The message names the first problem, in the words the TS layer uses.
///
/// # Errors
/// [`crate::ErrorCode::InvalidInput`] describing the first violation found.
pub fn validate_compressed(
    indptr: Indices<'_>,
    indices: Indices<'_>,
    nnz: usize,
    major: usize,
    minor: usize,
) -> Result<()> {
    let bad = |m: String| Err(Error::invalid_input(m));
    if indptr.len() != major + 1 {
        return bad(format!(
            "indptr has {} entries, expected {}",
            indptr.len(),
            major + 1
        ));
    }
    if indices.len() != nnz {
        return bad(format!(
            "indices has {} entries but data has {nnz}",
            indices.len()
        ));
    }
    if indptr.get(0) != 0 {
        return bad(format!("indptr[0] is {}, expected 0", indptr.get(0)));
    }
    for i in 1..indptr.len() {
        if indptr.get(i) < indptr.get(i - 1) {
            return bad(format!(
                "indptr decreases at {i} ({} -> {})",
                indptr.get(i - 1),
                indptr.get(i)
            ));
        }
    }
    let last = indptr.get(indptr.len() - 1);
    if usize::try_from(last).ok() != Some(nnz) {
        return bad(format!(
            "indptr ends at {last} but there are {nnz} stored values"
        ));
    }
    let limit = i64::try_from(minor).unwrap_or(i64::MAX);
    if let Some(i) = crate::runtime::run(|| Ok(indices.first_outside(limit)))? {
        return bad(format!(
            "indices[{i}] = {} is outside [0, {minor})",
            indices.get(i)
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        let ok = validate_compressed(
            Indices::I32(&[0, 1, 1, 3]),
            Indices::I32(&[2, 0, 1]),
            3,
            3,
            3,
        );
        assert!(ok.is_ok());
        let e = |p: &[i64], i: &[i32], nnz, major, minor| {
            validate_compressed(Indices::I64(p), Indices::I32(i), nnz, major, minor)
                .unwrap_err()
                .message
        };
        assert!(e(&[0, 1], &[0], 1, 2, 3).contains("indptr has 2 entries, expected 3"));
        assert!(e(&[0, 2, 1], &[0, 0], 2, 2, 3).contains("indptr decreases at 2"));
        assert!(e(&[0, 1, 1], &[5], 1, 2, 3).contains("indices[0] = 5 is outside [0, 3)"));
        assert!(e(&[0, 1, 1], &[-1], 1, 2, 3).contains("indices[0] = -1"));
        assert!(e(&[1, 1, 1], &[0], 1, 2, 3).contains("indptr[0] is 1"));
        assert!(e(&[0, 1, 2], &[0], 1, 2, 3).contains("indptr ends at 2"));
        // the first violation is found even when it sits past the first parallel block
        let mut big = vec![0i32; 200_000];
        big[150_000] = 9;
        big[190_000] = 9;
        let msg = validate_compressed(
            Indices::I64(&[0, 200_000]),
            Indices::I32(&big),
            200_000,
            1,
            3,
        )
        .unwrap_err()
        .message;
        assert!(msg.contains("indices[150000]"), "{msg}");
    }
}
