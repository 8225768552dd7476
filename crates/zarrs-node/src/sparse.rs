//! N-API glue of the sparse take: one async call per take (never per range or row), arguments
//! converted on the JS thread, the take itself on the worker pool.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use zarrs_node_core::sparse_take::{take_sparse as core_take, Compressed, MinorSelection};

use crate::handles::{token, NativeArray, NativeCancel};
use crate::index_view;
use crate::job::{job, sync, Job};
use crate::marshal::{int, to_data, uint, ChunkData};

/// The minor-axis selection: a range (`start`, `stop`) or a list (`positions`); absent = all.
#[napi(object)]
pub struct NativeMinorSelection {
    pub start: Option<f64>,
    pub stop: Option<f64>,
    pub positions: Option<Float64Array>,
}

/// The assembled CSR (CSC with axes swapped).
#[napi(object, object_from_js = false)]
pub struct NativeSparseTake {
    #[napi(
        ts_type = "Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array"
    )]
    pub data: ChunkData,
    #[napi(
        ts_type = "Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array"
    )]
    pub indices: ChunkData,
    #[napi(ts_type = "Int32Array | BigInt64Array")]
    pub indptr: ChunkData,
}

fn minor_selection(m: Option<NativeMinorSelection>) -> zarrs_node_core::Result<MinorSelection> {
    Ok(match m {
        None => MinorSelection::All,
        Some(NativeMinorSelection {
            start: Some(start),
            stop: Some(stop),
            positions: None,
        }) => MinorSelection::Range {
            start: int(start, "minor range start")?,
            stop: int(stop, "minor range stop")?,
        },
        Some(NativeMinorSelection {
            start: None,
            stop: None,
            positions: Some(p),
        }) => MinorSelection::List(
            p.iter()
                .map(|&v| int(v, "minor position"))
                .collect::<zarrs_node_core::Result<_>>()?,
        ),
        Some(_) => {
            return Err(zarrs_node_core::Error::invalid_selection(
                "a minor selection is either { start, stop } or { positions }",
            ))
        }
    })
}

/// Rows of a CSR (columns of a CSC): `indptr` is the bytes of the int32 or int64 offsets
/// (`indptrIs64`), `major` the positions in the asked order (integers, negatives from the
/// end), `minor` what to keep of the other axis of length `minorLength` (required with
/// `minor`; with it, the returned indices are checked to lie on that axis).
#[napi(ts_return_type = "Promise<NativeSparseTake>")]
#[allow(clippy::too_many_arguments)]
pub fn take_sparse(
    data: &NativeArray,
    indices: &NativeArray,
    indptr: Uint8Array,
    indptr_is64: bool,
    major: Either<Uint32Array, Float64Array>,
    minor: Option<NativeMinorSelection>,
    minor_length: Option<f64>,
    cancel: Option<&NativeCancel>,
) -> Result<AsyncTask<Job<NativeSparseTake>>> {
    let (major, minor, minor_length) = sync(|| {
        let major: Vec<i64> = match &major {
            Either::A(u) => u.iter().map(|&v| i64::from(v)).collect(),
            Either::B(f) => f
                .iter()
                .map(|&v| int(v, "major position"))
                .collect::<zarrs_node_core::Result<_>>()?,
        };
        Ok((
            major,
            minor_selection(minor)?,
            minor_length.map(|n| uint(n, "minorLength")).transpose()?,
        ))
    })?;
    let (d, i, c) = (data.inner.clone(), indices.inner.clone(), token(cancel));
    Ok(job(move || {
        let m = Compressed {
            data: &d,
            indices: &i,
            indptr: index_view(&indptr, indptr_is64)?,
        };
        let t = core_take(&m, &major, &minor, minor_length, &c)?;
        Ok(NativeSparseTake {
            data: to_data(t.data),
            indices: to_data(t.indices),
            indptr: to_data(t.indptr),
        })
    }))
}
