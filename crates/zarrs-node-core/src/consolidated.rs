//! Consolidated metadata: writing it (v3 inline `consolidated_metadata` in the root
//! `zarr.json`, v2 `.zmetadata`), reading it into a [`ConsolidatedView`], and keeping it in
//! step with later metadata writes so it is never silently stale.
//!
//! Every metadata write first asks [`before_metadata_write`]: with the store's
//! [`ConsolidatedWrites::Refuse`] policy a write below a consolidated group fails with
//! `ConsolidatedStale` before anything is written; with the default
//! [`ConsolidatedWrites::Update`], [`after_metadata_write`] patches the consolidated copy.
//! Keys are kept exactly (a JSON map is case-sensitive), so `A` and `a` both survive.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::error::{Error, ErrorCode, Result};
use crate::node::{self, get_json, put_json, RawNode};
use crate::store::{join, ConsolidatedWrites, Store};

/// Consolidated metadata read from a group: node path relative to that group -> raw node.
#[derive(Debug, Clone, Default)]
pub struct ConsolidatedView {
    entries: BTreeMap<String, RawNode>,
}

impl ConsolidatedView {
    /// The node at `rel` (relative to the consolidated group), if recorded.
    #[must_use]
    pub fn get(&self, rel: &str) -> Option<&RawNode> {
        self.entries.get(rel)
    }

    /// Direct children of `rel` (`""` is the consolidated group itself), sorted.
    #[must_use]
    pub fn children(&self, rel: &str) -> Vec<(String, &RawNode)> {
        let prefix = if rel.is_empty() {
            String::new()
        } else {
            format!("{rel}/")
        };
        self.entries
            .iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix(&prefix)?;
                (!rest.is_empty() && !rest.contains('/')).then(|| (rest.to_string(), v))
            })
            .collect()
    }

    /// Number of recorded nodes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no nodes are recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Parse the consolidated metadata of a group, if it has any. `zarr_json` is the group's
    /// v3 document; `zmetadata` its v2 `.zmetadata`.
    ///
    /// # Errors
    /// [`ErrorCode::InvalidMetadata`] for a malformed block.
    pub fn from_v3(zarr_json: &Value, path: &str) -> Result<Option<Self>> {
        let Some(cm) = zarr_json
            .get("consolidated_metadata")
            .filter(|v| !v.is_null())
        else {
            return Ok(None);
        };
        let Some(meta) = cm.get("metadata").and_then(Value::as_object) else {
            return Err(
                Error::invalid_metadata("consolidated_metadata has no 'metadata' map")
                    .with_key(join(path, "zarr.json")),
            );
        };
        let entries = meta
            .iter()
            .map(|(k, v)| (k.clone(), RawNode::V3(v.clone())))
            .collect();
        Ok(Some(Self { entries }))
    }

    /// Parse a v2 `.zmetadata` document.
    ///
    /// # Errors
    /// [`ErrorCode::InvalidMetadata`] for a malformed document.
    pub fn from_v2(zmetadata: &Value, path: &str) -> Result<Self> {
        let Some(meta) = zmetadata.get("metadata").and_then(Value::as_object) else {
            return Err(Error::invalid_metadata(".zmetadata has no 'metadata' map")
                .with_key(join(path, ".zmetadata")));
        };
        let mut entries = BTreeMap::new();
        for (k, doc) in meta {
            let (rel, name) = k.rsplit_once('/').unwrap_or(("", k.as_str()));
            let name: &'static str = match name {
                ".zarray" => ".zarray",
                ".zgroup" => ".zgroup",
                _ => continue,
            };
            let attrs = meta.get(&join(rel, ".zattrs")).cloned();
            entries.insert(
                rel.to_string(),
                RawNode::V2 {
                    name,
                    doc: doc.clone(),
                    attrs,
                },
            );
        }
        Ok(Self { entries })
    }
}

/// A node's entry in an inline block: nested groups are described by the enclosing block, so
/// (as zarr-python writes them) they carry an empty one of their own.
fn consolidated_entry(mut v: Value) -> Value {
    if v.get("node_type").and_then(Value::as_str) == Some("group") {
        v["consolidated_metadata"] =
            json!({ "kind": "inline", "must_understand": false, "metadata": {} });
    }
    v
}

/// Consolidate everything below the group at `path` into that group.
///
/// # Errors
/// [`ErrorCode::NotFound`] if `path` is not a group; storage errors.
pub fn consolidate(store: &Store, path: &str) -> Result<()> {
    store.check_writable(path)?;
    let Some(root) = node::read_raw(store, path)? else {
        return Err(Error::not_found(path, format!("no group at '{path}'")));
    };
    if root.kind() != node::NodeKind::Group {
        return Err(
            Error::invalid_input(format!("'{path}' is an array; consolidate a group"))
                .with_key(path),
        );
    }
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let keys = store.list(path)?;
    match root {
        RawNode::V3(mut doc) => {
            let mut meta = Map::new();
            for key in keys.iter().filter(|k| k.ends_with("zarr.json")) {
                let rel = key[prefix.len()..]
                    .trim_end_matches("zarr.json")
                    .trim_end_matches('/');
                if rel.is_empty() || key.rsplit('/').next() != Some("zarr.json") {
                    continue;
                }
                if let Some(v) = get_json(store, key)? {
                    meta.insert(rel.to_string(), consolidated_entry(v));
                }
            }
            doc["consolidated_metadata"] =
                json!({ "kind": "inline", "must_understand": false, "metadata": meta });
            put_json(store, &join(path, "zarr.json"), &doc)
        }
        RawNode::V2 { .. } => {
            let mut meta = Map::new();
            for key in &keys {
                let name = key.rsplit('/').next().unwrap_or_default();
                if matches!(name, ".zarray" | ".zgroup" | ".zattrs") {
                    if let Some(v) = get_json(store, key)? {
                        meta.insert(key[prefix.len()..].to_string(), v);
                    }
                }
            }
            put_json(
                store,
                &join(path, ".zmetadata"),
                &json!({ "metadata": meta, "zarr_consolidated_format": 1 }),
            )
        }
    }
}

/// The group nearest the root whose consolidated metadata describes the node at `path` (which
/// need not exist yet), or `None`: where a write at `path` would make metadata stale.
///
/// # Errors
/// Storage errors.
pub fn outermost_consolidated(store: &Store, path: &str, format: u8) -> Result<Option<String>> {
    Ok(consolidated_ancestors(store, path, format)?
        .into_iter()
        .next()
        .map(|(anc, _, _)| anc))
}

/// Groups whose consolidated metadata describes `path`, root first, with the path of `path`
/// relative to each: strict ancestors, plus (v2) `path` itself, whose own `.zgroup`/`.zattrs`
/// are listed in its `.zmetadata`.
fn consolidated_ancestors(
    store: &Store,
    path: &str,
    format: u8,
) -> Result<Vec<(String, String, Value)>> {
    let mut out = Vec::new();
    let segs: Vec<&str> = if path.is_empty() {
        vec![]
    } else {
        path.split('/').collect()
    };
    let upto = if format == 2 {
        segs.len() + 1
    } else {
        segs.len()
    };
    for i in 0..upto {
        let anc = segs[..i].join("/");
        let rel = segs[i..].join("/");
        let key = if format == 3 {
            join(&anc, "zarr.json")
        } else {
            join(&anc, ".zmetadata")
        };
        if let Some(doc) = get_json(store, &key)? {
            let has = if format == 3 {
                doc.get("consolidated_metadata")
                    .is_some_and(|v| !v.is_null())
            } else {
                true
            };
            if has {
                out.push((anc, rel, doc));
            }
        }
    }
    Ok(out)
}

/// With the `Refuse` policy, fail before a metadata write under a consolidated group.
///
/// # Errors
/// [`ErrorCode::ConsolidatedStale`].
pub fn before_metadata_write(store: &Store, path: &str, format: u8) -> Result<()> {
    if store.consolidated_writes() != ConsolidatedWrites::Refuse {
        return Ok(());
    }
    if let Some((anc, _, _)) = consolidated_ancestors(store, path, format)?
        .into_iter()
        .next()
    {
        return Err(Error::new(
            ErrorCode::ConsolidatedStale,
            format!(
                "'{}' has consolidated metadata that writing '{path}' would make stale; open the store with consolidatedWrites: 'update', or write and then call consolidateMetadata('{anc}')",
                if anc.is_empty() { "/" } else { &anc }
            ),
        )
        .with_key(path));
    }
    Ok(())
}

/// Patch every consolidated ancestor after the metadata of `path` changed. `recreated` means
/// the node was (re)created, so entries of its old descendants are dropped too.
///
/// # Errors
/// Storage errors.
pub fn after_metadata_write(store: &Store, path: &str, recreated: bool) -> Result<()> {
    let Some(raw) = node::read_raw(store, path)? else {
        return Ok(());
    };
    let format = raw.format();
    for (anc, rel, mut doc) in consolidated_ancestors(store, path, format)? {
        let below = if rel.is_empty() {
            String::new()
        } else {
            format!("{rel}/")
        };
        if format == 3 {
            let Some(meta) = doc
                .pointer_mut("/consolidated_metadata/metadata")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            if recreated {
                meta.retain(|k, _| !k.starts_with(&below));
            }
            if let RawNode::V3(v) = &raw {
                meta.insert(rel.clone(), consolidated_entry(v.clone()));
            }
            put_json(store, &join(&anc, "zarr.json"), &doc)?;
        } else {
            let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) else {
                continue;
            };
            meta.retain(|k, _| {
                let own = k.rsplit_once('/').map_or("", |(p, _)| p) == rel;
                let stale_child = recreated && !below.is_empty() && k.starts_with(&below);
                !(own || stale_child)
            });
            if let RawNode::V2 {
                name,
                doc: d,
                attrs,
            } = &raw
            {
                meta.insert(join(&rel, name), d.clone());
                if let Some(a) = attrs {
                    meta.insert(join(&rel, ".zattrs"), a.clone());
                }
            }
            put_json(store, &join(&anc, ".zmetadata"), &doc)?;
        }
    }
    Ok(())
}
