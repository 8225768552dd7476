//! Corrupt stores where zarrs 0.23 would panic or wrap: each must fail with a coded error
//! naming the key, never `Internal` (a caught panic). Stores are written by our own code, then
//! corrupted byte by byte the way a damaged file would be.

use std::num::NonZeroU64;

use crate::common::{self, create};
use serde_json::{json, Value};
use zarrs::array::codec::CodecChain;
use zarrs::array::{ArrayBytes, ArrayToBytesCodecTraits, CodecOptions, FillValue};
use zarrs::metadata::v3::MetadataV3;
use zarrs_node_core::error::catch_panic;
use zarrs_node_core::{
    CancelToken, Consolidated, DimSpec, Error, ErrorCode, Mode, Store, StoreOptions, WriteValue,
    ZArray, ZGroup,
};

fn store(name: &str) -> Store {
    common::store("corrupt", name)
}

fn slice(start: i64, stop: i64) -> DimSpec {
    DimSpec::Slice {
        start: Some(start),
        stop: Some(stop),
        step: None,
    }
}

/// Every read path on a freshly opened handle: whole array, a partial region, points.
fn reads(store: &Store, path: &str) -> Vec<Error> {
    let never = CancelToken::never();
    let mut errors = vec![];
    for how in 0..3 {
        let r = catch_panic(|| {
            let a = ZArray::open(store, path)?;
            let n = a.shape()?.len();
            match how {
                0 => a.get(&[], &never).map(|_| ()),
                1 => a.get(&vec![slice(1, 2); n], &never).map(|_| ()),
                _ => a.get_coordinates(&vec![vec![1, 0]; n], &never).map(|_| ()),
            }
        });
        errors.push(r.expect_err("a corrupt store must not read"));
    }
    errors
}

fn assert_coded(errors: &[Error], code: ErrorCode, key: &str, msg: &str) {
    for e in errors {
        assert_eq!(e.code, code, "{e:?}");
        assert_eq!(e.key.as_deref(), Some(key), "{e:?}");
        assert!(e.message.contains(msg), "{e:?}");
    }
}

#[test]
fn corrupt_vlen_utf8_length_prefix_is_a_codec_error() {
    let layouts = [
        ("v2", json!({ "zarrFormat": 2, "chunks": [4] }), "s/0", 0),
        ("v3", json!({ "chunks": [4] }), "s/c/0", 0),
        // Sharded: the inner chunk starts the shard (index at the end).
        (
            "sharded",
            json!({ "chunks": [4], "shards": [8] }),
            "s/c/0",
            0,
        ),
    ];
    for (label, layout, key, base) in layouts {
        let st = store(&format!("vlen-{label}"));
        let mut opts = json!({ "shape": [8], "dtype": "string", "compressors": [] });
        opts.as_object_mut()
            .unwrap()
            .extend(layout.as_object().unwrap().clone());
        let a = create(&st, "s", opts);
        let words: Vec<String> = ["ab", "c", "", "def", "g", "hi", "j", "k"]
            .iter()
            .map(ToString::to_string)
            .collect();
        a.set(
            &[],
            WriteValue::Strings(words.clone()),
            &CancelToken::never(),
        )
        .unwrap();
        let (back, _) = a.get(&[], &CancelToken::never()).unwrap();
        assert_eq!(back, zarrs_node_core::TypedVec::String(words), "{label}");
        // Item 0's length prefix (after the u32 item count) claims ~4 GB.
        let mut bytes = st.get(key).unwrap().unwrap();
        bytes[base + 4..base + 8].copy_from_slice(&0xfff0_0000u32.to_le_bytes());
        st.set(key, bytes).unwrap();
        let errors = reads(&st, "s");
        assert_coded(&errors, ErrorCode::Codec, "s", "vlen-utf8 item 0 declares");
    }
}

/// A shard index rewritten with `entries`, re-checksummed so only the entries are wrong.
fn rewrite_index(st: &Store, key: &str, entries: &[u64]) {
    let mut shard = st.get(key).unwrap().unwrap();
    let codecs: Vec<MetadataV3> = serde_json::from_value(json!([
        { "name": "bytes", "configuration": { "endian": "little" } }, { "name": "crc32c" }
    ]))
    .unwrap();
    let raw: Vec<u8> = entries.iter().flat_map(|v| v.to_ne_bytes()).collect();
    let n = NonZeroU64::new(entries.len() as u64 / 2).unwrap();
    let index = CodecChain::from_metadata(&codecs)
        .unwrap()
        .encode(
            ArrayBytes::new_flen(raw),
            &[n, NonZeroU64::new(2).unwrap()],
            &zarrs::array::data_type::uint64(),
            &FillValue::from(u64::MAX),
            &CodecOptions::default(),
        )
        .unwrap();
    let at = shard.len() - index.len();
    shard[at..].copy_from_slice(&index);
    st.set(key, shard).unwrap();
}

#[test]
fn shard_index_overflow_and_out_of_range_are_codec_errors() {
    for (label, entry, msg) in [
        ("overflow", [u64::MAX - 1, 16], "overflows"),
        ("past-end", [8, 1 << 20], "ends past the shard"),
    ] {
        let st = store(&format!("shard-{label}"));
        let a = create(
            &st,
            "x",
            json!({ "shape": [4, 4], "dtype": "uint16", "chunks": [2, 2], "shards": [4, 4], "compressors": [] }),
        );
        let data: Vec<u8> = (0..16u16).flat_map(u16::to_le_bytes).collect();
        a.set(&[], WriteValue::Bytes(&data), &CancelToken::never())
            .unwrap();
        // Four inner chunks of 8 bytes; the first one's entry (every read touches it) is bad.
        let mut entries = vec![0, 8, 8, 8, 16, 8, 24, 8];
        entries[0..2].copy_from_slice(&entry);
        rewrite_index(&st, "x/c/0/0", &entries);
        assert_coded(&reads(&st, "x"), ErrorCode::Codec, "x/c/0/0", msg);
        // The other inner chunks of the shard still read (as with zarrs' own range check).
        let (rest, _) = ZArray::open(&st, "x")
            .unwrap()
            .get(&[slice(2, 4), slice(2, 4)], &CancelToken::never())
            .unwrap();
        let expect: Vec<u8> = [10u16, 11, 14, 15]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(rest.bytes().unwrap(), &expect[..], "{label}");
        // A partial write reads the shard back first: the same error, nothing written.
        let before = st.get("x/c/0/0").unwrap();
        let w = catch_panic(|| {
            ZArray::open(&st, "x")?.set(
                &[slice(0, 1), slice(0, 1)],
                WriteValue::Scalar(json!(9)),
                &CancelToken::never(),
            )
        });
        assert_coded(&[w.unwrap_err()], ErrorCode::Codec, "x/c/0/0", msg);
        assert_eq!(st.get("x/c/0/0").unwrap(), before);
    }
}

#[test]
fn shards_shorter_than_their_index_are_codec_errors() {
    // Found by fuzzing: a suffix range longer than the value underflows in the storage layer
    // (memory stores panic; zarrs reads the index the same way).
    for location in ["memory://corrupt-short-shard", "local"] {
        let st = if location == "local" {
            store("short-shard")
        } else {
            Store::open(location, &StoreOptions::default()).unwrap()
        };
        let a = create(
            &st,
            "x",
            json!({ "shape": [4, 4], "dtype": "uint16", "chunks": [2, 2], "shards": [4, 4], "compressors": [] }),
        );
        a.set(&[], WriteValue::Scalar(json!(3)), &CancelToken::never())
            .unwrap();
        let shard = st.get("x/c/0/0").unwrap().unwrap();
        st.set("x/c/0/0", shard[..10].to_vec()).unwrap();
        assert_coded(
            &reads(&st, "x"),
            ErrorCode::Codec,
            "x/c/0/0",
            "fewer than its 68-byte index",
        );
    }
}

#[test]
fn chunk_shapes_that_overflow_are_invalid_metadata_at_open() {
    let st = store("huge-chunks");
    st.set(
        "v3/zarr.json",
        serde_json::to_vec(&json!({
            "zarr_format": 3, "node_type": "array", "shape": [10], "data_type": "float64",
            "chunk_grid": { "name": "regular", "configuration": { "chunk_shape": [1u64 << 62] } },
            "chunk_key_encoding": { "name": "default" }, "fill_value": 0,
            "codecs": [{ "name": "bytes", "configuration": { "endian": "little" } }]
        }))
        .unwrap(),
    )
    .unwrap();
    st.set(
        "v2/.zarray",
        serde_json::to_vec(&json!({
            "zarr_format": 2, "shape": [10, 10], "chunks": [1u64 << 40, 1u64 << 40],
            "dtype": "<i4", "compressor": null, "fill_value": 0, "order": "C", "filters": null
        }))
        .unwrap(),
    )
    .unwrap();
    for path in ["v3", "v2"] {
        let e = catch_panic(|| ZArray::open(&st, path)).err().unwrap();
        assert_eq!(e.code, ErrorCode::InvalidMetadata, "{e:?}");
        assert_eq!(e.key.as_deref(), Some(path));
        assert!(e.message.contains("too large"), "{e:?}");
    }
}

/// Found by the `metadata` fuzz target: a sharding codec whose inner chunk shape has fewer
/// dimensions than the array made zarrs 0.23 panic (`expect`) when a read built the inner grid.
#[test]
fn inner_chunk_shapes_of_the_wrong_dimensionality_are_invalid_metadata() {
    let st = store("inner-dims");
    let sharded = |inner: Value| {
        serde_json::to_vec(&json!({
            "zarr_format": 3, "node_type": "array", "shape": [8, 4], "data_type": "uint16",
            "chunk_grid": { "name": "regular", "configuration": { "chunk_shape": [4, 4] } },
            "chunk_key_encoding": { "name": "default" }, "fill_value": 0,
            "codecs": [{ "name": "sharding_indexed", "configuration": {
                "chunk_shape": inner,
                "codecs": [{ "name": "bytes", "configuration": { "endian": "little" } }],
                "index_codecs": [{ "name": "bytes", "configuration": { "endian": "little" } }, { "name": "crc32c" }],
                "index_location": "end" } }]
        }))
        .unwrap()
    };
    st.set("fewer/zarr.json", sharded(json!([1]))).unwrap();
    st.set("more/zarr.json", sharded(json!([2, 2, 2]))).unwrap();
    // A shard on disk, so that reads get as far as the inner chunk grid.
    st.set("fewer/c/0/0", vec![0u8; 48]).unwrap();
    st.set("more/c/0/0", vec![0u8; 48]).unwrap();
    for path in ["fewer", "more"] {
        let e = catch_panic(|| {
            let a = ZArray::open(&st, path)?;
            a.get(&[slice(0, 2), slice(0, 2)], &CancelToken::never())
                .map(|_| ())
        })
        .expect_err("a read must fail");
        assert_eq!(e.code, ErrorCode::InvalidMetadata, "{e:?}");
        assert_eq!(e.key.as_deref(), Some(path), "{e:?}");
        assert!(e.message.contains("dimensions"), "{e:?}");
    }
}

#[test]
fn a_node_without_metadata_is_an_error_not_absent() {
    for format in [2u8, 3] {
        let st = store(&format!("orphan-v{format}"));
        let root = ZGroup::create(&st, "", format, serde_json::Map::new(), false).unwrap();
        let opts = json!({ "shape": [4], "dtype": "int32", "chunks": [2], "zarrFormat": format });
        let a = root
            .create_array("X", &serde_json::from_value(opts).unwrap())
            .unwrap();
        a.set(&[], WriteValue::Scalar(json!(5)), &CancelToken::never())
            .unwrap();
        root.create_group("uns", None, serde_json::Map::new(), false)
            .unwrap()
            .create_array(
                "v",
                &serde_json::from_value(json!({ "shape": [1], "dtype": "int8" })).unwrap(),
            )
            .unwrap();
        let doc = if format == 3 { "zarr.json" } else { ".zarray" };
        st.delete(&format!("X/{doc}")).unwrap();
        st.delete(&format!(
            "uns/{}",
            if format == 3 { "zarr.json" } else { ".zgroup" }
        ))
        .unwrap();

        let g = ZGroup::open(&st, "", Mode::Read, Consolidated::Ignore).unwrap();
        let e = g.members().unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidMetadata, "{e:?}");
        assert!(e.message.contains("metadata is missing"), "{e:?}");
        assert_eq!(e.key.as_deref(), Some("X"));
        for (path, e) in [
            ("X", g.open_array("X").err().unwrap()),
            ("X", ZArray::open(&st, "X").err().unwrap()),
            ("uns", g.open_group("uns").err().unwrap()),
            (
                "uns",
                ZGroup::open(&st, "uns", Mode::Read, Consolidated::Auto)
                    .err()
                    .unwrap(),
            ),
        ] {
            assert_eq!(e.code, ErrorCode::InvalidMetadata, "{path}: {e:?}");
            assert_eq!(e.key.as_deref(), Some(path));
        }
        // A path with nothing stored is still simply absent.
        let e = g.open_array("nothing").err().unwrap();
        assert_eq!(
            (e.code, e.key.as_deref()),
            (ErrorCode::NotFound, Some("nothing"))
        );
    }
}
