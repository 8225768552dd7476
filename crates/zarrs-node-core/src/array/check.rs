//! Checks of what an array has stored, object by object (shards, or chunks when unsharded), for
//! a resume (skip only sound objects) and for finalize (refuse a store with a damaged one).

use std::ops::Range;

use rayon::prelude::*;

use super::ZArray;
use crate::error::Result;
use crate::precheck::{object_state, ObjectState};

/// The stored objects covering some rows of an array.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ObjectCheck {
    /// Objects looked at.
    pub checked: u64,
    /// Keys with nothing stored.
    pub absent: Vec<String>,
    /// Keys whose object is damaged, with why.
    pub damaged: Vec<(String, String)>,
}

impl ObjectCheck {
    /// Whether every object is stored and sound.
    #[must_use]
    pub fn complete(&self) -> bool {
        self.absent.is_empty() && self.damaged.is_empty()
    }
}

impl ZArray {
    /// Grid indices of the objects that rows `rows` (axis 0; ignored for 0-d arrays) cover, in
    /// C order.
    ///
    /// # Errors
    /// Closed store.
    pub fn object_indices(&self, rows: &Range<u64>) -> Result<Vec<Vec<u64>>> {
        self.with(|i| {
            let grid = i.array.chunk_grid_shape().to_vec();
            if grid.is_empty() {
                return Ok(vec![vec![]]);
            }
            let zero = vec![0u64; grid.len()];
            let unit = i.array.chunk_shape(&zero)?[0].get();
            let first = rows.start / unit;
            let last = rows.end.div_ceil(unit).min(grid[0]);
            let trailing: u64 = grid[1..].iter().product();
            let mut out = Vec::new();
            for r in first..last {
                for t in 0..trailing {
                    let mut idx = vec![r; grid.len()];
                    let mut rem = t;
                    for d in (1..grid.len()).rev() {
                        idx[d] = rem % grid[d];
                        rem /= grid[d];
                    }
                    out.push(idx);
                }
            }
            Ok(out)
        })
    }

    /// Check the objects that rows `rows` cover (see [`ObjectState`]): one size request and, for
    /// shards, one ranged index read each, in parallel.
    ///
    /// # Errors
    /// Closed store, storage errors.
    pub fn check_objects(&self, rows: &Range<u64>) -> Result<ObjectCheck> {
        let indices = self.object_indices(rows)?;
        let states: Vec<(String, ObjectState)> = self.with(|i| {
            crate::runtime::run(|| {
                indices
                    .par_iter()
                    .map(|idx| {
                        let key = i.array.chunk_key(idx).as_str().to_string();
                        object_state(&self.store, &i.array, idx).map(|s| (key, s))
                    })
                    .collect()
            })
        })?;
        let mut out = ObjectCheck {
            checked: states.len() as u64,
            ..ObjectCheck::default()
        };
        for (key, state) in states {
            match state {
                ObjectState::Sound => {}
                ObjectState::Absent => out.absent.push(key),
                ObjectState::Damaged(why) => out.damaged.push((key, why)),
            }
        }
        Ok(out)
    }
}
