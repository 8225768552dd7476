//! The sparse take against a dense reference computed here: random CSR matrices (empty rows,
//! unsorted indices within rows) stored v2 unsharded and v3 sharded, taken with unsorted rows
//! and duplicates and every kind of minor selection; bad input; and the requests a small take
//! costs on a sharded array.

use serde_json::json;
use zarrs_node_core::sparse::Indices;
use zarrs_node_core::sparse_take::{take_sparse, Compressed, MinorSelection, SparseTake};
use zarrs_node_core::{
    CancelToken, CreateArrayOptions, ErrorCode, Store, StoreOptions, TypedVec, WriteValue, ZArray,
};

const ROWS: usize = 60;
const COLS: usize = 31;

/// A deterministic pseudo-random stream.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        self.0 >> 33
    }
}

/// A CSR matrix: indptr, indices (row 3's reversed: not sorted), data; every 5th row empty.
fn matrix() -> (Vec<i64>, Vec<i32>, Vec<f32>) {
    let mut rng = Lcg(7);
    let (mut indptr, mut indices, mut data) = (vec![0i64], vec![], vec![]);
    for r in 0..ROWS {
        let mut cols: Vec<i32> = if r.is_multiple_of(5) {
            vec![]
        } else {
            (0..COLS as i32)
                .filter(|_| rng.next().is_multiple_of(3))
                .collect()
        };
        if r == 3 {
            cols.reverse();
        }
        for c in cols {
            indices.push(c);
            data.push((r * 100) as f32 + c as f32);
        }
        indptr.push(indices.len() as i64);
    }
    (indptr, indices, data)
}

fn dense(indptr: &[i64], indices: &[i32], data: &[f32]) -> Vec<Vec<f32>> {
    (0..ROWS)
        .map(|r| {
            let mut row = vec![0f32; COLS];
            for k in indptr[r] as usize..indptr[r + 1] as usize {
                row[indices[k] as usize] = data[k];
            }
            row
        })
        .collect()
}

fn store_arrays(name: &str, v3_sharded: bool) -> (Store, ZArray, ZArray, Vec<i64>) {
    store_typed(name, v3_sharded, "int32")
}

/// The matrix with its indices stored as `index_dtype` (int32, int64 or uint32).
fn store_typed(
    name: &str,
    v3_sharded: bool,
    index_dtype: &str,
) -> (Store, ZArray, ZArray, Vec<i64>) {
    let store = Store::open(
        &format!("memory://sparse-take-{name}"),
        &StoreOptions::default(),
    )
    .unwrap();
    let (indptr, indices, data) = matrix();
    let opts = |dtype: &str| {
        let mut o: CreateArrayOptions = serde_json::from_value(if v3_sharded {
            json!({ "shape": [indices.len()], "dtype": dtype, "chunks": [7], "shards": [28] })
        } else {
            json!({ "shape": [indices.len()], "dtype": dtype, "chunks": [10], "zarrFormat": 2 })
        })
        .unwrap();
        o.overwrite = Some(true);
        o
    };
    let d = ZArray::create(&store, "X/data", &opts("float32")).unwrap();
    let i = ZArray::create(&store, "X/indices", &opts(index_dtype)).unwrap();
    let never = CancelToken::never();
    d.set(&[], WriteValue::Bytes(bytemuck::cast_slice(&data)), &never)
        .unwrap();
    let wide: Vec<i64> = indices.iter().map(|&v| i64::from(v)).collect();
    let narrow: Vec<u32> = indices.iter().map(|&v| v as u32).collect();
    let bytes: &[u8] = match index_dtype {
        "int32" => bytemuck::cast_slice(&indices),
        "int64" => bytemuck::cast_slice(&wide),
        _ => bytemuck::cast_slice(&narrow),
    };
    i.set(&[], WriteValue::Bytes(bytes), &never).unwrap();
    (store, d, i, indptr)
}

fn take(
    d: &ZArray,
    i: &ZArray,
    indptr: &[i64],
    rows: &[i64],
    minor: &MinorSelection,
) -> zarrs_node_core::Result<SparseTake> {
    let m = Compressed {
        data: d,
        indices: i,
        indptr: Indices::I64(indptr),
    };
    take_sparse(&m, rows, minor, Some(COLS as u64), &CancelToken::never())
}

/// The result as dense rows of `width` columns; checks `sorted` indices where promised.
fn densify(t: &SparseTake, width: usize, sorted: bool) -> Vec<Vec<f32>> {
    let (TypedVec::Float32(data), TypedVec::Int32(indices), TypedVec::Int32(ptr)) =
        (&t.data, &t.indices, &t.indptr)
    else {
        panic!("unexpected dtypes {t:?}");
    };
    ptr.windows(2)
        .map(|w| {
            let mut row = vec![0f32; width];
            let ks = w[0] as usize..w[1] as usize;
            if sorted {
                assert!(indices[ks.clone()].windows(2).all(|p| p[0] < p[1]));
            }
            for k in ks {
                row[indices[k] as usize] += data[k];
            }
            row
        })
        .collect()
}

#[test]
fn takes_match_the_dense_reference() {
    let (indptr, indices, data) = matrix();
    let reference = dense(&indptr, &indices, &data);
    let rows: Vec<i64> = vec![17, 3, 3, 0, 59, -1, 40, 10, 11, 12, 3];
    let picked = |r: i64| &reference[r.rem_euclid(ROWS as i64) as usize];
    for sharded in [false, true] {
        let (_s, d, i, indptr) = store_arrays(&format!("ref-{sharded}"), sharded);
        // all columns
        let t = take(&d, &i, &indptr, &rows, &MinorSelection::All).unwrap();
        let got = densify(&t, COLS, false);
        for (k, &r) in rows.iter().enumerate() {
            assert_eq!(&got[k], picked(r), "row {r} (sharded: {sharded})");
        }
        // a range
        let t = take(
            &d,
            &i,
            &indptr,
            &rows,
            &MinorSelection::Range { start: 4, stop: 20 },
        );
        let got = densify(&t.unwrap(), 16, false);
        for (k, &r) in rows.iter().enumerate() {
            assert_eq!(got[k], picked(r)[4..20].to_vec());
        }
        // a list, unsorted with duplicates and a negative position
        let cols: Vec<i64> = vec![9, 2, 30, 2, -31, 15, 9];
        let t = take(&d, &i, &indptr, &rows, &MinorSelection::List(cols.clone())).unwrap();
        let got = densify(&t, cols.len(), true);
        for (k, &r) in rows.iter().enumerate() {
            let want: Vec<f32> = cols
                .iter()
                .map(|&c| picked(r)[c.rem_euclid(COLS as i64) as usize])
                .collect();
            assert_eq!(got[k], want, "row {r}");
        }
        // nothing asked
        let t = take(&d, &i, &indptr, &[], &MinorSelection::All).unwrap();
        assert_eq!(t.indptr, TypedVec::Int32(vec![0]));
        assert_eq!(t.data, TypedVec::Float32(vec![]));
    }
}

#[test]
fn index_dtypes_are_kept_or_widened() {
    let rows = [9i64, 2, 2];
    let list = MinorSelection::List(vec![3, 1, 3]);
    let (_s, d, i, indptr) = store_arrays("dtypes-ref", true);
    let want_all = take(&d, &i, &indptr, &rows, &MinorSelection::All).unwrap();
    let want_list = take(&d, &i, &indptr, &rows, &list).unwrap();
    let as_i64 = |v: &TypedVec| -> Vec<i64> {
        match v {
            TypedVec::Int32(x) => x.iter().map(|&v| i64::from(v)).collect(),
            TypedVec::UInt32(x) => x.iter().map(|&v| i64::from(v)).collect(),
            TypedVec::Int64(x) => x.clone(),
            other => panic!("{other:?}"),
        }
    };
    for dtype in ["int64", "uint32"] {
        let (_s, d, i, indptr) = store_typed(&format!("dtypes-{dtype}"), true, dtype);
        for (minor, want) in [(&MinorSelection::All, &want_all), (&list, &want_list)] {
            let t = take(&d, &i, &indptr, &rows, minor).unwrap();
            assert_eq!(t.data, want.data);
            assert_eq!(as_i64(&t.indices), as_i64(&want.indices));
            assert_eq!(as_i64(&t.indptr), as_i64(&want.indptr));
            // the stored index dtype is kept; indptr is int64 unless indices are int32
            let stored = if dtype == "int64" { "Int64" } else { "UInt32" };
            assert!(format!("{:?}", t.indices).starts_with(stored), "{dtype}");
            assert!(matches!(t.indptr, TypedVec::Int64(_)));
        }
    }
}

#[test]
fn bad_input_is_a_typed_error_naming_the_matrix() {
    let (_s, d, i, indptr) = store_arrays("bad", true);
    let code = |r: zarrs_node_core::Result<SparseTake>| {
        let e = r.unwrap_err();
        assert!(e.message.contains("'X"), "{}", e.message);
        e.code
    };
    assert_eq!(
        code(take(&d, &i, &indptr, &[60], &MinorSelection::All)),
        ErrorCode::OutOfBounds
    );
    assert_eq!(
        code(take(&d, &i, &indptr, &[-61], &MinorSelection::All)),
        ErrorCode::OutOfBounds
    );
    let list = MinorSelection::List(vec![31]);
    assert_eq!(
        code(take(&d, &i, &indptr, &[1], &list)),
        ErrorCode::OutOfBounds
    );
    let reversed = MinorSelection::Range { start: 5, stop: 2 };
    assert_eq!(
        code(take(&d, &i, &indptr, &[1], &reversed)),
        ErrorCode::InvalidSelection
    );
    let past = MinorSelection::Range { start: 0, stop: 32 };
    assert_eq!(
        code(take(&d, &i, &indptr, &[1], &past)),
        ErrorCode::OutOfBounds
    );
    // indptr that decreases, or points past the stored values
    let mut bad = indptr.clone();
    bad[2] = bad[1] - 1;
    assert_eq!(
        code(take(&d, &i, &bad, &[1], &MinorSelection::All)),
        ErrorCode::InvalidMetadata
    );
    let mut bad = indptr.clone();
    *bad.last_mut().unwrap() += 1;
    assert_eq!(
        code(take(&d, &i, &bad, &[59], &MinorSelection::All)),
        ErrorCode::InvalidMetadata
    );
    assert_eq!(
        code(take(&d, &i, &[], &[0], &MinorSelection::All)),
        ErrorCode::InvalidMetadata
    );
    // stored indices past a minor axis given as too short; no length: not checked, but a
    // range or list needs one
    let m = Compressed {
        data: &d,
        indices: &i,
        indptr: Indices::I64(&indptr),
    };
    let never = CancelToken::never();
    let all = MinorSelection::All;
    let short = take_sparse(&m, &[1, 2], &all, Some(2), &never);
    assert_eq!(code(short), ErrorCode::InvalidMetadata);
    assert!(take_sparse(&m, &[1, 2], &all, None, &never).is_ok());
    let no_len = take_sparse(&m, &[1], &MinorSelection::List(vec![0]), None, &never);
    assert_eq!(code(no_len), ErrorCode::InvalidInput);
    // data and indices swapped: float indices
    assert_eq!(
        code(take(&i, &d, &indptr, &[1], &MinorSelection::All)),
        ErrorCode::InvalidMetadata
    );
}

#[test]
fn a_small_take_reads_only_the_covering_inner_chunks() {
    let (s, d, i, indptr) = store_arrays("requests", true);
    let row = 41usize;
    let (lo, hi) = (indptr[row] as u64, indptr[row + 1] as u64);
    let inner = (hi - 1) / 7 - lo / 7 + 1;
    let shards = (d.shape().unwrap()[0]).div_ceil(28);
    assert!(shards > 4, "the arrays span {shards} shards");
    s.reset_stats();
    take(&d, &i, &indptr, &[row as i64], &MinorSelection::All).unwrap();
    // first contact: the shard's index (checked, then read by each decode that misses the
    // cache) and the covering inner chunks; reading the whole arrays would cost a request per
    // shard
    let first = s.stats();
    assert!(first.requests <= 2 * (3 * inner + 2), "{first:?}");
    s.reset_stats();
    take(&d, &i, &indptr, &[row as i64], &MinorSelection::All).unwrap();
    // with the index cached: exactly one request per covering inner chunk of each array
    let st = s.stats();
    assert_eq!(st.requests, 2 * inner, "{st:?}");
    let stored = d.info().unwrap().nbytes_stored + i.info().unwrap().nbytes_stored;
    assert!(
        st.bytes_read * 4 < stored,
        "{st:?} of {stored} stored bytes"
    );
}

#[test]
fn a_damaged_inner_chunk_is_a_codec_error_naming_the_array() {
    // v3 sharded arrays are bytes + zstd: a take decodes only the inner chunks it needs, so a
    // damaged one fails the rows it holds (a codec error naming the matrix), not the others
    let (s, d, i, indptr) = store_arrays("damaged", true);
    assert!(take(&d, &i, &indptr, &[1], &MinorSelection::All).is_ok());
    let mut shard = s.get("X/data/c/0").unwrap().unwrap();
    // the first inner chunk's zstd frame header follows its 4-byte magic number
    for b in &mut shard[4..10] {
        *b ^= 0xff;
    }
    s.set("X/data/c/0", shard).unwrap();
    let d = ZArray::open(&s, "X/data").unwrap();
    let e = take(&d, &i, &indptr, &[1], &MinorSelection::All).unwrap_err();
    assert_eq!(e.code, ErrorCode::Codec, "{e:?}");
    assert!(e.message.contains("X/data"), "{e:?}");
    // rows whose inner chunks are intact still read
    let last = (indptr.len() - 2) as i64;
    let want = take(&d, &i, &indptr, &[last], &MinorSelection::All);
    assert!(want.is_ok(), "{want:?}");
}
