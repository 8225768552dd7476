//! Stores written by others, read through the core: a zarrita.js zip archive (zarr-python
//! wrote its arrays) exercising the codec plugins this crate registers with zarrs (numcodecs
//! lz4, delta, the v2 bitround id) and the zip store; writes of lz4/bz2 round-trip.

use serde_json::json;
use zarrs_node_core::{
    CancelToken, CreateArrayOptions, ErrorCode, Store, StoreOptions, TypedVec, WriteValue, ZArray,
};

fn fixture(name: &str) -> String {
    format!(
        "{}/../../__test__/fixtures/corpus/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn read(store: &Store, path: &str) -> TypedVec {
    let a = ZArray::open(store, path).unwrap();
    a.get(&[], &CancelToken::never()).unwrap().0
}

#[test]
fn numcodecs_filters_and_compressors_from_zarr_python() {
    let store = Store::open(
        &fixture("zarrita-v2.zipped_from_within.zarr.zip"),
        &StoreOptions::default(),
    )
    .unwrap();
    // the values zarr-python reads from these arrays
    for (path, want) in [
        ("1d.contiguous.lz4.i2", [1, 2, 3, 4]),
        ("1d.contiguous.delta.i2", [1, 2, 3, 4]),
        ("1d.contiguous.delta.shuffle.i2", [10, 20, 30, 40]),
    ] {
        assert_eq!(read(&store, path), TypedVec::Int16(want.to_vec()), "{path}");
    }
    // keepbits 3 rounds the mantissa
    assert_eq!(
        read(&store, "1d.contiguous.bitround.f4"),
        TypedVec::Float32(vec![1.125, 2.25, 3.25, 4.5])
    );
    assert_eq!(
        store.set("k", vec![1]).unwrap_err().code,
        ErrorCode::ReadOnly
    );
}

#[test]
fn lz4_and_bz2_writes_round_trip() {
    let dir = std::env::temp_dir().join(format!("zn-core-real-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&dir.display().to_string(), &StoreOptions::default()).unwrap();
    for (fmt, codec) in [(2, "lz4"), (3, "lz4"), (2, "bz2:3"), (3, "bz2")] {
        let path = format!("a{fmt}-{}", codec.replace(':', "-"));
        let opts: CreateArrayOptions = serde_json::from_value(json!({
            "shape": [100], "dtype": "int32", "chunks": [30], "zarrFormat": fmt, "compressors": codec,
        }))
        .unwrap();
        let a = ZArray::create(&store, &path, &opts).unwrap();
        let data: Vec<i32> = (0..100).map(|i| i * i - 50).collect();
        let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        a.set(&[], WriteValue::Bytes(&bytes), &CancelToken::never())
            .unwrap();
        assert_eq!(read(&store, &path), TypedVec::Int32(data), "{path}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
