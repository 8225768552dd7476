//! Reading node metadata documents (v3 `zarr.json`; v2 `.zarray`/`.zgroup` + `.zattrs`) and
//! preparing a path for a new node (overwrite, existing-node check, missing parent groups).

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use zarrs::array::ArrayMetadata;

use crate::error::{Error, ErrorCode, Result};
use crate::store::{join, Store};

/// What kind of node a path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// An array.
    Array,
    /// A group.
    Group,
}

impl NodeKind {
    /// `"array"` / `"group"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Array => "array",
            Self::Group => "group",
        }
    }
}

/// Parsed metadata of one node.
#[derive(Debug, Clone)]
pub enum NodeMeta {
    /// Array metadata as zarrs understands it.
    Array(Box<ArrayMetadata>),
    /// Group metadata.
    Group {
        /// 2 or 3.
        format: u8,
        /// User attributes.
        attributes: Map<String, Value>,
    },
}

/// Raw documents of one node as stored: `zarr.json` for v3, or the v2 trio.
#[derive(Debug, Clone, PartialEq)]
pub enum RawNode {
    /// v3 `zarr.json`.
    V3(Value),
    /// v2: `.zarray` or `.zgroup` document (with its file name) and `.zattrs` if present.
    V2 {
        /// `.zarray` or `.zgroup`.
        name: &'static str,
        /// The document.
        doc: Value,
        /// `.zattrs`, if stored.
        attrs: Option<Value>,
    },
}

impl RawNode {
    /// Kind of node.
    #[must_use]
    pub fn kind(&self) -> NodeKind {
        match self {
            Self::V3(v) if v.get("node_type").and_then(Value::as_str) == Some("array") => {
                NodeKind::Array
            }
            Self::V3(_) => NodeKind::Group,
            Self::V2 {
                name: ".zarray", ..
            } => NodeKind::Array,
            Self::V2 { .. } => NodeKind::Group,
        }
    }

    /// User attributes as stored (not validated; `{}` when absent or not an object).
    #[must_use]
    pub fn attributes(&self) -> Map<String, Value> {
        let attrs = match self {
            Self::V3(v) => v.get("attributes"),
            Self::V2 { attrs, .. } => attrs.as_ref(),
        };
        attrs_of(attrs).unwrap_or_default()
    }

    /// The metadata document: `zarr.json`, or the v2 `.zarray` / `.zgroup`.
    #[must_use]
    pub fn document(&self) -> &Value {
        match self {
            Self::V3(v) => v,
            Self::V2 { doc, .. } => doc,
        }
    }

    /// 2 or 3.
    #[must_use]
    pub fn format(&self) -> u8 {
        match self {
            Self::V3(_) => 3,
            Self::V2 { .. } => 2,
        }
    }

    /// Parse into [`NodeMeta`].
    ///
    /// # Errors
    /// [`ErrorCode::InvalidMetadata`] naming `key`.
    pub fn parse(self, path: &str) -> Result<NodeMeta> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            Error::invalid_metadata(format!("invalid {what} for '{path}': {e}"))
                .with_key(path.to_string())
        };
        match self {
            Self::V3(v) => {
                let format = v.get("zarr_format").and_then(Value::as_u64);
                if format != Some(3) {
                    return Err(bad("zarr.json", &"zarr_format must be 3"));
                }
                match v.get("node_type").and_then(Value::as_str) {
                    Some("array") => Ok(NodeMeta::Array(Box::new(ArrayMetadata::V3(
                        serde_json::from_value(v).map_err(|e| bad("zarr.json", &e))?,
                    )))),
                    Some("group") => Ok(NodeMeta::Group {
                        format: 3,
                        attributes: attrs_of(v.get("attributes"))
                            .map_err(|e| bad("zarr.json", &e))?,
                    }),
                    _ => Err(bad("zarr.json", &"node_type must be 'array' or 'group'")),
                }
            }
            Self::V2 { name, doc, attrs } => {
                let attributes = attrs_of(attrs.as_ref()).map_err(|e| bad(".zattrs", &e))?;
                if name == ".zarray" {
                    let mut doc = doc;
                    crate::numpy::prepare_v2(&mut doc, path)?;
                    if let Value::Object(o) = &mut doc {
                        o.insert("attributes".into(), Value::Object(attributes));
                    }
                    Ok(NodeMeta::Array(Box::new(ArrayMetadata::V2(
                        serde_json::from_value(doc).map_err(|e| bad(".zarray", &e))?,
                    ))))
                } else {
                    if doc.get("zarr_format").and_then(Value::as_u64) != Some(2) {
                        return Err(bad(".zgroup", &"zarr_format must be 2"));
                    }
                    Ok(NodeMeta::Group {
                        format: 2,
                        attributes,
                    })
                }
            }
        }
    }
}

/// Rewrite valid metadata that zarrs would mishandle into an equivalent form zarrs accepts.
///
/// A 0-d v2 array with `"order": "F"` (zarr-python writes it) makes zarrs 0.23.14 build an empty
/// transpose order with `unwrap_unchecked` in `create_codec_chain_from_v2`, which aborts the
/// process. With no dimensions both orders lay out the one element identically, so it is "C".
#[must_use]
pub fn normalize_array_metadata(meta: ArrayMetadata) -> ArrayMetadata {
    match meta {
        ArrayMetadata::V2(mut v2) if v2.shape.is_empty() => {
            v2.order = zarrs::metadata::v2::ArrayMetadataV2Order::C;
            ArrayMetadata::V2(v2)
        }
        other => other,
    }
}

fn attrs_of(v: Option<&Value>) -> std::result::Result<Map<String, Value>, String> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o.clone()),
        Some(_) => Err("attributes must be a JSON object".into()),
    }
}

/// Read and parse a JSON document; `None` when absent.
///
/// # Errors
/// Storage errors, or [`ErrorCode::InvalidMetadata`] for invalid JSON.
pub fn get_json(store: &Store, key: &str) -> Result<Option<Value>> {
    match store.get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::invalid_metadata(format!("'{key}' is not valid JSON: {e}")).with_key(key)
        }),
    }
}

/// Write a JSON document as zarr-python spells it: pretty; zarr v2 documents exactly in
/// Python's `json.dumps` form (see [`crate::pyjson`]).
///
/// # Errors
/// Storage errors.
pub fn put_json(store: &Store, key: &str, v: &Value) -> Result<()> {
    let bytes = match key.rsplit('/').next().unwrap_or(key) {
        ".zarray" | ".zattrs" | ".zgroup" => crate::pyjson::to_vec(v, true)?,
        ".zmetadata" => crate::pyjson::to_vec(v, false)?,
        _ => serde_json::to_vec_pretty(v)?,
    };
    store.set(key, bytes)
}

/// JSON documents already read during one metadata write, by key (`None`: absent), so the
/// checks before a write (existing node, parent group, consolidated ancestors) fetch each once.
#[derive(Debug, Default)]
pub struct Seen(HashMap<String, Option<Value>>);

impl Seen {
    /// [`get_json`], answered from earlier reads when possible.
    ///
    /// # Errors
    /// As [`get_json`].
    pub fn get_json(&mut self, store: &Store, key: &str) -> Result<Option<Value>> {
        if let Some(v) = self.0.get(key) {
            return Ok(v.clone());
        }
        let v = get_json(store, key)?;
        self.0.insert(key.to_string(), v.clone());
        Ok(v)
    }
}

/// Read the raw metadata documents of the node at `path`: v3 first, then v2.
///
/// # Errors
/// Storage errors or invalid JSON.
pub fn read_raw(store: &Store, path: &str) -> Result<Option<RawNode>> {
    read_raw_format(store, path, None)
}

/// [`read_raw`] restricted to one format (`Some(2)` or `Some(3)`): a store may hold both a
/// `.zarray` and a `zarr.json` for the same node, and the caller picks which one it means.
///
/// # Errors
/// Storage errors or invalid JSON.
pub fn read_raw_format(store: &Store, path: &str, format: Option<u8>) -> Result<Option<RawNode>> {
    if format != Some(2) {
        if let Some(v) = get_json(store, &join(path, "zarr.json"))? {
            return Ok(Some(RawNode::V3(v)));
        }
    }
    if format == Some(3) {
        return Ok(None);
    }
    for name in [".zarray", ".zgroup"] {
        if let Some(doc) = get_json(store, &join(path, name))? {
            let attrs = get_json(store, &join(path, ".zattrs"))?;
            return Ok(Some(RawNode::V2 { name, doc, attrs }));
        }
    }
    Ok(None)
}

/// The error for a path with no metadata document: absent (`NotFound` with `absent`'s
/// message) unless keys are stored below it. A node whose `zarr.json` / `.zarray` / `.zgroup`
/// was lost must not read as a missing element, so that is [`ErrorCode::InvalidMetadata`].
///
/// The listing only refines the error: when it fails (e.g. a store directory that does not
/// exist), the answer stays "absent".
#[must_use]
pub fn missing_node_error(store: &Store, path: &str, absent: String) -> Error {
    let keys = store.list(path).unwrap_or_default();
    match keys.first() {
        None => Error::not_found(path.to_string(), absent),
        Some(first) => orphan_error(path, keys.len(), first),
    }
}

/// [`ErrorCode::InvalidMetadata`] for a node path holding `n` keys (the first `first`) but no
/// metadata document.
#[must_use]
pub fn orphan_error(path: &str, n: usize, first: &str) -> Error {
    let shown = if path.is_empty() { "/" } else { path };
    Error::invalid_metadata(format!(
        "'{shown}' holds {n} stored key(s) (e.g. '{first}') but no zarr.json, .zarray or .zgroup: its metadata is missing"
    ))
    .with_key(path.to_string())
}

/// What kind of node `path` holds, trying the documents of `format` first: fewer requests
/// than [`read_raw`] (no `.zattrs`; one GET for a group of the expected format).
fn kind_seen(store: &Store, path: &str, format: u8, seen: &mut Seen) -> Result<Option<NodeKind>> {
    let names = if format == 2 {
        [".zgroup", ".zarray", "zarr.json"]
    } else {
        ["zarr.json", ".zgroup", ".zarray"]
    };
    for name in names {
        if let Some(doc) = seen.get_json(store, &join(path, name))? {
            return Ok(Some(match name {
                "zarr.json" => RawNode::V3(doc).kind(),
                ".zgroup" => NodeKind::Group,
                _ => NodeKind::Array,
            }));
        }
    }
    Ok(None)
}

/// Read and parse the node at `path`.
///
/// # Errors
/// Storage errors or invalid metadata.
pub fn read_node(store: &Store, path: &str) -> Result<Option<NodeMeta>> {
    read_raw(store, path)?.map(|r| r.parse(path)).transpose()
}

/// Make `path` ready for a new node: refuse if one exists (unless `overwrite`, which deletes
/// it and everything below), and create missing ancestor groups in `format`. Returns the
/// groups it created, parents first, so consolidated metadata can record them too.
///
/// # Errors
/// [`ErrorCode::InvalidInput`] when a node exists and `overwrite` is false; storage errors.
pub fn prepare_new_node(
    store: &Store,
    path: &str,
    overwrite: bool,
    format: u8,
    seen: &mut Seen,
) -> Result<Vec<(String, RawNode)>> {
    if let Some(existing) = kind_seen(store, path, format, seen)? {
        if !overwrite {
            return Err(Error::invalid_input(format!(
                "a {} already exists at '{path}' (pass overwrite: true to replace it)",
                existing.as_str()
            ))
            .with_key(path.to_string()));
        }
        store.delete_prefix(path)?;
        // Consolidated metadata at or below `path` may be gone: group views must look again.
        store.metadata_lock().regrouped();
    } else if overwrite {
        // Stray chunks from an earlier node at this path would be read back as data.
        store.delete_prefix(path)?;
    }
    let mut created = Vec::new();
    create_missing_parents(store, path, format, seen, &mut created)?;
    Ok(created)
}

fn create_missing_parents(
    store: &Store,
    path: &str,
    format: u8,
    seen: &mut Seen,
    created: &mut Vec<(String, RawNode)>,
) -> Result<()> {
    if path.is_empty() {
        return Ok(());
    }
    let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
    match kind_seen(store, parent, format, seen)? {
        Some(NodeKind::Group) => Ok(()),
        Some(_) => Err(Error::new(
            ErrorCode::InvalidInput,
            format!("cannot create '{path}': its parent '{parent}' is an array"),
        )
        .with_key(path.to_string())),
        // The root of an unfinished conversion is written last, by `finalize`: creating it
        // here would make the partial store open as complete.
        None if parent.is_empty() && store.get(crate::group::UNFINISHED_KEY)?.is_some() => Ok(()),
        None => {
            create_missing_parents(store, parent, format, seen, created)?;
            let raw = write_group_metadata(store, parent, format, &Map::new(), None)?;
            created.push((parent.to_string(), raw));
            Ok(())
        }
    }
}

/// Write a group's metadata document(s) and return them. For v3, `base` is the existing
/// document whose other fields (e.g. `consolidated_metadata`) must survive.
///
/// # Errors
/// Storage errors.
pub fn write_group_metadata(
    store: &Store,
    path: &str,
    format: u8,
    attrs: &Map<String, Value>,
    base: Option<&Value>,
) -> Result<RawNode> {
    if format == 3 {
        let mut doc = base
            .cloned()
            .unwrap_or_else(|| json!({ "zarr_format": 3, "node_type": "group" }));
        doc["attributes"] = Value::Object(attrs.clone());
        put_json(store, &join(path, "zarr.json"), &doc)?;
        Ok(RawNode::V3(doc))
    } else {
        let doc = json!({ "zarr_format": 2 });
        let attrs = Value::Object(attrs.clone());
        put_json(store, &join(path, ".zgroup"), &doc)?;
        put_json(store, &join(path, ".zattrs"), &attrs)?;
        Ok(RawNode::V2 {
            name: ".zgroup",
            doc,
            attrs: Some(attrs),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    fn open(location: &str) -> Store {
        Store::open(location, &StoreOptions::default()).unwrap()
    }

    fn put(store: &Store, key: &str, v: &Value) {
        put_json(store, key, v).unwrap();
    }

    #[test]
    fn reads_v3_then_v2() {
        let store = open("memory://node-read");
        put(
            &store,
            "a/zarr.json",
            &json!({ "zarr_format": 3, "node_type": "group" }),
        );
        put(&store, "b/.zgroup", &json!({ "zarr_format": 2 }));
        put(&store, "b/.zattrs", &json!({ "k": 1 }));
        let a = read_raw(&store, "a").unwrap().unwrap();
        assert_eq!((a.kind(), a.format()), (NodeKind::Group, 3));
        let b = read_raw(&store, "b").unwrap().unwrap();
        assert_eq!((b.kind(), b.format()), (NodeKind::Group, 2));
        match read_node(&store, "b").unwrap().unwrap() {
            NodeMeta::Group { format, attributes } => {
                assert_eq!(format, 2);
                assert_eq!(attributes["k"], 1);
            }
            NodeMeta::Array(_) => panic!("b is a group"),
        }
        assert!(read_raw(&store, "c").unwrap().is_none());
    }

    #[test]
    fn bad_documents_name_their_key() {
        let store = open("memory://node-bad");
        store.set("j/zarr.json", b"{not json".to_vec()).unwrap();
        let e = read_raw(&store, "j").unwrap_err();
        assert_eq!(
            (e.code, e.key.as_deref()),
            (ErrorCode::InvalidMetadata, Some("j/zarr.json"))
        );
        for (doc, code) in [
            (
                json!({ "zarr_format": 2, "node_type": "group" }),
                ErrorCode::InvalidMetadata,
            ),
            (
                json!({ "zarr_format": 3, "node_type": "other" }),
                ErrorCode::InvalidMetadata,
            ),
            (
                json!({ "zarr_format": 3, "node_type": "group", "attributes": [] }),
                ErrorCode::InvalidMetadata,
            ),
        ] {
            let e = RawNode::V3(doc).parse("p").unwrap_err();
            assert_eq!((e.code, e.key.as_deref()), (code, Some("p")));
        }
        // structured dtypes read (crate::numpy), but not a field that is itself a record
        let structured = RawNode::V2 {
            name: ".zarray",
            doc: json!({ "dtype": [["a", [["x", "<f8"]]]] }),
            attrs: None,
        };
        assert_eq!(
            structured.parse("r").unwrap_err().code,
            ErrorCode::Unsupported
        );
    }

    #[test]
    fn prepare_refuses_replaces_and_creates_parents() {
        let store = open("memory://node-prepare");
        let created = prepare_new_node(&store, "a/b/c", false, 3, &mut Seen::default()).unwrap();
        let paths: Vec<&str> = created.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["", "a", "a/b"]);
        for (p, raw) in &created {
            assert_eq!(read_raw(&store, p).unwrap().as_ref(), Some(raw));
        }
        // An existing node is refused without overwrite, and removed with all below it.
        put(
            &store,
            "a/b/c/zarr.json",
            &json!({ "zarr_format": 3, "node_type": "group" }),
        );
        store.set("a/b/c/stray", vec![1]).unwrap();
        let e = prepare_new_node(&store, "a/b/c", false, 3, &mut Seen::default()).unwrap_err();
        assert_eq!(
            (e.code, e.key.as_deref()),
            (ErrorCode::InvalidInput, Some("a/b/c"))
        );
        assert!(
            prepare_new_node(&store, "a/b/c", true, 3, &mut Seen::default())
                .unwrap()
                .is_empty()
        );
        assert!(store.list("a/b/c").unwrap().is_empty());
        // Stray chunks of an earlier node go with overwrite even when no metadata is left.
        store.set("a/b/d/c/0", vec![1]).unwrap();
        prepare_new_node(&store, "a/b/d", true, 3, &mut Seen::default()).unwrap();
        assert!(store.list("a/b/d").unwrap().is_empty());
        // Nothing can be created below an array.
        put(
            &store,
            "arr/zarr.json",
            &json!({ "zarr_format": 3, "node_type": "array" }),
        );
        let e = prepare_new_node(&store, "arr/x", false, 3, &mut Seen::default()).unwrap_err();
        assert_eq!(
            (e.code, e.key.as_deref()),
            (ErrorCode::InvalidInput, Some("arr/x"))
        );
    }

    #[test]
    fn v2_parents_are_v2_groups() {
        let store = open("memory://node-prepare-v2");
        let created = prepare_new_node(&store, "g/x", false, 2, &mut Seen::default()).unwrap();
        assert_eq!(created.len(), 2);
        assert_eq!(
            store.list("").unwrap(),
            [".zattrs", ".zgroup", "g/.zattrs", "g/.zgroup"]
        );
    }

    #[test]
    fn seen_reads_each_document_once() {
        let store = open("memory://node-seen");
        put(
            &store,
            "zarr.json",
            &json!({ "zarr_format": 3, "node_type": "group" }),
        );
        store.reset_stats();
        let mut seen = Seen::default();
        for _ in 0..3 {
            assert!(seen.get_json(&store, "zarr.json").unwrap().is_some());
            assert!(seen.get_json(&store, "absent.json").unwrap().is_none());
        }
        assert_eq!(store.stats().requests, 2);
    }
}
