//! AnnData attributes as the TS layer receives them: `.zattrs` of a v2 group or the
//! `attributes` of a v3 `zarr.json`, parsed by the core, handed on as JSON text. Property:
//! parsing never panics, a failure is coded, and the text handed on parses back to the same
//! attributes (so `encoding-type` / `encoding-version` reach the TS registry unchanged).
#![no_main]

use libfuzzer_sys::fuzz_target;
use zarrs_node_core::{Consolidated, Mode, ZGroup};
use zarrs_node_core_fuzz::{check, fresh_store, put};

fuzz_target!(|data: &[u8]| {
    let Some((&kind, attrs)) = data.split_first() else {
        return;
    };
    let store = fresh_store();
    if kind % 2 == 0 {
        put(&store, ".zgroup", b"{\"zarr_format\":2}");
        put(&store, ".zattrs", attrs);
    } else {
        let mut doc = b"{\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":".to_vec();
        doc.extend_from_slice(attrs);
        doc.push(b'}');
        put(&store, "zarr.json", &doc);
    }
    let Some(g) = check(ZGroup::open(&store, "", Mode::Read, Consolidated::Ignore)) else {
        return;
    };
    let text = serde_json::to_string(g.attributes()).expect("attributes serialise");
    let back: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).expect("attribute text parses back");
    assert_eq!(&back, g.attributes(), "attributes changed crossing to JS");
});
