//! Selections, normalised against an array shape with numpy/zarr-python semantics: negative
//! indices count from the end, slices clamp, steps must be positive, integers drop a dimension.

use crate::error::{Error, ErrorCode, Result};

/// One dimension of a selection as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DimSpec {
    /// The whole dimension (`null`).
    All,
    /// One index; the dimension is dropped from the output.
    Index(i64),
    /// `slice(start, stop, step)`.
    Slice {
        /// First index (default 0).
        start: Option<i64>,
        /// One past the last index (default: the length).
        stop: Option<i64>,
        /// Step (default 1, must be positive).
        step: Option<i64>,
    },
    /// Integer indices in output order (orthogonal selection only).
    Indices(Vec<i64>),
    /// A boolean mask as long as the dimension (orthogonal selection only).
    Mask(Vec<u8>),
}

/// One dimension of a normalised selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DimSel {
    /// `start..stop` by `step`; `drop` when it came from an integer.
    Range {
        /// First index.
        start: u64,
        /// Exclusive end (`start <= stop`).
        stop: u64,
        /// Positive step.
        step: u64,
        /// The dimension is removed from the output shape.
        drop: bool,
    },
    /// Explicit source indices, in output order (may repeat or be unsorted).
    Points(Vec<u64>),
}

impl DimSel {
    /// Number of selected positions along this dimension.
    #[must_use]
    pub fn len(&self) -> u64 {
        match self {
            Self::Range {
                start, stop, step, ..
            } => (stop - start).div_ceil(*step),
            Self::Points(p) => p.len() as u64,
        }
    }

    /// Whether nothing is selected.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The source index of output position `i`.
    #[must_use]
    pub fn source(&self, i: u64) -> u64 {
        match self {
            Self::Range { start, step, .. } => start + i * step,
            Self::Points(p) => p[usize::try_from(i).unwrap_or(usize::MAX)],
        }
    }
}

/// A selection normalised against a shape: one [`DimSel`] per dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Per-dimension selections (`len == ndim`).
    pub dims: Vec<DimSel>,
}

fn norm_index(i: i64, len: u64, dim: usize) -> Result<u64> {
    let len_i = i128::from(len);
    let j = if i < 0 {
        i128::from(i) + len_i
    } else {
        i128::from(i)
    };
    if j < 0 || j >= len_i {
        return Err(Error::new(
            ErrorCode::OutOfBounds,
            format!("index {i} is out of bounds for dimension {dim} of length {len}"),
        ));
    }
    Ok(j as u64)
}

fn clamp(i: i64, len: u64) -> u64 {
    let len_i = i128::from(len);
    let j = if i < 0 {
        i128::from(i) + len_i
    } else {
        i128::from(i)
    };
    j.clamp(0, len_i) as u64
}

impl Selection {
    /// The whole array.
    #[must_use]
    pub fn all(shape: &[u64]) -> Self {
        Self {
            dims: shape
                .iter()
                .map(|&n| DimSel::Range {
                    start: 0,
                    stop: n,
                    step: 1,
                    drop: false,
                })
                .collect(),
        }
    }

    /// Normalise `specs` (shorter than `shape` means the rest is `All`). Index lists and masks
    /// are accepted only when `orthogonal` is set.
    ///
    /// # Errors
    /// [`ErrorCode::InvalidSelection`] for malformed selections, [`ErrorCode::OutOfBounds`] for
    /// indices past the end.
    pub fn new(specs: &[DimSpec], shape: &[u64], orthogonal: bool) -> Result<Self> {
        if specs.len() > shape.len() {
            return Err(Error::invalid_selection(format!(
                "selection has {} dimensions but the array has {}",
                specs.len(),
                shape.len()
            )));
        }
        let mut dims = Vec::with_capacity(shape.len());
        for (d, &len) in shape.iter().enumerate() {
            let spec = specs.get(d).unwrap_or(&DimSpec::All);
            dims.push(match spec {
                DimSpec::All => DimSel::Range {
                    start: 0,
                    stop: len,
                    step: 1,
                    drop: false,
                },
                DimSpec::Index(i) => {
                    let j = norm_index(*i, len, d)?;
                    DimSel::Range {
                        start: j,
                        stop: j + 1,
                        step: 1,
                        drop: true,
                    }
                }
                DimSpec::Slice { start, stop, step } => {
                    let step = step.unwrap_or(1);
                    if step <= 0 {
                        return Err(Error::invalid_selection(format!(
                            "slice step must be positive, got {step} (dimension {d})"
                        )));
                    }
                    let start = start.map_or(0, |s| clamp(s, len));
                    let stop = stop.map_or(len, |s| clamp(s, len)).max(start);
                    DimSel::Range {
                        start,
                        stop,
                        step: step as u64,
                        drop: false,
                    }
                }
                DimSpec::Indices(idx) => {
                    if !orthogonal {
                        return Err(Error::invalid_selection(
                            "integer arrays are not basic selections: use getOrthogonal",
                        ));
                    }
                    DimSel::Points(
                        idx.iter()
                            .map(|&i| norm_index(i, len, d))
                            .collect::<Result<_>>()?,
                    )
                }
                DimSpec::Mask(mask) => {
                    if !orthogonal {
                        return Err(Error::invalid_selection(
                            "boolean masks are not basic selections: use getOrthogonal",
                        ));
                    }
                    if mask.len() as u64 != len {
                        return Err(Error::invalid_selection(format!(
                            "mask of length {} does not match dimension {d} of length {len}",
                            mask.len()
                        )));
                    }
                    DimSel::Points(
                        mask.iter()
                            .enumerate()
                            .filter(|(_, &m)| m != 0)
                            .map(|(i, _)| i as u64)
                            .collect(),
                    )
                }
            });
        }
        Ok(Self { dims })
    }

    /// Shape of the result (dropped dimensions removed).
    #[must_use]
    pub fn output_shape(&self) -> Vec<u64> {
        self.dims
            .iter()
            .filter(|d| !matches!(d, DimSel::Range { drop: true, .. }))
            .map(DimSel::len)
            .collect()
    }

    /// Per-dimension lengths including dropped dimensions (as 1).
    #[must_use]
    pub fn full_shape(&self) -> Vec<u64> {
        self.dims.iter().map(DimSel::len).collect()
    }

    /// Number of selected elements.
    #[must_use]
    pub fn num_elements(&self) -> Option<u64> {
        self.dims
            .iter()
            .try_fold(1u64, |acc, d| acc.checked_mul(d.len()))
    }

    /// `Some((start, shape))` when every dimension is a step-1 range.
    #[must_use]
    pub fn as_region(&self) -> Option<(Vec<u64>, Vec<u64>)> {
        let mut start = Vec::with_capacity(self.dims.len());
        let mut shape = Vec::with_capacity(self.dims.len());
        for d in &self.dims {
            match d {
                DimSel::Range {
                    start: s,
                    stop,
                    step: 1,
                    ..
                } => {
                    start.push(*s);
                    shape.push(stop - s);
                }
                _ => return None,
            }
        }
        Some((start, shape))
    }
}

/// A JS number used as an index, slice bound or coordinate: it must be an exact integer
/// within 2^53 (the binding converts every JS selection number through this).
///
/// # Errors
/// [`ErrorCode::InvalidSelection`](crate::ErrorCode::InvalidSelection) naming `what`.
pub fn js_int(v: f64, what: &str) -> Result<i64> {
    if v.fract() != 0.0 || !v.is_finite() || v.abs() > 9_007_199_254_740_992.0 {
        return Err(Error::invalid_selection(format!(
            "{what} must be an integer, got {v}"
        )));
    }
    // In range by the check above: |v| <= 2^53 is exact in both f64 and i64.
    #[allow(clippy::cast_possible_truncation)]
    Ok(v as i64)
}

/// Normalise a coordinate selection: `coords[d]` lists indices along dimension `d`, all lists
/// the same length (zarr-python's `get_coordinate_selection`). Returns one point per row.
///
/// # Errors
/// Wrong number of dimensions, lists of different lengths, or out-of-bounds indices.
pub fn coordinates(coords: &[Vec<i64>], shape: &[u64]) -> Result<Vec<Vec<u64>>> {
    if coords.len() != shape.len() {
        return Err(Error::invalid_selection(format!(
            "coordinate selection needs one index list per dimension ({}), got {}",
            shape.len(),
            coords.len()
        )));
    }
    let n = coords.first().map_or(0, Vec::len);
    if coords.iter().any(|c| c.len() != n) {
        return Err(Error::invalid_selection(
            "coordinate index lists must all have the same length",
        ));
    }
    (0..n)
        .map(|i| {
            coords
                .iter()
                .zip(shape)
                .enumerate()
                .map(|(d, (c, &len))| norm_index(c[i], len, d))
                .collect()
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn python_semantics() {
        let s = Selection::new(
            &[
                DimSpec::Index(-1),
                DimSpec::Slice {
                    start: Some(-5),
                    stop: None,
                    step: Some(2),
                },
            ],
            &[4, 10],
            false,
        )
        .unwrap();
        assert_eq!(s.output_shape(), vec![3]);
        assert_eq!(
            s.dims[0],
            DimSel::Range {
                start: 3,
                stop: 4,
                step: 1,
                drop: true
            }
        );
        assert_eq!(s.dims[1].source(2), 9);
        let clamp = Selection::new(
            &[DimSpec::Slice {
                start: Some(8),
                stop: Some(100),
                step: None,
            }],
            &[10],
            false,
        )
        .unwrap();
        assert_eq!(clamp.output_shape(), vec![2]);
        let empty = Selection::new(
            &[DimSpec::Slice {
                start: Some(8),
                stop: Some(2),
                step: None,
            }],
            &[10],
            false,
        )
        .unwrap();
        assert_eq!(empty.output_shape(), vec![0]);
    }

    #[test]
    fn errors() {
        let e = Selection::new(&[DimSpec::Index(4)], &[4], false).unwrap_err();
        assert_eq!(e.code, ErrorCode::OutOfBounds);
        let e = Selection::new(
            &[DimSpec::Slice {
                start: None,
                stop: None,
                step: Some(0),
            }],
            &[4],
            false,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidSelection);
        let e = Selection::new(&[DimSpec::All, DimSpec::All], &[4], false).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidSelection);
        let e = Selection::new(&[DimSpec::Indices(vec![1])], &[4], false).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidSelection);
        let e = Selection::new(&[DimSpec::Mask(vec![1, 0])], &[4], true).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidSelection);
        assert_eq!(
            coordinates(&[vec![0, 5]], &[5]).unwrap_err().code,
            ErrorCode::OutOfBounds
        );
    }
}
