//! Consolidated metadata: writing it (v3 inline `consolidated_metadata` in the root
//! `zarr.json`, v2 `.zmetadata`), reading it into a [`ConsolidatedView`], and keeping it in
//! step with later metadata writes so it is never silently stale.
//!
//! Every metadata write is a [`MetadataWrite`]: with the store's [`ConsolidatedWrites::Refuse`]
//! policy a write below a consolidated group fails with `ConsolidatedStale` before anything is
//! written; with the default [`ConsolidatedWrites::Update`], its `finish` patches the
//! consolidated copy under the store's metadata lock, so concurrent writers lose no entry.
//! Keys are kept exactly (a JSON map is case-sensitive), so `A` and `a` both survive.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::error::{Error, ErrorCode, Result};
use crate::node::{self, get_json, put_json, RawNode, Seen};
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
    // Under the lock, a write either finished its patch before the listing or sees the change
    // counter move and patches the new document (see `MetadataWrite::finish`).
    let _guard = store.metadata_lock().lock();
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
    let written = match root {
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
    };
    store.metadata_lock().regrouped();
    written
}

/// The group nearest the root whose consolidated metadata describes the node at `path` (which
/// need not exist yet), or `None`: where a write at `path` would make metadata stale.
///
/// # Errors
/// Storage errors.
pub fn outermost_consolidated(store: &Store, path: &str, format: u8) -> Result<Option<String>> {
    Ok(
        consolidated_ancestors(store, path, format, &mut Seen::default())?
            .into_iter()
            .next()
            .map(|(anc, _)| anc),
    )
}

/// The document that holds a group's consolidated metadata.
fn consolidated_key(group: &str, format: u8) -> String {
    join(
        group,
        if format == 3 {
            "zarr.json"
        } else {
            ".zmetadata"
        },
    )
}

/// Groups whose consolidated metadata describes `path`, root first, with the path of `path`
/// relative to each: strict ancestors, plus (v2) `path` itself, whose own `.zgroup`/`.zattrs`
/// are listed in its `.zmetadata`. Documents read are left in `seen`.
fn consolidated_ancestors(
    store: &Store,
    path: &str,
    format: u8,
    seen: &mut Seen,
) -> Result<Vec<(String, String)>> {
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
        if let Some(doc) = seen.get_json(store, &consolidated_key(&anc, format))? {
            let has = format == 2
                || doc
                    .get("consolidated_metadata")
                    .is_some_and(|v| !v.is_null());
            if has {
                out.push((anc, segs[i..].join("/")));
            }
        }
    }
    Ok(out)
}

/// `node` relative to `group`, if `group` is `node` or above it.
fn relative<'a>(group: &str, node: &'a str) -> Option<&'a str> {
    if group.is_empty() {
        return Some(node);
    }
    match node.strip_prefix(group)? {
        "" => Some(""),
        rest => rest.strip_prefix('/'),
    }
}

/// One metadata write at a path, from the checks before it to the patches of consolidated
/// metadata after it. The ancestors are read once, before writing; the consolidated documents
/// are re-read and patched under the store's metadata lock, so concurrent writers in this
/// process never lose each other's entries.
pub struct MetadataWrite {
    path: String,
    format: u8,
    /// Consolidated groups above the path (group, path relative to it), root first.
    consolidated: Vec<(String, String)>,
    /// The metadata lock's regrouping counter when `consolidated` was read.
    regroupings: u64,
    /// Documents read so far (the parent check reuses the ancestors' `zarr.json`).
    pub seen: Seen,
}

impl MetadataWrite {
    /// Find the consolidated groups above `path`; with the `Refuse` policy, fail if there are
    /// any, before anything is written.
    ///
    /// # Errors
    /// [`ErrorCode::ConsolidatedStale`]; storage errors.
    pub fn begin(store: &Store, path: &str, format: u8) -> Result<Self> {
        let regroupings = store.metadata_lock().regroupings();
        let mut seen = Seen::default();
        let consolidated = consolidated_ancestors(store, path, format, &mut seen)?;
        if store.consolidated_writes() == ConsolidatedWrites::Refuse {
            if let Some((anc, _)) = consolidated.first() {
                return Err(Error::new(
                    ErrorCode::ConsolidatedStale,
                    format!(
                        "'{}' has consolidated metadata that writing '{path}' would make stale; open the store with consolidatedWrites: 'update', or write and then call consolidateMetadata('{anc}')",
                        if anc.is_empty() { "/" } else { anc }
                    ),
                )
                .with_key(path));
            }
        }
        Ok(Self {
            path: path.to_string(),
            format,
            consolidated,
            regroupings,
            seen,
        })
    }

    /// Record the node just written (`raw`, at the path given to [`begin`](Self::begin)) and
    /// the groups created above it (`parents`) in every consolidated group above. `recreated`
    /// means the node was (re)created, so entries of its old descendants are dropped too. No
    /// request at all when nothing above is consolidated (and nothing was consolidated since
    /// `begin`).
    ///
    /// # Errors
    /// Storage errors.
    pub fn finish(
        self,
        store: &Store,
        raw: &RawNode,
        parents: &[(String, RawNode)],
        recreated: bool,
    ) -> Result<()> {
        let lock = store.metadata_lock();
        let _guard = lock.lock();
        // A consolidation since `begin` may have made a new consolidated group above us, or
        // listed the store before our node was written: look again. (Patches by other writers
        // only change entries, not which groups are consolidated.)
        let targets = if lock.regroupings() == self.regroupings {
            self.consolidated
        } else {
            consolidated_ancestors(store, &self.path, self.format, &mut Seen::default())?
        };
        for (anc, _) in &targets {
            let key = consolidated_key(anc, self.format);
            let Some(mut doc) = get_json(store, &key)? else {
                continue;
            };
            let meta = if self.format == 3 {
                doc.pointer_mut("/consolidated_metadata/metadata")
            } else {
                doc.get_mut("metadata")
            };
            let Some(meta) = meta.and_then(Value::as_object_mut) else {
                continue;
            };
            let nodes = parents.iter().map(|(p, r)| (p.as_str(), r, false)).chain([(
                self.path.as_str(),
                raw,
                recreated,
            )]);
            for (path, raw, recreated) in nodes {
                // A v3 group's own entry is not in its own block.
                let rel = relative(anc, path).filter(|r| self.format == 2 || !r.is_empty());
                if let Some(rel) = rel {
                    patch(meta, rel, raw, recreated);
                }
            }
            put_json(store, &key, &doc)?;
            lock.changed();
        }
        Ok(())
    }
}

/// Replace the entry of the node at `rel` in a consolidated `metadata` map by `raw`.
fn patch(meta: &mut Map<String, Value>, rel: &str, raw: &RawNode, recreated: bool) {
    let below = if rel.is_empty() {
        String::new()
    } else {
        format!("{rel}/")
    };
    match raw {
        RawNode::V3(v) => {
            if recreated {
                meta.retain(|k, _| !k.starts_with(&below));
            }
            meta.insert(rel.to_string(), consolidated_entry(v.clone()));
        }
        RawNode::V2 { name, doc, attrs } => {
            meta.retain(|k, _| {
                let own = k.rsplit_once('/').map_or("", |(p, _)| p) == rel;
                let stale_child = recreated && !below.is_empty() && k.starts_with(&below);
                !(own || stale_child)
            });
            meta.insert(join(rel, name), doc.clone());
            if let Some(a) = attrs {
                meta.insert(join(rel, ".zattrs"), a.clone());
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::array::ZArray;
    use crate::group::{Consolidated, Mode, ZGroup};
    use crate::metadata::CreateArrayOptions;
    use crate::store::StoreOptions;

    const THREADS: usize = 8;
    const PER_THREAD: usize = 8;

    fn opts(format: u8) -> CreateArrayOptions {
        serde_json::from_value(json!({ "shape": [4], "dtype": "int32", "zarrFormat": format }))
            .unwrap()
    }

    fn open(location: &str) -> Store {
        Store::open(location, &StoreOptions::default()).unwrap()
    }

    fn tmp(name: &str) -> String {
        let d = std::env::temp_dir().join(format!("zn-cons-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d.display().to_string()
    }

    /// A consolidated root group with one array, `pre`.
    fn consolidated_root(store: &Store, format: u8) {
        ZGroup::create(store, "", format, Map::new(), false).unwrap();
        ZArray::create(store, "pre", &opts(format)).unwrap();
        consolidate(store, "").unwrap();
    }

    /// Names of the arrays the consolidated metadata of the root records.
    fn recorded(store: &Store) -> Vec<String> {
        let g = ZGroup::open(store, "", Mode::Read, Consolidated::Require).unwrap();
        let mut names: Vec<String> = g.members().unwrap().into_iter().map(|m| m.name).collect();
        names.sort();
        names
    }

    fn expected() -> Vec<String> {
        let mut names: Vec<String> = (0..THREADS * PER_THREAD)
            .map(|i| format!("a{i}"))
            .chain(["pre".to_string()])
            .collect();
        names.sort();
        names
    }

    /// `THREADS` threads create `PER_THREAD` arrays each, `create(thread, name)` doing one.
    fn race(create: impl Fn(usize, &str) + Sync) {
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let create = &create;
                s.spawn(move || {
                    for i in 0..PER_THREAD {
                        create(t, &format!("a{}", t * PER_THREAD + i));
                    }
                });
            }
        });
    }

    #[test]
    fn concurrent_creates_through_one_store_lose_no_entry() {
        for (location, format) in [
            ("memory://cons-race-v3".to_string(), 3),
            ("memory://cons-race-v2".to_string(), 2),
            (tmp("race-local"), 3),
        ] {
            let store = open(&location);
            consolidated_root(&store, format);
            store.reset_stats();
            race(|_, name| {
                ZArray::create(&store, name, &opts(format)).unwrap();
            });
            if format == 3 {
                // Each create costs the same 7 requests as alone (see below): other writers'
                // patches make nobody re-check their ancestors.
                let n = (THREADS * PER_THREAD) as u64;
                assert_eq!(store.stats().requests, 7 * n, "{location}");
            }
            assert_eq!(recorded(&store), expected(), "{location}");
        }
    }

    #[test]
    fn concurrent_creates_through_stores_on_one_location_lose_no_entry() {
        let dir = tmp("race-stores");
        consolidated_root(&open(&dir), 3);
        // One Store per thread, spelt differently: they share the lock of the location.
        let spellings = [dir.clone(), format!("{dir}/"), format!("file://{dir}")];
        let stores: Vec<Store> = (0..THREADS)
            .map(|t| open(&spellings[t % spellings.len()]))
            .collect();
        race(|t, name| {
            ZArray::create(&stores[t], name, &opts(3)).unwrap();
        });
        assert_eq!(recorded(&open(&dir)), expected());
    }

    #[test]
    fn concurrent_creates_through_one_group_lose_no_entry() {
        let store = open("memory://cons-race-group");
        consolidated_root(&store, 3);
        let g = ZGroup::open(&store, "", Mode::ReadWrite, Consolidated::Auto).unwrap();
        race(|_, name| {
            g.create_array(name, &opts(3)).unwrap();
        });
        assert_eq!(recorded(&store), expected());
        // The handle that wrote them sees them all too.
        let names: Vec<String> = g.members().unwrap().into_iter().map(|m| m.name).collect();
        assert_eq!(names.len(), THREADS * PER_THREAD + 1);
    }

    #[test]
    fn creates_racing_a_consolidation_lose_no_entry() {
        // The root is not consolidated when the writers start; one thread consolidates while
        // they write, so some writers checked their ancestors before the consolidation.
        let store = open("memory://cons-race-consolidate");
        ZGroup::create(&store, "", 3, Map::new(), false).unwrap();
        ZArray::create(&store, "pre", &opts(3)).unwrap();
        let created = AtomicUsize::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                consolidate(&store, "").unwrap();
                while created.load(Ordering::Acquire) < THREADS * PER_THREAD {
                    consolidate(&store, "").unwrap();
                }
            });
            race(|_, name| {
                ZArray::create(&store, name, &opts(3)).unwrap();
                created.fetch_add(1, Ordering::AcqRel);
            });
        });
        assert_eq!(recorded(&store), expected());
    }

    #[test]
    fn a_consolidation_between_check_and_write_is_patched() {
        // The write checks its ancestors (nothing consolidated), then the root is consolidated
        // before the node exists, so the listing misses it: finishing must notice and patch.
        let store = open("memory://cons-check-then-consolidate");
        ZGroup::create(&store, "", 3, Map::new(), false).unwrap();
        let mut write = MetadataWrite::begin(&store, "late", 3).unwrap();
        let parents = node::prepare_new_node(&store, "late", false, 3, &mut write.seen).unwrap();
        consolidate(&store, "").unwrap();
        let raw = node::write_group_metadata(&store, "late", 3, &Map::new(), None).unwrap();
        write.finish(&store, &raw, &parents, true).unwrap();
        assert_eq!(recorded(&store), ["late"]);
    }

    #[test]
    fn writes_without_a_consolidated_ancestor_read_nothing_after_writing() {
        let store = open("memory://cons-counts");
        ZGroup::create(&store, "", 3, Map::new(), false).unwrap();
        store.reset_stats();
        ZArray::create(&store, "a", &opts(3)).unwrap();
        // root zarr.json (parent and consolidation check at once), a/zarr.json, a/.zarray,
        // a/.zgroup (nothing there yet), then the one write.
        assert_eq!(store.stats().requests, 5);
        consolidate(&store, "").unwrap();
        store.reset_stats();
        ZArray::create(&store, "b", &opts(3)).unwrap();
        // The same five, plus re-reading and writing the consolidated root under the lock.
        assert_eq!(store.stats().requests, 7);

        let store = open("memory://cons-counts-v2");
        ZGroup::create(&store, "", 2, Map::new(), false).unwrap();
        store.reset_stats();
        ZArray::create(&store, "a", &opts(2)).unwrap();
        // .zmetadata of the root and of a (consolidation check), a/.zgroup, a/.zarray,
        // a/zarr.json (nothing there yet), .zgroup (the parent is a group), then .zarray and
        // .zattrs.
        assert_eq!(store.stats().requests, 8);
    }

    #[test]
    fn created_parents_are_recorded() {
        for format in [2, 3] {
            let store = open(&format!("memory://cons-parents-v{format}"));
            consolidated_root(&store, format);
            ZArray::create(&store, "p/q/x", &opts(format)).unwrap();
            let g = ZGroup::open(&store, "", Mode::Read, Consolidated::Require).unwrap();
            let q = g.open_group("p").unwrap().open_group("q").unwrap();
            assert_eq!(q.open_array("x").unwrap().shape().unwrap(), vec![4]);
        }
    }

    #[test]
    fn refuse_writes_nothing_and_names_the_group() {
        let location = "memory://cons-refuse";
        consolidated_root(&open(location), 3);
        let store = Store::open(
            location,
            &StoreOptions {
                consolidated_writes: ConsolidatedWrites::Refuse,
                ..StoreOptions::default()
            },
        )
        .unwrap();
        let before = store.list("").unwrap();
        let e = ZArray::create(&store, "g/x", &opts(3)).err().unwrap();
        assert_eq!(e.code, ErrorCode::ConsolidatedStale);
        assert_eq!(e.key.as_deref(), Some("g/x"));
        assert_eq!(store.list("").unwrap(), before);
        assert_eq!(
            outermost_consolidated(&store, "g/x", 3).unwrap(),
            Some(String::new())
        );
    }

    #[test]
    fn recreating_a_group_drops_its_old_children() {
        for format in [2, 3] {
            let store = open(&format!("memory://cons-recreate-v{format}"));
            ZGroup::create(&store, "", format, Map::new(), false).unwrap();
            ZArray::create(&store, "g/x", &opts(format)).unwrap();
            consolidate(&store, "").unwrap();
            ZGroup::create(&store, "g", format, Map::new(), true).unwrap();
            let g = ZGroup::open(&store, "", Mode::Read, Consolidated::Require).unwrap();
            assert!(g.open_group("g").unwrap().members().unwrap().is_empty());
        }
    }

    #[test]
    fn views_parse_and_reject() {
        let v3 = json!({ "consolidated_metadata": { "metadata": {
            "a": { "node_type": "array" }, "g": { "node_type": "group" },
            "g/b": { "node_type": "array" } } } });
        let view = ConsolidatedView::from_v3(&v3, "").unwrap().unwrap();
        assert_eq!(view.len(), 3);
        let children: Vec<String> = view.children("").into_iter().map(|(n, _)| n).collect();
        assert_eq!(children, ["a", "g"]);
        assert!(ConsolidatedView::from_v3(&json!({}), "").unwrap().is_none());
        let e =
            ConsolidatedView::from_v3(&json!({ "consolidated_metadata": {} }), "p").unwrap_err();
        assert_eq!(
            (e.code, e.key.as_deref()),
            (ErrorCode::InvalidMetadata, Some("p/zarr.json"))
        );
        let v2 = json!({ "metadata": { ".zgroup": { "zarr_format": 2 },
            "x/.zarray": {}, "x/.zattrs": { "u": 1 } } });
        let view = ConsolidatedView::from_v2(&v2, "").unwrap();
        assert_eq!(view.get("x").unwrap().kind(), node::NodeKind::Array);
        let e = ConsolidatedView::from_v2(&json!({}), "").unwrap_err();
        assert_eq!(e.key.as_deref(), Some(".zmetadata"));
    }
}
