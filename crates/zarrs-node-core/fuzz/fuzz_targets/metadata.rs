//! zarr.json / .zarray (+ .zattrs) / .zmetadata parsing, then opening the node(s) and reading
//! from chunk bytes that follow the document: no panic, and no `Internal` error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zarrs_node_core::node::NodeKind;
use zarrs_node_core::{Consolidated, Mode, ZArray, ZGroup};
use zarrs_node_core_fuzz::{check, fresh_store, put, read_corner};

/// Chunk keys of a 1-D or 2-D array named `a` under the v3 default and both v2 separators.
const CHUNK_KEYS: [&str; 6] = ["a/c/0", "a/c/0/0", "a/0", "a/0.0", "a/0/0", "a/c.0.0"];

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    // 0xff never occurs in JSON text (it is not UTF-8): it separates document and chunk.
    let (doc, chunk) = match rest.iter().position(|&b| b == 0xff) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let store = fresh_store();
    match kind % 3 {
        0 => put(&store, "a/zarr.json", doc),
        1 => {
            put(&store, "a/.zarray", doc);
            put(&store, "a/.zattrs", b"{\"encoding-type\":\"array\"}");
        }
        _ => {
            put(&store, ".zgroup", b"{\"zarr_format\":2}");
            put(&store, ".zmetadata", doc);
        }
    }
    for key in CHUNK_KEYS {
        put(&store, key, chunk);
    }
    if kind % 3 == 2 {
        let Some(g) = check(ZGroup::open(&store, "", Mode::Read, Consolidated::Require)) else {
            return;
        };
        for m in check(g.members()).unwrap_or_default() {
            match m.kind {
                NodeKind::Array => {
                    if let Some(a) = check(g.open_array(&m.name)) {
                        read_corner(&a);
                    }
                }
                NodeKind::Group => {
                    check(g.open_group(&m.name).and_then(|c| c.members()));
                }
            }
        }
    } else if let Some(a) = check(ZArray::open(&store, "a")) {
        read_corner(&a);
    }
});
