//! The core's integration tests, one test binary: each module below was its own binary once, and
//! every binary links zarrs, object_store and the HDF5 readers again (seconds each on 2 cores).
#![allow(clippy::unwrap_used, clippy::single_range_in_vec_init, missing_docs)]

mod arrays;
mod common;
mod copy;
mod corrupt;
mod h5ad;
mod real_files;
mod sparse_take;
mod v2_legacy;
