//! Selections as the JS layer sends them (numbers are f64, converted by the core's `js_int`
//! exactly as the binding does), applied to a small in-memory array: normalisation, reads
//! (region, orthogonal, points) and writes. No panic, no `Internal` error.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use zarrs_node_core::selection::{coordinates, js_int, Selection};
use zarrs_node_core::{CancelToken, CreateArrayOptions, DimSpec, WriteValue, ZArray};
use zarrs_node_core_fuzz::{check, fresh_store};

/// One dimension of a JS selection (`NativeDimSel` in the binding).
#[derive(Arbitrary, Debug)]
enum JsDim {
    All,
    Index(f64),
    Slice {
        start: Option<f64>,
        stop: Option<f64>,
        step: Option<f64>,
    },
    Indices(Vec<f64>),
    Mask(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Array shape: up to 3 dimensions of up to 15 (the input's bytes mod 16).
    shape: Vec<u8>,
    chunk: u8,
    sharded: bool,
    dims: Vec<JsDim>,
    coords: Vec<Vec<f64>>,
}

fn to_spec(d: &JsDim) -> zarrs_node_core::Result<DimSpec> {
    let opt = |v: Option<f64>, what: &str| v.map(|v| js_int(v, what)).transpose();
    Ok(match d {
        JsDim::All => DimSpec::All,
        JsDim::Index(v) => DimSpec::Index(js_int(*v, "index")?),
        JsDim::Slice { start, stop, step } => DimSpec::Slice {
            start: opt(*start, "slice start")?,
            stop: opt(*stop, "slice stop")?,
            step: opt(*step, "slice step")?,
        },
        JsDim::Indices(v) => DimSpec::Indices(
            v.iter()
                .map(|&x| js_int(x, "index"))
                .collect::<zarrs_node_core::Result<_>>()?,
        ),
        JsDim::Mask(m) => DimSpec::Mask(m.clone()),
    })
}

fuzz_target!(|input: Input| {
    let shape: Vec<u64> = input
        .shape
        .iter()
        .take(3)
        .map(|&s| u64::from(s % 16))
        .collect();
    let Some(specs) = check(
        input
            .dims
            .iter()
            .map(to_spec)
            .collect::<Result<Vec<_>, _>>(),
    ) else {
        return;
    };
    for orthogonal in [false, true] {
        if let Some(sel) = check(Selection::new(&specs, &shape, orthogonal)) {
            let _ = (sel.output_shape(), sel.num_elements(), sel.as_region());
        }
    }
    let coords: Option<Vec<Vec<i64>>> = check(
        input
            .coords
            .iter()
            .map(|c| {
                c.iter()
                    .map(|&x| js_int(x, "coordinate"))
                    .collect::<zarrs_node_core::Result<Vec<i64>>>()
            })
            .collect(),
    );

    let store = fresh_store();
    let chunk = u64::from(input.chunk % 4) + 1;
    let mut opts = serde_json::json!({
        "shape": shape, "dtype": "int32", "chunks": vec![chunk; shape.len()], "fillValue": 3
    });
    if input.sharded {
        opts["shards"] = vec![chunk * 2; shape.len()].into();
    }
    let opts: CreateArrayOptions = serde_json::from_value(opts).expect("options");
    let Some(a) = check(ZArray::create(&store, "a", &opts)) else {
        return;
    };
    let never = CancelToken::never();
    check(a.set(&specs, WriteValue::Scalar(serde_json::json!(7)), &never));
    check(a.get(&specs, &never));
    check(a.get_orthogonal(&specs, &never));
    if let Some(coords) = coords {
        if let Some(points) = check(coordinates(&coords, &shape)) {
            let _ = points.len();
        }
        check(a.get_coordinates(&coords, &never));
    }
});
