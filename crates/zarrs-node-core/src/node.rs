//! Reading node metadata documents (v3 `zarr.json`; v2 `.zarray`/`.zgroup` + `.zattrs`) and
//! preparing a path for a new node (overwrite, existing-node check, missing parent groups).

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

/// Write a JSON document (pretty, like zarr-python).
///
/// # Errors
/// Storage errors.
pub fn put_json(store: &Store, key: &str, v: &Value) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(v)?;
    store.set(key, bytes)
}

/// Read the raw metadata documents of the node at `path`: v3 first, then v2.
///
/// # Errors
/// Storage errors or invalid JSON.
pub fn read_raw(store: &Store, path: &str) -> Result<Option<RawNode>> {
    if let Some(v) = get_json(store, &join(path, "zarr.json"))? {
        return Ok(Some(RawNode::V3(v)));
    }
    for name in [".zarray", ".zgroup"] {
        if let Some(doc) = get_json(store, &join(path, name))? {
            let attrs = get_json(store, &join(path, ".zattrs"))?;
            return Ok(Some(RawNode::V2 { name, doc, attrs }));
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
/// it and everything below), and create missing ancestor groups in `format`.
///
/// # Errors
/// [`ErrorCode::InvalidInput`] when a node exists and `overwrite` is false; storage errors.
pub fn prepare_new_node(store: &Store, path: &str, overwrite: bool, format: u8) -> Result<()> {
    if let Some(existing) = read_raw(store, path)? {
        if !overwrite {
            return Err(Error::invalid_input(format!(
                "a {} already exists at '{path}' (pass overwrite: true to replace it)",
                existing.kind().as_str()
            ))
            .with_key(path.to_string()));
        }
        store.delete_prefix(path)?;
    } else if overwrite {
        // Stray chunks from an earlier node at this path would be read back as data.
        store.delete_prefix(path)?;
    }
    create_missing_parents(store, path, format)
}

fn create_missing_parents(store: &Store, path: &str, format: u8) -> Result<()> {
    if path.is_empty() {
        return Ok(());
    }
    let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
    match read_raw(store, parent)? {
        Some(raw) if raw.kind() == NodeKind::Group => Ok(()),
        Some(_) => Err(Error::new(
            ErrorCode::InvalidInput,
            format!("cannot create '{path}': its parent '{parent}' is an array"),
        )
        .with_key(path.to_string())),
        None => {
            create_missing_parents(store, parent, format)?;
            write_group_metadata(store, parent, format, &Map::new(), None)
        }
    }
}

/// Write a group's metadata document(s). For v3, `base` is the existing document whose other
/// fields (e.g. `consolidated_metadata`) must survive.
///
/// # Errors
/// Storage errors.
pub fn write_group_metadata(
    store: &Store,
    path: &str,
    format: u8,
    attrs: &Map<String, Value>,
    base: Option<&Value>,
) -> Result<()> {
    if format == 3 {
        let mut doc = base
            .cloned()
            .unwrap_or_else(|| json!({ "zarr_format": 3, "node_type": "group" }));
        doc["attributes"] = Value::Object(attrs.clone());
        put_json(store, &join(path, "zarr.json"), &doc)
    } else {
        put_json(store, &join(path, ".zgroup"), &json!({ "zarr_format": 2 }))?;
        put_json(store, &join(path, ".zattrs"), &Value::Object(attrs.clone()))
    }
}
