//! Round trips of every dtype through v2, v3 and sharded v3 arrays, checked element by element
//! against a reference computed here from the same formula, for every selection kind.

use serde_json::json;
use zarrs_node_core::selection::{DimSel, Selection};
use zarrs_node_core::{
    CancelToken, CreateArrayOptions, DType, DimSpec, Store, StoreOptions, TypedVec, WriteValue,
    ZArray,
};

const SHAPE: [u64; 2] = [13, 17];

fn tmp(name: &str) -> String {
    let d = std::env::temp_dir().join(format!("zn-core-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d.display().to_string()
}

/// Element `i` of the test data as little-endian bytes (or a string; bytes arrays hold its
/// UTF-8).
fn value(dtype: DType, i: u64) -> Result<Vec<u8>, String> {
    let v = i * 7 % 251;
    Ok(match dtype {
        DType::Bool => vec![u8::from(v.is_multiple_of(3))],
        DType::Int8 => ((v as i64 - 120) as i8).to_le_bytes().to_vec(),
        DType::Int16 => ((v as i16) * -3).to_le_bytes().to_vec(),
        DType::Int32 => ((v as i32) * -100_000).to_le_bytes().to_vec(),
        DType::Int64 => ((v as i64) * -(1 << 40)).to_le_bytes().to_vec(),
        DType::UInt8 => vec![v as u8],
        DType::UInt16 => ((v as u16) * 200).to_le_bytes().to_vec(),
        DType::UInt32 => ((v as u32) * 1_000_000).to_le_bytes().to_vec(),
        DType::UInt64 => (v << 50).to_le_bytes().to_vec(),
        DType::Float16 => half::f16::from_f32(v as f32 / 4.0).to_le_bytes().to_vec(),
        DType::Float32 => (v as f32 / 3.0).to_le_bytes().to_vec(),
        DType::Float64 => (v as f64 / 7.0).to_le_bytes().to_vec(),
        DType::String | DType::Bytes => {
            return Err(if v.is_multiple_of(5) {
                String::new()
            } else {
                format!("s{v}-ü")
            })
        }
    })
}

fn full_data(dtype: DType, n: u64) -> WriteValue<'static> {
    if dtype == DType::Bytes {
        WriteValue::Binary(
            (0..n)
                .map(|i| value(dtype, i).unwrap_err().into_bytes())
                .collect(),
        )
    } else if dtype == DType::String {
        WriteValue::Strings((0..n).map(|i| value(dtype, i).unwrap_err()).collect())
    } else {
        let bytes: Vec<u8> = (0..n).flat_map(|i| value(dtype, i).unwrap()).collect();
        WriteValue::Bytes(Box::leak(bytes.into_boxed_slice()))
    }
}

/// Expected output for a selection: element values at the selected source coordinates.
fn expected(dtype: DType, points: &[Vec<u64>]) -> TypedVec {
    let lin = |p: &Vec<u64>| p[0] * SHAPE[1] + p[1];
    if dtype == DType::Bytes {
        return TypedVec::Bytes(
            points
                .iter()
                .map(|p| value(dtype, lin(p)).unwrap_err().into_bytes())
                .collect(),
        );
    }
    if dtype == DType::String {
        return TypedVec::String(
            points
                .iter()
                .map(|p| value(dtype, lin(p)).unwrap_err())
                .collect(),
        );
    }
    let mut t = TypedVec::zeroed(dtype, points.len()).unwrap();
    let bytes: Vec<u8> = points
        .iter()
        .flat_map(|p| value(dtype, lin(p)).unwrap())
        .collect();
    t.bytes_mut().unwrap().copy_from_slice(&bytes);
    t
}

fn orthogonal_points(sel: &Selection) -> Vec<Vec<u64>> {
    let (a, b) = (&sel.dims[0], &sel.dims[1]);
    let mut out = vec![];
    for i in 0..a.len() {
        for j in 0..b.len() {
            out.push(vec![a.source(i), b.source(j)]);
        }
    }
    out
}

fn check_selections(arr: &ZArray, dtype: DType, label: &str) {
    let c = CancelToken::new();
    let cases: Vec<(Vec<DimSpec>, bool)> = vec![
        (vec![], false),
        (vec![DimSpec::Index(3)], false),
        (
            vec![
                DimSpec::Index(-1),
                DimSpec::Slice {
                    start: Some(2),
                    stop: Some(15),
                    step: None,
                },
            ],
            false,
        ),
        (
            vec![
                DimSpec::Slice {
                    start: Some(1),
                    stop: None,
                    step: Some(3),
                },
                DimSpec::Slice {
                    start: None,
                    stop: Some(-2),
                    step: Some(4),
                },
            ],
            false,
        ),
        (
            vec![
                DimSpec::Slice {
                    start: Some(5),
                    stop: Some(11),
                    step: None,
                },
                DimSpec::All,
            ],
            false,
        ),
        (
            vec![
                DimSpec::Indices(vec![12, 0, 5, 5, -2]),
                DimSpec::Slice {
                    start: Some(3),
                    stop: Some(9),
                    step: Some(2),
                },
            ],
            true,
        ),
        (
            vec![
                DimSpec::All,
                DimSpec::Mask((0..17).map(|i| u8::from(i % 4 == 1)).collect()),
            ],
            true,
        ),
    ];
    for (specs, ortho) in cases {
        let sel = Selection::new(&specs, &SHAPE, ortho).unwrap();
        let (got, shape) = if ortho {
            arr.get_orthogonal(&specs, &c)
        } else {
            arr.get(&specs, &c)
        }
        .unwrap();
        assert_eq!(shape, sel.output_shape(), "{label} {specs:?}");
        assert_eq!(
            got,
            expected(dtype, &orthogonal_points(&sel)),
            "{label} {specs:?}"
        );
    }
    let coords = vec![vec![0, 12, 7, 7, -1], vec![16, 0, 3, 3, 5]];
    let (got, shape) = arr.get_coordinates(&coords, &c).unwrap();
    assert_eq!(shape, vec![5]);
    let pts: Vec<Vec<u64>> = vec![
        vec![0, 16],
        vec![12, 0],
        vec![7, 3],
        vec![7, 3],
        vec![12, 5],
    ];
    assert_eq!(got, expected(dtype, &pts), "{label} coordinates");
    let _ = DimSel::Points(vec![]);
}

fn layouts() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("v2", json!({ "zarrFormat": 2, "chunks": [4, 5] })),
        (
            "v2-blosc-F",
            json!({ "zarrFormat": 2, "chunks": [4, 5], "compressors": "blosc:lz4:5", "order": "F" }),
        ),
        ("v3", json!({ "chunks": [4, 5] })),
        ("v3-sharded", json!({ "chunks": [2, 5], "shards": [4, 10] })),
        (
            "v3-sharded-crc",
            json!({ "chunks": [3, 3], "shards": [6, 6], "compressors": ["zstd:1", "crc32c"] }),
        ),
        (
            "v3-gzip-transpose",
            json!({ "chunks": [4, 5], "compressors": "gzip", "filters": [{ "name": "transpose", "order": [1, 0] }] }),
        ),
    ]
}

#[test]
fn every_dtype_round_trips_in_every_layout() {
    let root = tmp("roundtrip");
    let store = Store::open(&root, &StoreOptions::default()).unwrap();
    for (label, layout) in layouts() {
        for dtype in DType::ALL {
            if dtype.is_variable() && (label.contains("blosc") || label.contains("transpose")) {
                continue; // blosc typesize is meaningless for strings; transpose is refused for them
            }
            let mut o = layout.clone();
            o["shape"] = json!(SHAPE);
            o["dtype"] = json!(dtype.name());
            let opts: CreateArrayOptions = serde_json::from_value(o).unwrap();
            let path = format!("{label}/{}", dtype.name());
            let arr = ZArray::create(&store, &path, &opts).unwrap();
            arr.set(
                &[],
                full_data(dtype, SHAPE[0] * SHAPE[1]),
                &CancelToken::new(),
            )
            .unwrap();
            let reopened = ZArray::open(&store, &path).unwrap();
            check_selections(&reopened, dtype, &format!("{label}/{}", dtype.name()));
        }
    }
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn strided_and_partial_writes() {
    let store = Store::open("memory://strided-writes", &StoreOptions::default()).unwrap();
    for (label, layout) in layouts() {
        let mut o = layout.clone();
        o["shape"] = json!(SHAPE);
        o["dtype"] = json!("int32");
        o["fillValue"] = json!(-1);
        let opts: CreateArrayOptions = serde_json::from_value(o).unwrap();
        let arr = ZArray::create(&store, label, &opts).unwrap();
        let c = CancelToken::new();
        // Unwritten -> fill value.
        let (all, _) = arr.get(&[], &c).unwrap();
        assert_eq!(all, TypedVec::Int32(vec![-1; 221]), "{label}");
        // Strided write of a scalar, then a region write.
        let specs = [
            DimSpec::Slice {
                start: Some(1),
                stop: None,
                step: Some(4),
            },
            DimSpec::Slice {
                start: None,
                stop: None,
                step: Some(5),
            },
        ];
        arr.set(&specs, WriteValue::Scalar(json!(7)), &c).unwrap();
        let region = [
            DimSpec::Index(2),
            DimSpec::Slice {
                start: Some(3),
                stop: Some(6),
                step: None,
            },
        ];
        let v: Vec<u8> = [10i32, 11, 12]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        arr.set(&region, WriteValue::Bytes(&v), &c).unwrap();
        let (TypedVec::Int32(all), _) = arr.get(&[], &c).unwrap() else {
            panic!()
        };
        for r in 0..13u64 {
            for col in 0..17u64 {
                let want = if r == 2 && (3..6).contains(&col) {
                    10 + (col as i32 - 3)
                } else if r % 4 == 1 && col % 5 == 0 {
                    7
                } else {
                    -1
                };
                assert_eq!(all[(r * 17 + col) as usize], want, "{label} ({r},{col})");
            }
        }
        // Wrong length.
        let e = arr
            .set(&region, WriteValue::Bytes(&v[..8]), &c)
            .unwrap_err();
        assert_eq!(e.code, zarrs_node_core::ErrorCode::InvalidInput);
    }
}

#[test]
fn resize_append_info() {
    let store = Store::open("memory://resize", &StoreOptions::default()).unwrap();
    for (fmt, shards) in [(2, None), (3, None), (3, Some(json!([4])))] {
        let mut o = json!({ "shape": [10], "dtype": "uint8", "chunks": [2], "zarrFormat": fmt });
        if let Some(s) = shards {
            o["shards"] = s;
        }
        let opts: CreateArrayOptions = serde_json::from_value(o).unwrap();
        let arr =
            ZArray::create(&store, &format!("r{fmt}{}", opts.shards.is_some()), &opts).unwrap();
        let c = CancelToken::new();
        arr.set(&[], WriteValue::Bytes(&[1; 10]), &c).unwrap();
        let info = arr.info().unwrap();
        assert_eq!(info.nbytes, Some(10));
        arr.resize(vec![3]).unwrap();
        arr.resize(vec![10]).unwrap();
        let (TypedVec::UInt8(v), _) = arr.get(&[], &c).unwrap() else {
            panic!()
        };
        // Chunks wholly beyond the shrunken shape were deleted; the partial edge chunk keeps data.
        let edge = 4; // chunk (and shard) edge at or past the shrunken length 3
        assert_eq!(&v[..edge], &[1, 1, 1, 1][..edge], "{fmt}");
        assert!(v[edge..].iter().all(|&x| x == 0), "{fmt}: {v:?}");
        let shape = arr
            .append(WriteValue::Bytes(&[9, 9, 9]), &[3], 0, &c)
            .unwrap();
        assert_eq!(shape, vec![13]);
        let (TypedVec::UInt8(v), _) = arr
            .get(
                &[DimSpec::Slice {
                    start: Some(-3),
                    stop: None,
                    step: None,
                }],
                &c,
            )
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(v, vec![9, 9, 9]);
        let reopened = ZArray::open(&store, arr.path()).unwrap();
        assert_eq!(reopened.shape().unwrap(), vec![13]);
    }
}

/// Shrinking then growing must not resurrect old values whatever the chunk key encoding:
/// v3 `v2` encoding (`0.1`, `0/1`), v3 default with `.`, and v2 with `/`.
#[test]
fn resize_deletes_chunks_of_every_key_encoding() {
    let store = Store::open("memory://resize-keys", &StoreOptions::default()).unwrap();
    let c = CancelToken::new();
    let v3 = |encoding: &str, sep: &str| {
        json!({ "zarr_format": 3, "node_type": "array", "shape": [4, 4], "data_type": "uint8",
            "chunk_grid": { "name": "regular", "configuration": { "chunk_shape": [2, 2] } },
            "chunk_key_encoding": { "name": encoding, "configuration": { "separator": sep } },
            "fill_value": 0, "codecs": [{ "name": "bytes" }] })
    };
    let docs = [
        ("v3v2dot", "zarr.json", v3("v2", ".")),
        ("v3v2slash", "zarr.json", v3("v2", "/")),
        ("v3dot", "zarr.json", v3("default", ".")),
        (
            "v2slash",
            ".zarray",
            json!({ "zarr_format": 2, "shape": [4, 4], "chunks": [2, 2], "dtype": "|u1",
                "compressor": null, "fill_value": 0, "order": "C", "filters": null,
                "dimension_separator": "/" }),
        ),
    ];
    for (name, doc_key, doc) in docs {
        store
            .set(&format!("{name}/{doc_key}"), doc.to_string().into_bytes())
            .unwrap();
        store
            .set(&format!("{name}/unrelated.txt"), vec![1])
            .unwrap();
        let arr = ZArray::open(&store, name).unwrap();
        arr.set(&[], WriteValue::Bytes(&[7; 16]), &c).unwrap();
        let chunk_keys = |s: &Store| {
            s.list(name)
                .unwrap()
                .into_iter()
                .filter(|k| {
                    let name = k.rsplit('/').next().unwrap_or_default();
                    // metadata documents (.zarray, .zattrs, zarr.json) and the foreign object
                    !name.starts_with('.') && name != "zarr.json" && name != "unrelated.txt"
                })
                .count()
        };
        assert_eq!(chunk_keys(&store), 4, "{name}");
        arr.resize(vec![2, 2]).unwrap();
        assert_eq!(chunk_keys(&store), 1, "{name}: only chunk (0, 0) survives");
        arr.resize(vec![4, 4]).unwrap();
        let (TypedVec::UInt8(v), _) = arr.get(&[], &c).unwrap() else {
            panic!()
        };
        let kept: Vec<u8> = (0..16)
            .map(|i| if i / 4 < 2 && i % 4 < 2 { 7 } else { 0 })
            .collect();
        assert_eq!(v, kept, "{name}");
        assert!(store
            .get(&format!("{name}/unrelated.txt"))
            .unwrap()
            .is_some());
    }
}

#[test]
fn zero_dim_and_empty_arrays() {
    let store = Store::open("memory://zero-dim", &StoreOptions::default()).unwrap();
    let c = CancelToken::new();
    for fmt in [2, 3] {
        let opts: CreateArrayOptions =
            serde_json::from_value(json!({ "shape": [], "dtype": "float64", "zarrFormat": fmt }))
                .unwrap();
        let arr = ZArray::create(&store, &format!("scalar{fmt}"), &opts).unwrap();
        arr.set(&[], WriteValue::Scalar(json!(2.5)), &c).unwrap();
        assert_eq!(
            arr.get(&[], &c).unwrap(),
            (TypedVec::Float64(vec![2.5]), vec![])
        );
        let opts: CreateArrayOptions = serde_json::from_value(
            json!({ "shape": [0, 4], "dtype": "string", "zarrFormat": fmt }),
        )
        .unwrap();
        let arr = ZArray::create(&store, &format!("empty{fmt}"), &opts).unwrap();
        assert_eq!(
            arr.get(&[], &c).unwrap(),
            (TypedVec::String(vec![]), vec![0, 4])
        );
    }
}

/// Records, fixed-length strings and datetimes go through zarrs as raw bytes: every layout
/// (v2 F order + blosc, sharding, checksums, transpose) must hand back what was written, for the
/// whole array, a slice and a reopened handle.
#[test]
fn numpy_dtypes_round_trip_in_every_layout() {
    use zarrs_node_core::numpy::ColumnValue;
    let store = Store::open("memory://numpy-layouts", &StoreOptions::default()).unwrap();
    let n = (SHAPE[0] * SHAPE[1]) as usize;
    let names: Vec<String> = (0..n).map(|i| format!("g{}ü", i % 97)).collect();
    let scores: Vec<u8> = (0..n)
        .flat_map(|i| (i as f32 / 3.0).to_be_bytes())
        .collect();
    let times: Vec<u8> = (0..n)
        .flat_map(|i| {
            if i % 11 == 0 {
                i64::MIN
            } else {
                i as i64 * 1_000
            }
            .to_le_bytes()
        })
        .collect();
    for (label, layout) in layouts() {
        let mut o = layout.clone();
        o["shape"] = json!(SHAPE);
        o["dtype"] = json!("record");
        o["numpyDtype"] = json!([["name", "<U5"], ["score", ">f4"], ["t", "<M8[ms]"]]);
        let opts: CreateArrayOptions = serde_json::from_value(o).unwrap();
        let arr = ZArray::create(&store, label, &opts).unwrap();
        let le_scores: Vec<u8> = scores
            .chunks(4)
            .flat_map(|c| [c[3], c[2], c[1], c[0]])
            .collect();
        let columns = [
            ("name".to_string(), ColumnValue::Strings(&names)),
            ("score".to_string(), ColumnValue::Bytes(&le_scores)),
            ("t".to_string(), ColumnValue::Bytes(&times)),
        ];
        arr.set_records(&[], &columns, &CancelToken::new()).unwrap();
        let reopened = ZArray::open(&store, label).unwrap();
        assert_eq!(reopened.dtype_name(), "record", "{label}");
        let (cols, shape) = reopened.get_records(&[], &CancelToken::new()).unwrap();
        assert_eq!(shape, SHAPE.to_vec(), "{label}");
        assert_eq!(cols[0].1, TypedVec::String(names.clone()), "{label}");
        let want: Vec<f32> = (0..n).map(|i| i as f32 / 3.0).collect();
        assert_eq!(cols[1].1, TypedVec::Float32(want), "{label}");
        assert_eq!(
            cols[2].1,
            TypedVec::Int64(bytemuck::cast_slice(&times).to_vec()),
            "{label}"
        );
        // a strided slice of rows 3..9 step 2, all columns
        let specs = [DimSpec::Slice {
            start: Some(3),
            stop: Some(9),
            step: Some(2),
        }];
        let (part, shape) = reopened.get_records(&specs, &CancelToken::new()).unwrap();
        assert_eq!(shape, vec![3, SHAPE[1]], "{label}");
        let rows: Vec<String> = [3usize, 5, 7]
            .iter()
            .flat_map(|r| names[r * SHAPE[1] as usize..(r + 1) * SHAPE[1] as usize].to_vec())
            .collect();
        assert_eq!(part[0].1, TypedVec::String(rows), "{label}");
        // stored metadata keeps the numpy dtype, not zarrs' raw bits
        let meta = reopened.metadata_json().unwrap();
        let dt = if label.starts_with("v2") {
            meta["dtype"].clone()
        } else {
            meta["data_type"]["name"].clone()
        };
        assert!(dt.is_array() || dt == json!("struct"), "{label}: {dt}");
    }
}

/// Every stored file under `dir` (chunks and shards, not metadata), by path relative to it.
fn stored_files(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if !matches!(name.as_str(), "zarr.json" | ".zarray" | ".zattrs") {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Writes of whole chunks and shards are encoded by this crate, not by zarrs: what they store
/// must be byte for byte what zarrs stores for the same data and metadata (inner chunks in C
/// order, which the crate asks of zarrs too), with the shard index at either end, edge chunks
/// padded, and all-fill inner chunks and shards left out.
#[test]
fn whole_chunk_writes_store_what_zarrs_stores() {
    use zarrs::array::codec::array_to_bytes::sharding::{ShardingCodecOptions, SubchunkWriteOrder};
    let root = tmp("whole-chunks");
    let store = Store::open(&root, &StoreOptions::default()).unwrap();
    let shape = [37u64, 29];
    // Shard [0, 0] (8 x 10) and the inner chunk at rows 8..12, columns 10..15 hold only the
    // fill value.
    let data: Vec<u8> = (0..shape[0] * shape[1])
        .flat_map(|i| {
            let (r, c) = (i / shape[1], i % shape[1]);
            let zero = (r < 8 && c < 10) || ((8..12).contains(&r) && (10..15).contains(&c));
            let v = if zero {
                0
            } else {
                (i * 7 % 251 + 1) as u16 * 200
            };
            v.to_le_bytes()
        })
        .collect();
    let cases = [
        (
            "sharded-end",
            json!({ "chunks": [4, 5], "shards": [8, 10], "compressors": "zstd:1" }),
        ),
        (
            "sharded-start",
            json!({ "chunks": [4, 5], "shards": [8, 10], "compressors": "zstd:1" }),
        ),
        (
            "unsharded",
            json!({ "chunks": [4, 5], "compressors": "zstd:1" }),
        ),
        ("v2", json!({ "zarrFormat": 2, "chunks": [4, 5] })),
    ];
    let fs: zarrs_storage::ReadableWritableListableStorage =
        std::sync::Arc::new(zarrs::filesystem::FilesystemStore::new(&root).unwrap());
    let order = zarrs::array::CodecSpecificOptions::default().with_option(
        ShardingCodecOptions::default().with_subchunk_write_order(SubchunkWriteOrder::C),
    );
    for (label, layout) in cases {
        let mut o = layout;
        o["shape"] = json!(shape);
        o["dtype"] = json!("uint16");
        let opts: CreateArrayOptions = serde_json::from_value(o).unwrap();
        let ours = format!("ours/{label}");
        ZArray::create(&store, &ours, &opts).unwrap();
        let meta_name = if label == "v2" {
            ".zarray"
        } else {
            "zarr.json"
        };
        let meta_path = std::path::Path::new(&root).join(&ours).join(meta_name);
        if label == "sharded-start" {
            let mut doc: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
            doc["codecs"][0]["configuration"]["index_location"] = json!("start");
            std::fs::write(&meta_path, serde_json::to_vec(&doc).unwrap()).unwrap();
        }
        let arr = ZArray::open(&store, &ours).unwrap();
        arr.set(&[], WriteValue::Bytes(&data), &CancelToken::new())
            .unwrap();
        // The same metadata, written by zarrs alone.
        let theirs = format!("zarrs/{label}");
        let their_dir = std::path::Path::new(&root).join(&theirs);
        std::fs::create_dir_all(&their_dir).unwrap();
        std::fs::copy(&meta_path, their_dir.join(meta_name)).unwrap();
        let reference = zarrs::array::Array::open(fs.clone(), &format!("/{theirs}"))
            .unwrap()
            .with_codec_specific_options(&order);
        let whole = zarrs::array::ArraySubset::new_with_shape(shape.to_vec());
        reference
            .store_array_subset_opt(
                &whole,
                zarrs::array::ArrayBytes::new_flen(data.clone()),
                &zarrs::array::CodecOptions::default(),
            )
            .unwrap();
        let (a, b) = (
            stored_files(&std::path::Path::new(&root).join(&ours)),
            stored_files(&their_dir),
        );
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            b.keys().collect::<Vec<_>>(),
            "{label}: the same chunk keys"
        );
        for (key, bytes) in &a {
            assert!(bytes == &b[key], "{label}: {key} differs from zarrs' bytes");
        }
        // Shard [0, 0] was all fill value: not stored (the keys above agree on it).
        if label.starts_with("sharded") {
            assert!(
                !a.contains_key("c/0/0"),
                "{label}: an all-fill shard was stored"
            );
        }
    }
    std::fs::remove_dir_all(root).unwrap();
}
