//! v2 layouts of older writers, written byte by byte here as they laid them out: nodes named
//! `__categories` (anndata <= 0.7; zarrs refuses such names, so these arrays are opened through
//! a view below their path), and arrays this build cannot decode (errors name the array, raw
//! metadata stays readable).

use serde_json::json;
use zarrs_node_core::node::NodeKind;
use zarrs_node_core::{
    CancelToken, Consolidated, ErrorCode, Mode, Store, StoreOptions, TypedVec, ZArray, ZGroup,
};

fn put(root: &std::path::Path, key: &str, bytes: &[u8]) {
    let p = root.join(key);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

const GROUP: &str = r#"{"zarr_format": 2}"#;

fn array_doc(compressor: &serde_json::Value) -> String {
    json!({
        "zarr_format": 2, "shape": [3], "chunks": [3], "dtype": "<i4", "compressor": compressor,
        "fill_value": 0, "filters": null, "order": "C"
    })
    .to_string()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("zn-core-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    root
}

#[test]
fn arrays_below_double_underscore_groups_open_and_read() {
    let root = tmp("reserved");
    put(&root, ".zgroup", GROUP.as_bytes());
    put(&root, "obs/.zgroup", GROUP.as_bytes());
    put(&root, "obs/__categories/.zgroup", GROUP.as_bytes());
    put(
        &root,
        "obs/__categories/cat/.zarray",
        array_doc(&json!(null)).as_bytes(),
    );
    put(
        &root,
        "obs/__categories/cat/.zattrs",
        br#"{"ordered": true}"#,
    );
    let values: Vec<u8> = [7i32, -1, 42]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    put(&root, "obs/__categories/cat/0", &values);

    let store = Store::open(&root.display().to_string(), &StoreOptions::default()).unwrap();
    let obs = ZGroup::open(&store, "obs", Mode::Read, Consolidated::Auto).unwrap();
    let names: Vec<String> = obs.members().unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["__categories"]);
    let cats = obs.open_group("__categories").unwrap();
    let raw = cats.member_metadata("cat").unwrap();
    assert_eq!(raw.kind(), NodeKind::Array);
    assert_eq!(raw.attributes()["ordered"], json!(true));
    assert_eq!(raw.document()["dtype"], json!("<i4"));
    let arr = cats.open_array("cat").unwrap();
    assert_eq!(arr.path(), "obs/__categories/cat");
    let (data, shape) = arr.get(&[], &CancelToken::new()).unwrap();
    assert_eq!(shape, [3]);
    assert!(matches!(data, TypedVec::Int32(v) if v == [7, -1, 42]));
    assert!(cats.member_metadata("nope").is_err());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn arrays_with_an_unknown_codec_are_refused_naming_them() {
    let root = tmp("unknown-codec");
    put(&root, ".zgroup", GROUP.as_bytes());
    put(&root, "uns/.zgroup", GROUP.as_bytes());
    let doc = array_doc(&json!({ "id": "nobody-has-this" }));
    put(&root, "uns/weird/.zarray", doc.as_bytes());
    put(&root, "uns/weird/0", b"\x01\x02");
    let store = Store::open(&root.display().to_string(), &StoreOptions::default()).unwrap();
    let Err(e) = ZArray::open(&store, "uns/weird") else {
        panic!("an unknown codec must not open");
    };
    assert!(matches!(
        e.code,
        ErrorCode::Unsupported | ErrorCode::Codec | ErrorCode::InvalidMetadata
    ));
    assert!(e.message.contains("uns/weird"), "{}", e.message);
    assert_eq!(e.key.as_deref(), Some("uns/weird"));
    let uns = ZGroup::open(&store, "uns", Mode::Read, Consolidated::Auto).unwrap();
    let raw = uns.member_metadata("weird").unwrap();
    assert_eq!(raw.document()["compressor"]["id"], json!("nobody-has-this"));
    std::fs::remove_dir_all(root).unwrap();
}
