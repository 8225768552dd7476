//! Groups: create/open with access modes, attributes, members (from consolidated metadata when
//! available, so opening children costs no requests), child arrays/groups, and `tree()`.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::array::ZArray;
use crate::consolidated::{self, ConsolidatedView, MetadataWrite};
use crate::error::{Error, ErrorCode, Result};
use crate::node::{self, NodeKind, NodeMeta, RawNode};
use crate::store::{join, normalize_node_path, Store};

/// `openGroup` access modes (zarr-python semantics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Read only; must exist.
    #[default]
    Read,
    /// Read/write; must exist.
    ReadWrite,
    /// Read/write; create if missing.
    Append,
    /// Create, replacing whatever is there.
    Write,
}

impl Mode {
    /// Parse `'r' | 'r+' | 'a' | 'w'`.
    ///
    /// # Errors
    /// Unknown modes.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "r" => Self::Read,
            "r+" => Self::ReadWrite,
            "a" => Self::Append,
            "w" => Self::Write,
            _ => {
                return Err(Error::invalid_input(format!(
                    "mode must be 'r', 'r+', 'a' or 'w', got '{s}'"
                )))
            }
        })
    }
}

/// How `openGroup` uses consolidated metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consolidated {
    /// Use it when present.
    #[default]
    Auto,
    /// Fail when absent.
    Require,
    /// Never use it (always list/read the store).
    Ignore,
}

impl Consolidated {
    /// Parse `'auto' | 'require' | 'ignore'`.
    ///
    /// # Errors
    /// Unknown values.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "auto" => Self::Auto,
            "require" => Self::Require,
            "ignore" => Self::Ignore,
            _ => {
                return Err(Error::invalid_input(format!(
                    "consolidated must be 'auto', 'require' or 'ignore', got '{s}'"
                )))
            }
        })
    }
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Name within the group.
    pub name: String,
    /// Array or group.
    pub kind: NodeKind,
}

/// The consolidated metadata a group handle reads members from, shared by the handle, its
/// clones and the child groups opened from it. It is re-read (one request) when a consolidated
/// document at the store's location was written since, so a child created through any handle
/// in this process is visible to the others.
#[derive(Debug)]
struct SharedView {
    /// The group that holds the consolidated metadata.
    root: String,
    format: u8,
    /// The view and the store's consolidated-change counter when it was read; `None` once the
    /// consolidated metadata is gone (the group was recreated).
    state: Mutex<(Option<Arc<ConsolidatedView>>, u64)>,
}

impl SharedView {
    fn new(store: &Store, root: &str, format: u8, view: ConsolidatedView) -> Self {
        Self {
            root: root.to_string(),
            format,
            state: Mutex::new((Some(Arc::new(view)), store.metadata_lock().changes())),
        }
    }

    /// The current view; `None` means "read the store".
    fn get(&self, store: &Store) -> Result<Option<Arc<ConsolidatedView>>> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| Error::new(ErrorCode::Internal, "consolidated view lock poisoned"))?;
        let changes = store.metadata_lock().changes();
        if state.1 != changes {
            // Counter read first: a write during the re-read makes the next call look again.
            let view = if self.format == 3 {
                match node::get_json(store, &join(&self.root, "zarr.json"))? {
                    Some(doc) => ConsolidatedView::from_v3(&doc, &self.root)?,
                    None => None,
                }
            } else {
                node::get_json(store, &join(&self.root, ".zmetadata"))?
                    .map(|z| ConsolidatedView::from_v2(&z, &self.root))
                    .transpose()?
            };
            *state = (view.map(Arc::new), changes);
        }
        Ok(state.0.clone())
    }
}

/// An open group.
#[derive(Clone)]
pub struct ZGroup {
    store: Store,
    path: String,
    format: u8,
    attributes: Map<String, Value>,
    writable: bool,
    /// Consolidated metadata and this group's path relative to the group that holds it.
    consolidated: Option<(Arc<SharedView>, String)>,
}

/// The key a conversion keeps its plan under until the store is complete. The root group's
/// metadata is written last, so a group path with this key and no metadata is unfinished.
pub const UNFINISHED_KEY: &str = "zarrs-node-convert/plan.json";

/// The `Incomplete` error for a group path that holds an unfinished conversion, if it does.
/// Such a root is never opened (nor, in append mode, created): its data is partial until
/// `finalize` writes the group's metadata last.
fn unfinished(store: &Store, path: &str) -> Result<Option<Error>> {
    if store.get(&join(path, UNFINISHED_KEY))?.is_none() {
        return Ok(None);
    }
    Ok(Some(
        Error::new(
            ErrorCode::Incomplete,
            format!(
                "'{}' in {} is unfinished: a conversion into it has not completed (run \
                 'zarrs-node convert --resume', or 'zarrs-node finalize' after all parts)",
                display(path),
                store.location()
            ),
        )
        .with_key(path),
    ))
}

impl ZGroup {
    /// Open (or, per `mode`, create) the group at `path`.
    ///
    /// # Errors
    /// [`ErrorCode::NotFound`] when absent (modes r/r+), or when `Require` finds no consolidated
    /// metadata; storage and metadata errors.
    pub fn open(store: &Store, path: &str, mode: Mode, consolidated: Consolidated) -> Result<Self> {
        Self::open_format(store, path, mode, consolidated, None)
    }

    /// [`open`](Self::open) when the caller knows the Zarr format: `Some(2)` skips the
    /// `zarr.json` probe, so opening a consolidated v2 hierarchy costs one request
    /// (`.zmetadata`) instead of two (one of them a miss).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_format(
        store: &Store,
        path: &str,
        mode: Mode,
        consolidated: Consolidated,
        format: Option<u8>,
    ) -> Result<Self> {
        let path = normalize_node_path(path)?;
        let writable = mode != Mode::Read;
        if mode == Mode::Write {
            return Self::create(store, &path, format.unwrap_or(3), Map::new(), true);
        }
        // Fewest requests: zarr.json (v3, consolidated inline); else .zmetadata, which also
        // holds the v2 group's own documents; else the plain v2 documents.
        let mut view = None;
        let mut raw = if format == Some(2) {
            None
        } else {
            node::get_json(store, &join(&path, "zarr.json"))?.map(RawNode::V3)
        };
        if raw.is_none() && consolidated != Consolidated::Ignore {
            if let Some(z) = node::get_json(store, &join(&path, ".zmetadata"))? {
                let v = ConsolidatedView::from_v2(&z, &path)?;
                raw = v.get("").cloned();
                view = Some(v);
            }
        }
        if raw.is_none() {
            // Only a failed open pays the extra request that tells an unfinished conversion
            // apart.
            raw = match node::read_raw(store, &path) {
                Ok(r) => r,
                Err(e) => return Err(unfinished(store, &path)?.unwrap_or(e)),
            };
            if raw.is_none() {
                if let Some(e) = unfinished(store, &path)? {
                    return Err(e);
                }
            }
        }
        let raw = match raw {
            Some(r) => r,
            None if mode == Mode::Append => {
                return Self::create(store, &path, format.unwrap_or(3), Map::new(), false)
            }
            None => {
                return Err(node::missing_node_error(
                    store,
                    &path,
                    format!("no group at '{}'", display(&path)),
                ))
            }
        };
        if let (RawNode::V3(doc), false) = (&raw, consolidated == Consolidated::Ignore) {
            view = ConsolidatedView::from_v3(doc, &path)?;
        }
        if consolidated == Consolidated::Require && view.is_none() {
            return Err(Error::not_found(
                path.clone(),
                format!(
                    "group '{}' has no consolidated metadata (consolidated: 'require')",
                    display(&path)
                ),
            ));
        }
        let mut g = Self::from_raw(store, &path, raw, writable)?;
        g.consolidated = view.map(|v| {
            let shared = SharedView::new(store, &path, g.format, v);
            (Arc::new(shared), String::new())
        });
        Ok(g)
    }

    fn from_raw(store: &Store, path: &str, raw: RawNode, writable: bool) -> Result<Self> {
        match raw.parse(path)? {
            NodeMeta::Group { format, attributes } => Ok(Self {
                store: store.clone(),
                path: path.to_string(),
                format,
                attributes,
                writable,
                consolidated: None,
            }),
            NodeMeta::Array(_) => Err(Error::not_found(
                path,
                format!("'{}' is an array, not a group", display(path)),
            )),
        }
    }

    /// Create a group (and missing parents).
    ///
    /// # Errors
    /// An existing node without `overwrite`, a read-only store, storage errors.
    pub fn create(
        store: &Store,
        path: &str,
        format: u8,
        attributes: Map<String, Value>,
        overwrite: bool,
    ) -> Result<Self> {
        let path = normalize_node_path(path)?;
        if format != 2 && format != 3 {
            return Err(Error::invalid_input(format!(
                "zarrFormat must be 2 or 3, got {format}"
            )));
        }
        store.check_writable(&path)?;
        let mut write = MetadataWrite::begin(store, &path, format)?;
        let parents = node::prepare_new_node(store, &path, overwrite, format, &mut write.seen)?;
        let raw = node::write_group_metadata(store, &path, format, &attributes, None)?;
        write.finish(store, &raw, &parents, true)?;
        Ok(Self {
            store: store.clone(),
            path,
            format,
            attributes,
            writable: true,
            consolidated: None,
        })
    }

    /// Node path.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// 2 or 3.
    #[must_use]
    pub fn format(&self) -> u8 {
        self.format
    }

    /// User attributes (as of opening or the last `set_attributes`).
    #[must_use]
    pub fn attributes(&self) -> &Map<String, Value> {
        &self.attributes
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether consolidated metadata is in use.
    #[must_use]
    pub fn is_consolidated(&self) -> bool {
        self.consolidated.is_some()
    }

    fn check_writable(&self) -> Result<()> {
        if !self.writable {
            return Err(Error::new(
                ErrorCode::ReadOnly,
                format!(
                    "group '{}' was opened read-only (mode 'r')",
                    display(&self.path)
                ),
            )
            .with_key(self.path.clone()));
        }
        self.store.check_writable(&self.path)
    }

    /// Replace the user attributes.
    ///
    /// # Errors
    /// Read-only group/store, storage errors.
    pub fn set_attributes(&mut self, attrs: Map<String, Value>) -> Result<()> {
        self.check_writable()?;
        let write = MetadataWrite::begin(&self.store, &self.path, self.format)?;
        let raw = {
            // Our own document may hold consolidated metadata that other writers patch: read
            // it and write it back under their lock so no entry of theirs is lost.
            let lock = self.store.metadata_lock();
            let _guard = lock.lock();
            let base = match node::read_raw(&self.store, &self.path)? {
                Some(RawNode::V3(doc)) => Some(doc),
                _ => None,
            };
            let raw = node::write_group_metadata(
                &self.store,
                &self.path,
                self.format,
                &attrs,
                base.as_ref(),
            )?;
            if base.is_some_and(|d| d.get("consolidated_metadata").is_some_and(|v| !v.is_null())) {
                lock.changed();
            }
            raw
        };
        write.finish(&self.store, &raw, &[], false)?;
        self.attributes = attrs;
        Ok(())
    }

    /// The consolidated view members are read from (re-read if the store changed since), and
    /// this group's path relative to the group that holds it; `None` means "read the store".
    fn view(&self) -> Result<Option<(Arc<ConsolidatedView>, &str)>> {
        let Some((shared, rel)) = &self.consolidated else {
            return Ok(None);
        };
        Ok(shared.get(&self.store)?.map(|v| (v, rel.as_str())))
    }

    fn child_raw(&self, name: &str) -> Result<Option<RawNode>> {
        let name = normalize_node_path(name)?;
        if let Some((view, rel)) = self.view()? {
            return Ok(view.get(&join(rel, &name)).cloned());
        }
        node::read_raw(&self.store, &join(&self.path, &name))
    }

    /// The error for a child without metadata. With consolidated metadata the document is
    /// the authority (no listing); otherwise stored keys without metadata are an error.
    fn missing_child(&self, path: &str, absent: String) -> Error {
        if self.consolidated.is_some() {
            return Error::not_found(path.to_string(), absent);
        }
        node::missing_node_error(&self.store, path, absent)
    }

    /// Members, sorted by name.
    ///
    /// # Errors
    /// Storage errors.
    pub fn members(&self) -> Result<Vec<Member>> {
        if let Some((view, rel)) = self.view()? {
            return Ok(view
                .children(rel)
                .into_iter()
                .map(|(name, raw)| Member {
                    name,
                    kind: raw.kind(),
                })
                .collect());
        }
        self.store.check_open()?;
        let (_, prefixes) = self.store.list_dir(&self.path)?;
        let mut out = Vec::new();
        for p in prefixes {
            let child = p.trim_end_matches('/');
            let name = child.rsplit('/').next().unwrap_or(child).to_string();
            // list_dir only names prefixes that hold keys: no document means lost metadata.
            let raw = node::read_raw(&self.store, child)?
                .ok_or_else(|| node::orphan_error(child, 1, p.as_str()))?;
            out.push(Member {
                name,
                kind: raw.kind(),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The stored metadata of child `name` without building the node (no codec or data type
    /// is checked), so callers can inspect what they may not be able to open.
    ///
    /// # Errors
    /// [`ErrorCode::NotFound`] when there is no such child; storage errors.
    pub fn member_metadata(&self, name: &str) -> Result<RawNode> {
        self.child_raw(name)?.ok_or_else(|| {
            let path = join(&self.path, name);
            Error::not_found(
                path,
                format!("no member '{name}' in group '{}'", display(&self.path)),
            )
        })
    }

    /// Open a child array.
    ///
    /// # Errors
    /// [`ErrorCode::NotFound`] when absent or a group.
    pub fn open_array(&self, name: &str) -> Result<ZArray> {
        let path = join(&self.path, &normalize_node_path(name)?);
        match self.child_raw(name)? {
            Some(raw) if raw.kind() == NodeKind::Array => match raw.parse(&path)? {
                NodeMeta::Array(meta) => ZArray::from_metadata(&self.store, &path, *meta),
                NodeMeta::Group { .. } => Err(Error::new(ErrorCode::Internal, "kind mismatch")),
            },
            Some(_) => Err(Error::not_found(
                path.clone(),
                format!("'{path}' is a group, not an array"),
            )),
            None => Err(self.missing_child(
                &path,
                format!("no array '{name}' in group '{}'", display(&self.path)),
            )),
        }
    }

    /// Open a child group (inherits this group's consolidated metadata and access mode).
    ///
    /// # Errors
    /// [`ErrorCode::NotFound`] when absent or an array.
    pub fn open_group(&self, name: &str) -> Result<ZGroup> {
        let path = join(&self.path, &normalize_node_path(name)?);
        match self.child_raw(name)? {
            Some(raw) => {
                let mut g = Self::from_raw(&self.store, &path, raw, self.writable)?;
                let name = normalize_node_path(name)?;
                g.consolidated = self
                    .consolidated
                    .as_ref()
                    .map(|(shared, rel)| (shared.clone(), join(rel, &name)));
                Ok(g)
            }
            None => Err(self.missing_child(
                &path,
                format!("no group '{name}' in group '{}'", display(&self.path)),
            )),
        }
    }

    /// Create a child group.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    pub fn create_group(
        &self,
        name: &str,
        format: Option<u8>,
        attrs: Map<String, Value>,
        overwrite: bool,
    ) -> Result<ZGroup> {
        self.check_writable()?;
        let path = join(&self.path, &normalize_node_path(name)?);
        Self::create(
            &self.store,
            &path,
            format.unwrap_or(self.format),
            attrs,
            overwrite,
        )
    }

    /// Create a child array.
    ///
    /// # Errors
    /// As [`ZArray::create`].
    pub fn create_array(
        &self,
        name: &str,
        opts: &crate::metadata::CreateArrayOptions,
    ) -> Result<ZArray> {
        self.check_writable()?;
        let mut opts = opts.clone();
        opts.zarr_format.get_or_insert(self.format);
        ZArray::create(
            &self.store,
            &join(&self.path, &normalize_node_path(name)?),
            &opts,
        )
    }

    /// Consolidate the metadata of everything below this group into it.
    ///
    /// # Errors
    /// Read-only group/store, storage errors.
    pub fn consolidate(&mut self) -> Result<()> {
        self.check_writable()?;
        consolidated::consolidate(&self.store, &self.path)?;
        let reopened = Self::open(
            &self.store,
            &self.path,
            Mode::ReadWrite,
            Consolidated::Require,
        )?;
        self.consolidated = reopened.consolidated;
        Ok(())
    }

    /// A text tree like zarr-python's `group.tree()`.
    ///
    /// # Errors
    /// Storage errors.
    pub fn tree(&self) -> Result<String> {
        let mut out = String::from(if self.path.is_empty() {
            "/"
        } else {
            &self.path
        });
        out.push('\n');
        self.tree_into(&mut out, "")?;
        Ok(out)
    }

    fn tree_into(&self, out: &mut String, indent: &str) -> Result<()> {
        let members = self.members()?;
        let n = members.len();
        for (i, m) in members.into_iter().enumerate() {
            let last = i + 1 == n;
            let (branch, next) = if last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            out.push_str(indent);
            out.push_str(branch);
            out.push_str(&m.name);
            match m.kind {
                NodeKind::Array => {
                    let a = self.open_array(&m.name)?;
                    let shape = a.shape()?;
                    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
                    let comma = if shape.len() == 1 { "," } else { "" };
                    out.push_str(&format!(
                        " ({}{comma}) {}\n",
                        dims.join(", "),
                        a.dtype_name()
                    ));
                }
                NodeKind::Group => {
                    out.push('\n');
                    self.open_group(&m.name)?
                        .tree_into(out, &format!("{indent}{next}"))?;
                }
            }
        }
        Ok(())
    }
}

fn display(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::metadata::CreateArrayOptions;
    use crate::store::StoreOptions;

    fn open(location: &str) -> Store {
        Store::open(location, &StoreOptions::default()).unwrap()
    }

    fn opts() -> CreateArrayOptions {
        serde_json::from_value(json!({ "shape": [2], "dtype": "uint8" })).unwrap()
    }

    fn names(g: &ZGroup) -> Vec<String> {
        g.members().unwrap().into_iter().map(|m| m.name).collect()
    }

    /// A consolidated v`format` root with a child group `obs` holding array `x`.
    fn consolidated(location: &str, format: u8) -> Store {
        let store = open(location);
        let root = ZGroup::create(&store, "", format, Map::new(), false).unwrap();
        root.create_group("obs", None, Map::new(), false)
            .unwrap()
            .create_array("x", &opts())
            .unwrap();
        consolidated::consolidate(&store, "").unwrap();
        store
    }

    #[test]
    fn a_child_created_through_a_consolidated_handle_opens_on_it() {
        for format in [2, 3] {
            let store = consolidated(&format!("memory://group-stale-v{format}"), format);
            let g = ZGroup::open(&store, "", Mode::ReadWrite, Consolidated::Auto).unwrap();
            assert!(g.is_consolidated());
            let obs = g.open_group("obs").unwrap();
            g.create_array("y", &opts()).unwrap();
            obs.create_group("sub", None, Map::new(), false).unwrap();
            assert_eq!(g.open_array("y").unwrap().shape().unwrap(), vec![2]);
            assert_eq!(names(&g), ["obs", "y"]);
            // The child handle opened before the write shares the refreshed view.
            assert_eq!(names(&obs), ["sub", "x"]);
            assert!(obs.open_group("sub").unwrap().members().unwrap().is_empty());
            // Once refreshed, lookups cost no request again.
            store.reset_stats();
            g.open_array("y").unwrap();
            assert_eq!(store.stats().requests, 0);
        }
    }

    #[test]
    fn a_child_created_through_another_store_on_the_location_is_seen() {
        let store = consolidated("memory://group-stale-other", 3);
        let g = ZGroup::open(&store, "", Mode::Read, Consolidated::Require).unwrap();
        crate::ZArray::create(&open("memory://group-stale-other"), "z", &opts()).unwrap();
        assert_eq!(names(&g), ["obs", "z"]);
    }

    #[test]
    fn a_recreated_root_falls_back_to_the_store() {
        let store = consolidated("memory://group-recreated", 3);
        let g = ZGroup::open(&store, "", Mode::Read, Consolidated::Auto).unwrap();
        ZGroup::create(&store, "", 3, Map::new(), true).unwrap();
        crate::ZArray::create(&store, "fresh", &opts()).unwrap();
        assert_eq!(names(&g), ["fresh"]);
    }

    #[test]
    fn modes() {
        let store = open("memory://group-modes");
        for mode in [Mode::Read, Mode::ReadWrite] {
            let e = ZGroup::open(&store, "g", mode, Consolidated::Auto)
                .err()
                .unwrap();
            assert_eq!((e.code, e.key.as_deref()), (ErrorCode::NotFound, Some("g")));
        }
        let g = ZGroup::open(&store, "g", Mode::Append, Consolidated::Auto).unwrap();
        g.create_array("x", &opts()).unwrap();
        // 'a' on an existing group keeps it; 'r' refuses writes.
        let g = ZGroup::open(&store, "g", Mode::Append, Consolidated::Auto).unwrap();
        assert_eq!(names(&g), ["x"]);
        let r = ZGroup::open(&store, "g", Mode::Read, Consolidated::Auto).unwrap();
        let e = r.create_array("y", &opts()).err().unwrap();
        assert_eq!((e.code, e.key.as_deref()), (ErrorCode::ReadOnly, Some("g")));
        // 'w' replaces the group and what was below it.
        let w = ZGroup::open(&store, "g", Mode::Write, Consolidated::Auto).unwrap();
        assert!(names(&w).is_empty());
        assert!(store.list("g/x").unwrap().is_empty());
        // A missing child is NotFound too.
        let e = ZGroup::open(&store, "g", Mode::Read, Consolidated::Auto)
            .unwrap()
            .open_group("missing")
            .err()
            .unwrap();
        assert_eq!(e.code, ErrorCode::NotFound);
        assert!(Mode::parse("rw").is_err());
        assert!(Consolidated::parse("always").is_err());
    }

    #[test]
    fn w_and_a_create_in_the_requested_format() {
        for (mode, path) in [(Mode::Write, "w"), (Mode::Append, "a")] {
            for format in [2, 3] {
                let store = open(&format!("memory://group-format-{path}-v{format}"));
                let g = ZGroup::open_format(&store, path, mode, Consolidated::Auto, Some(format))
                    .unwrap();
                assert_eq!(g.format(), format);
                let key = if format == 2 { ".zgroup" } else { "zarr.json" };
                assert_eq!(store.list(path).unwrap(), {
                    let mut keys = vec![format!("{path}/{key}")];
                    if format == 2 {
                        keys.insert(0, format!("{path}/.zattrs"));
                    }
                    keys
                });
                // Children default to the group's format.
                g.create_array("x", &opts()).unwrap();
                let child = node::read_raw(&store, &format!("{path}/x"))
                    .unwrap()
                    .unwrap();
                assert_eq!(child.format(), format);
            }
        }
    }

    #[test]
    fn require_and_ignore() {
        let store = open("memory://group-require");
        ZGroup::create(&store, "", 3, Map::new(), false).unwrap();
        let e = ZGroup::open(&store, "", Mode::Read, Consolidated::Require)
            .err()
            .unwrap();
        assert_eq!(e.code, ErrorCode::NotFound);
        let store = consolidated("memory://group-ignore", 3);
        let g = ZGroup::open(&store, "", Mode::Read, Consolidated::Ignore).unwrap();
        assert!(!g.is_consolidated());
        assert_eq!(names(&g.open_group("obs").unwrap()), ["x"]);
    }

    #[test]
    fn set_attributes_keeps_consolidated_metadata() {
        let store = consolidated("memory://group-attrs", 3);
        let mut g = ZGroup::open(&store, "", Mode::ReadWrite, Consolidated::Auto).unwrap();
        let attrs: Map<String, Value> = serde_json::from_value(json!({ "a": 1 })).unwrap();
        g.set_attributes(attrs.clone()).unwrap();
        let again = ZGroup::open(&store, "", Mode::Read, Consolidated::Require).unwrap();
        assert_eq!(again.attributes(), &attrs);
        assert_eq!(names(&again), ["obs"]);
        assert_eq!(again.tree().unwrap(), "/\n└── obs\n    └── x (2,) uint8\n");
    }
}
