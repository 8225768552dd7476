//! The streaming row copy: blocks must tile whole destination shards, source and destination
//! must agree on shape and type, a copy in any block order gives the same stored bytes, and a
//! resumed copy skips exactly the blocks whose shards are stored and sound (a damaged shard is
//! reported by `check_objects` and rewritten).

use crate::common::{self, create};
use serde_json::json;
use zarrs_node_core::copy::{copy_rows, Progress, ZarrRows};
use zarrs_node_core::{CancelToken, DimSpec, ErrorCode, Store, WriteValue, ZArray};

fn store(name: &str) -> Store {
    common::store("copy", name)
}

/// A 100 x 7 float32 source (values = index) and an empty sharded destination of 10-row shards.
fn arrays(s: &Store, dst: &str) -> (ZArray, ZArray) {
    let src = create(
        s,
        "src",
        json!({"shape": [100, 7], "dtype": "float32", "chunks": [9, 7]}),
    );
    let values: Vec<u8> = (0..700u32).flat_map(|v| (v as f32).to_le_bytes()).collect();
    src.set(
        &[DimSpec::All, DimSpec::All],
        WriteValue::Bytes(&values),
        &CancelToken::never(),
    )
    .unwrap();
    let dst = create(
        s,
        dst,
        json!({"shape": [100, 7], "dtype": "float32", "chunks": [5, 7], "shards": [10, 7], "zarrFormat": 3}),
    );
    (src, dst)
}

fn stored(s: &Store, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut keys = s.list(prefix).unwrap();
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let v = s.get(&k).unwrap().unwrap();
            (k, v)
        })
        .collect()
}

#[test]
fn unaligned_blocks_and_mismatched_arrays_are_invalid_input() {
    let s = store("unaligned");
    let (src, dst) = arrays(&s, "dst");
    let rows = ZarrRows::new(&src).unwrap();
    let p = Progress::default();
    let never = CancelToken::never();
    for block in [5..20, 0..15, 0..0, 90..110] {
        let e =
            copy_rows(&rows, &dst, std::slice::from_ref(&block), false, &p, &never).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{block:?}: {e}");
    }
    let other = create(&s, "other", json!({"shape": [100, 6], "dtype": "float32"}));
    let e = copy_rows(&rows, &other, &[0..100], false, &p, &never).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    let ints = create(&s, "ints", json!({"shape": [100, 7], "dtype": "int32"}));
    assert_eq!(
        copy_rows(&rows, &ints, &[0..100], false, &p, &never)
            .unwrap_err()
            .code,
        ErrorCode::InvalidInput
    );
}

#[test]
fn block_order_does_not_change_the_stored_bytes_and_resume_skips_stored_shards() {
    let s = store("order");
    let (src, a) = arrays(&s, "a");
    let b = create(
        &s,
        "b",
        json!({"shape": [100, 7], "dtype": "float32", "chunks": [5, 7], "shards": [10, 7], "zarrFormat": 3}),
    );
    let rows = ZarrRows::new(&src).unwrap();
    let never = CancelToken::never();
    let p = Progress::default();
    let forward: Vec<_> = (0..10).map(|i| i * 10..i * 10 + 10).collect();
    let stats = copy_rows(&rows, &a, &[0..40, 40..100], false, &p, &never).unwrap();
    assert_eq!((stats.written, stats.skipped), (2, 0));
    let backward: Vec<_> = forward.iter().rev().cloned().collect();
    copy_rows(&rows, &b, &backward, false, &p, &never).unwrap();
    let strip = |v: Vec<(String, Vec<u8>)>, prefix: &str| -> Vec<(String, Vec<u8>)> {
        v.into_iter()
            .filter(|(k, _)| !k.ends_with("zarr.json"))
            .map(|(k, v)| (k.trim_start_matches(prefix).to_owned(), v))
            .collect()
    };
    let sa = strip(stored(&s, "a"), "a");
    assert_eq!(sa.len(), 10);
    assert_eq!(sa, strip(stored(&s, "b"), "b"));
    // the values arrived
    let (got, _) = a.get(&[DimSpec::All, DimSpec::All], &never).unwrap();
    let want: Vec<f32> = (0..700).map(|v| v as f32).collect();
    assert_eq!(got.bytes().unwrap(), bytemuck_bytes(&want));

    // Lose three shards, then resume: exactly those blocks are rewritten, to the same bytes.
    for k in ["a/c/2/0", "a/c/5/0", "a/c/9/0"] {
        s.delete(k).unwrap();
    }
    let p = Progress::default();
    let stats = copy_rows(&rows, &a, &forward, true, &p, &never).unwrap();
    assert_eq!((stats.written, stats.skipped), (3, 7));
    assert_eq!(strip(stored(&s, "a"), "a"), sa);
}

#[test]
fn damaged_shards_are_reported_and_rewritten_on_resume() {
    let s = store("damaged");
    let (src, a) = arrays(&s, "a");
    let rows = ZarrRows::new(&src).unwrap();
    let never = CancelToken::never();
    let blocks: Vec<_> = (0..10).map(|i| i * 10..i * 10 + 10).collect();
    copy_rows(&rows, &a, &blocks, false, &Progress::default(), &never).unwrap();
    let check = a.check_objects(&(0..100)).unwrap();
    assert_eq!((check.checked, check.complete()), (10, true));
    let good = stored(&s, "a");

    // One shard with a flipped byte in its index (the crc32c fails), one cut short (its index
    // is gone), one whose index points past its end (the crc32c recomputed, so only the range
    // check can tell), one deleted.
    let mut flipped = s.get("a/c/1/0").unwrap().unwrap();
    let n = flipped.len();
    flipped[n - 10] ^= 0xff;
    s.set("a/c/1/0", flipped).unwrap();
    let short = s.get("a/c/4/0").unwrap().unwrap();
    s.set("a/c/4/0", short[..short.len() - 8].to_vec()).unwrap();
    let mut past = s.get("a/c/6/0").unwrap().unwrap();
    let n = past.len();
    let index = n - 2 * 16 - 4; // 2 inner chunks per shard, then the crc32c
    past[index + 8..index + 16].copy_from_slice(&(n as u64 + 1).to_le_bytes()); // nbytes of chunk 0
    let crc = crc32c::crc32c(&past[index..n - 4]);
    past[n - 4..].copy_from_slice(&crc.to_le_bytes());
    s.set("a/c/6/0", past).unwrap();
    s.delete("a/c/8/0").unwrap();

    let check = a.check_objects(&(0..100)).unwrap();
    assert_eq!(check.checked, 10);
    assert_eq!(check.absent, vec!["a/c/8/0".to_string()]);
    let damaged: Vec<&str> = check.damaged.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        damaged,
        ["a/c/1/0", "a/c/4/0", "a/c/6/0"],
        "{:?}",
        check.damaged
    );
    assert!(
        check.damaged[2].1.contains("ends past the shard"),
        "{:?}",
        check.damaged[2]
    );
    // only rows 30..50 asked: one shard, damaged
    let part = a.check_objects(&(30..50)).unwrap();
    assert_eq!((part.checked, part.damaged.len()), (2, 1));

    let stats = copy_rows(&rows, &a, &blocks, true, &Progress::default(), &never).unwrap();
    assert_eq!((stats.written, stats.skipped), (4, 6));
    assert_eq!(stored(&s, "a"), good);
    assert!(a.check_objects(&(0..100)).unwrap().complete());
}

#[test]
fn a_cancelled_copy_is_aborted() {
    let s = store("cancel");
    let (src, dst) = arrays(&s, "dst");
    let rows = ZarrRows::new(&src).unwrap();
    let cancel = CancelToken::new();
    cancel.cancel();
    let e = copy_rows(&rows, &dst, &[0..100], false, &Progress::default(), &cancel).unwrap_err();
    assert_eq!(e.code, ErrorCode::Aborted);
}

fn bytemuck_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
