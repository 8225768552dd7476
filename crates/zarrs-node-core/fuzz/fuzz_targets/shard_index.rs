//! Shard index decode: the input is a whole shard (inner chunks, then a bytes + crc32c index)
//! of a small sharded uint16 array, read whole, in part and by points; plus the index alone
//! through the core's own check. No panic, no `Internal` error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zarrs_node_core::precheck;
use zarrs_node_core::{CreateArrayOptions, ZArray};
use zarrs_node_core_fuzz::{check, fresh_store, put, read_corner};

fuzz_target!(|data: &[u8]| {
    let store = fresh_store();
    // Shards of 4x4 with inner chunks of 2x2: a 4-entry index (64 bytes + 4 crc32c).
    let opts: CreateArrayOptions = serde_json::from_value(serde_json::json!({
        "shape": [8, 4], "dtype": "uint16", "chunks": [2, 2], "shards": [4, 4],
        "compressors": [], "zarrFormat": 3
    }))
    .expect("options");
    let Some(a) = check(ZArray::create(&store, "a", &opts)) else {
        panic!("creating the sharded array failed");
    };
    put(&store, "a/c/0/0", data);
    read_corner(&a);
    // The index alone: crc32c-checked decode, then the overflow / bounds check.
    let codecs: Vec<_> = serde_json::from_value(serde_json::json!([
        { "name": "bytes", "configuration": { "endian": "little" } }, { "name": "crc32c" }
    ]))
    .expect("index codecs");
    let n = data.first().map_or(1, |&b| u64::from(b % 8) + 1);
    if let Some(entries) = check(precheck::decode_shard_index(data, codecs.as_slice(), n)) {
        let _ = precheck::shard_index_entries(&entries, Some(data.len() as u64));
    }
});
