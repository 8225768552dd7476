//! The h5ad source against what h5py reads from the same files (written by anndata 0.5-era,
//! 0.7.0, 0.7.8, 0.11.4, 0.12.19 and 0.13.4 with none/gzip/lzf): shapes, dtypes, chunking,
//! filters, values (FNV-1a of the bytes, read in row blocks) and dataset attributes; plus
//! truncated and bit-flipped files, which must give typed errors and never a panic.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;
use zarrs_node_core::dtype::TypedVec;
use zarrs_node_core::error::ErrorCode;
use zarrs_node_core::source::h5ad::H5adSource;
use zarrs_node_core::source::{ElementType, NodeKind, Source};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../__test__/fixtures/h5ad");
/// Rows per read: small, so every array is read in several hyperslabs across chunk edges.
const BLOCK: u64 = 7;

fn manifest() -> serde_json::Map<String, Value> {
    let text =
        std::fs::read_to_string(Path::new(FIXTURES).join("manifest.json")).expect("manifest");
    serde_json::from_str(&text).expect("manifest json")
}

/// Unpack `<name>.gz` into a per-test temp dir and return the .h5ad path.
fn unpack(name: &str, tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zarrs-node-h5ad-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let out = dir.join(name.trim_end_matches(".gz"));
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(Path::new(FIXTURES).join(name)).expect("open"),
    )
    .read_to_end(&mut bytes)
    .expect("gunzip");
    std::fs::write(&out, bytes).expect("write");
    out
}

struct Fnv(u64);
impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn typed(&mut self, v: &TypedVec) {
        macro_rules! le {
            ($xs:expr) => {
                for x in $xs {
                    self.update(&x.to_le_bytes());
                }
            };
        }
        match v {
            TypedVec::Bool(x) | TypedVec::UInt8(x) => self.update(x),
            TypedVec::Int8(x) => le!(x),
            TypedVec::Int16(x) => le!(x),
            TypedVec::Int32(x) => le!(x),
            TypedVec::Int64(x) => le!(x),
            TypedVec::UInt16(x) | TypedVec::Float16(x) => le!(x),
            TypedVec::UInt32(x) => le!(x),
            TypedVec::UInt64(x) => le!(x),
            TypedVec::Float32(x) => le!(x),
            TypedVec::Float64(x) => le!(x),
            TypedVec::String(x) => {
                for s in x {
                    self.update(s.as_bytes());
                    self.update(&[0]);
                }
            }
            TypedVec::Bytes(x) => {
                for b in x {
                    self.update(b);
                    self.update(&[0]);
                }
            }
        }
    }
}

/// Read every row of `path` in blocks of [`BLOCK`] and hash them in order.
fn hash_rows(src: &H5adSource, path: &str, n_rows: u64) -> String {
    let mut fnv = Fnv::new();
    let mut start = 0;
    while start < n_rows {
        let end = (start + BLOCK).min(n_rows);
        let block = src
            .read_rows(path, start..end)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        fnv.typed(&block);
        start = end;
    }
    format!("{:016x}", fnv.0)
}

/// anndata writes a one-element array attribute where we read a scalar (documented limit).
fn same_attr(ours: &Value, theirs: &Value) -> bool {
    match theirs {
        Value::Array(items) if items.len() == 1 => ours == theirs || ours == &items[0],
        _ => ours == theirs,
    }
}

/// Compare the attributes of `node` with h5py's; returns how many were compared. Only object
/// references (anndata 0.5-era categoricals) are out of reach, as `Unsupported`.
fn check_attrs(src: &H5adSource, node: &str, entry: &Value, ctx: &str) -> usize {
    let want = entry["attrs"].as_object().expect("attrs");
    match src.attributes(node) {
        Ok(ours) => {
            assert_eq!(ours.len(), want.len(), "{ctx}: {ours:?}");
            for (k, v) in want {
                assert!(same_attr(&ours[k], v), "{ctx}@{k}: {} vs {v}", ours[k]);
            }
            want.len()
        }
        Err(e) => {
            assert_eq!(e.code, ErrorCode::Unsupported, "{ctx}: {e}");
            let is_ref = |v: &Value| v.get("$ref").is_some();
            assert!(
                want.values()
                    .any(|v| is_ref(v) || v.as_array().is_some_and(|a| a.iter().any(is_ref))),
                "{ctx}: {e}"
            );
            0
        }
    }
}

#[test]
fn h5ad_reads_match_h5py() {
    let manifest = manifest();
    assert!(manifest.len() >= 11, "fixtures missing");
    let mut checked_arrays = 0;
    let mut checked_attrs = 0;
    for (file, entries) in &manifest {
        let path = unpack(file, "match");
        let src = H5adSource::open(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        for (node, entry) in entries.as_object().expect("entries") {
            let ctx = format!("{file}:{node}");
            match entry["kind"].as_str() {
                Some("group") => {
                    assert_eq!(src.kind(node).expect(&ctx), NodeKind::Group, "{ctx}");
                    let names: Vec<String> = src
                        .children(node)
                        .expect(&ctx)
                        .into_iter()
                        .map(|c| c.name)
                        .collect();
                    let want: Vec<String> =
                        serde_json::from_value(entry["children"].clone()).expect("children");
                    assert_eq!(names, want, "{ctx}");
                    checked_attrs += check_attrs(&src, node, entry, &ctx);
                }
                Some("array") => {
                    let info = src.array_info(node).expect(&ctx);
                    let shape: Vec<u64> =
                        serde_json::from_value(entry["shape"].clone()).expect("shape");
                    assert_eq!(info.shape, shape, "{ctx}");
                    let chunks: Option<Vec<u64>> =
                        serde_json::from_value(entry["chunks"].clone()).expect("chunks");
                    assert_eq!(info.chunks, chunks, "{ctx}");
                    if let Some(c) = entry["compression"].as_str() {
                        assert!(
                            info.filters.iter().any(|f| f == c),
                            "{ctx}: {:?}",
                            info.filters
                        );
                    } else {
                        assert!(
                            !info.filters.iter().any(|f| f == "gzip" || f == "lzf"),
                            "{ctx}"
                        );
                    }
                    let dtype = entry["dtype"].as_str().expect("dtype");
                    match &info.element {
                        ElementType::Record(fields) => {
                            assert_eq!(dtype, "compound", "{ctx}");
                            assert!(!fields.is_empty(), "{ctx}");
                        }
                        ElementType::Scalar(d) => {
                            assert_eq!(d.name(), dtype, "{ctx}");
                            let n_rows = shape.first().copied().unwrap_or(1);
                            assert_eq!(hash_rows(&src, node, n_rows), entry["fnv"], "{ctx}");
                            checked_arrays += 1;
                        }
                    }
                    checked_attrs += check_attrs(&src, node, entry, &ctx);
                }
                other => panic!("{ctx}: kind {other:?}"),
            }
        }
    }
    assert!(checked_arrays > 400, "{checked_arrays}");
    assert!(checked_attrs > 100, "{checked_attrs}");
}

/// The converter reads from worker threads; `rust-hdf5`'s `threadsafe` feature provides this.
#[test]
fn source_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<H5adSource>();
}

#[test]
fn read_rows_bounds_and_missing_nodes_are_typed() {
    let path = unpack("ad0.12.19-gzip.h5ad.gz", "bounds");
    let src = H5adSource::open(&path).expect("open");
    let err = src
        .read_rows("/X/data", 0..1_000_000)
        .expect_err("past end");
    assert_eq!(err.code, ErrorCode::OutOfBounds);
    assert_eq!(err.key.as_deref(), Some("/X/data"));
    let err = src.array_info("/obs/nope").expect_err("missing");
    assert_eq!(err.code, ErrorCode::NotFound);
    assert!(err.message.contains("obs/nope"), "{}", err.message);
    let err = H5adSource::open(path.with_extension("missing")).expect_err("no file");
    assert_eq!(err.code, ErrorCode::NotFound);
    // A dense 2-D block: rows x all columns.
    let TypedVec::Float64(block) = src.read_rows("/layers/dense", 3..5).expect("dense") else {
        panic!("dtype")
    };
    assert_eq!(block.len(), 2 * 24);
}

/// Open and read everything; return the error codes met (reads that fail are fine, panics
/// and `Internal` are not).
fn walk(path: &Path) -> Vec<ErrorCode> {
    let mut codes = Vec::new();
    let src = match H5adSource::open(path) {
        Ok(s) => s,
        Err(e) => return vec![e.code],
    };
    let mut stack = vec!["/".to_owned()];
    while let Some(group) = stack.pop() {
        let children = match src.children(&group) {
            Ok(c) => c,
            Err(e) => {
                codes.push(e.code);
                continue;
            }
        };
        for child in children {
            let p = format!("{}/{}", group.trim_end_matches('/'), child.name);
            match child.kind {
                NodeKind::Group => stack.push(p),
                NodeKind::Array => match src.array_info(&p) {
                    Ok(info) => {
                        let n = info.shape.first().copied().unwrap_or(1);
                        if let Err(e) = src.read_rows(&p, 0..n) {
                            codes.push(e.code);
                        }
                        if let Err(e) = src.attributes(&p) {
                            codes.push(e.code);
                        }
                    }
                    Err(e) => codes.push(e.code),
                },
            }
        }
    }
    codes
}

#[test]
fn corrupt_and_truncated_files_give_typed_errors() {
    for name in [
        "ad0.12.19-gzip.h5ad.gz",
        "ad0.13.4-lzf.h5ad.gz",
        "archive-v0.7.8.h5ad.gz",
    ] {
        let clean = unpack(name, "corrupt");
        let bytes = std::fs::read(&clean).expect("read");
        assert!(!walk(&clean).contains(&ErrorCode::Internal));
        let damaged = clean.with_extension("damaged.h5ad");
        let len = bytes.len();
        for cut in [0, 7, 64, 512, 2048, len / 4, len / 2, len - 4096, len - 1] {
            std::fs::write(&damaged, &bytes[..cut]).expect("write");
            let codes = walk(&damaged);
            assert!(
                !codes.is_empty(),
                "{name} cut at {cut}: read without any error"
            );
            assert!(
                !codes.contains(&ErrorCode::Internal),
                "{name} cut at {cut}: {codes:?}"
            );
        }
        // Deterministic pseudo-random flips (xorshift), one damaged copy per flip.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..60 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % len as u64) as usize;
            let mut copy = bytes.clone();
            copy[at] ^= 1 << (state >> 60 & 7);
            std::fs::write(&damaged, &copy).expect("write");
            let codes = walk(&damaged);
            assert!(
                !codes.contains(&ErrorCode::Internal),
                "{name} flip at {at}: {codes:?}"
            );
        }
    }
}
