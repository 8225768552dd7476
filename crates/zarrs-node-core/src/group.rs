//! Groups: create/open with access modes, attributes, members (from consolidated metadata when
//! available, so opening children costs no requests), child arrays/groups, and `tree()`.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::array::ZArray;
use crate::consolidated::{self, ConsolidatedView};
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

/// An open group.
#[derive(Clone)]
pub struct ZGroup {
    store: Store,
    path: String,
    format: u8,
    attributes: Map<String, Value>,
    writable: bool,
    /// Consolidated metadata and this group's path relative to the group that holds it.
    consolidated: Option<(Arc<ConsolidatedView>, String)>,
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
            return Self::create(store, &path, 3, Map::new(), true);
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
            raw = node::read_raw(store, &path)?;
        }
        let raw = match raw {
            Some(r) => r,
            None if mode == Mode::Append => {
                return Self::create(store, &path, 3, Map::new(), false)
            }
            None => {
                return Err(Error::not_found(
                    path.clone(),
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
        g.consolidated = view.map(|v| (Arc::new(v), String::new()));
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
        consolidated::before_metadata_write(store, &path, format)?;
        node::prepare_new_node(store, &path, overwrite, format)?;
        node::write_group_metadata(store, &path, format, &attributes, None)?;
        consolidated::after_metadata_write(store, &path, true)?;
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
        consolidated::before_metadata_write(&self.store, &self.path, self.format)?;
        // Re-read so fields written by others since opening (consolidated metadata) survive.
        let base = match node::read_raw(&self.store, &self.path)? {
            Some(RawNode::V3(doc)) => Some(doc),
            _ => None,
        };
        node::write_group_metadata(&self.store, &self.path, self.format, &attrs, base.as_ref())?;
        consolidated::after_metadata_write(&self.store, &self.path, false)?;
        self.attributes = attrs;
        Ok(())
    }

    fn child_rel(&self, name: &str) -> Option<(Arc<ConsolidatedView>, String)> {
        self.consolidated
            .as_ref()
            .map(|(v, rel)| (v.clone(), join(rel, name)))
    }

    fn child_raw(&self, name: &str) -> Result<Option<RawNode>> {
        let name = normalize_node_path(name)?;
        if let Some((view, rel)) = self.child_rel(&name) {
            return Ok(view.get(&rel).cloned());
        }
        node::read_raw(&self.store, &join(&self.path, &name))
    }

    /// Members, sorted by name.
    ///
    /// # Errors
    /// Storage errors.
    pub fn members(&self) -> Result<Vec<Member>> {
        if let Some((view, rel)) = &self.consolidated {
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
            if let Some(raw) = node::read_raw(&self.store, child)? {
                out.push(Member {
                    name,
                    kind: raw.kind(),
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
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
            None => Err(Error::not_found(
                path.clone(),
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
                g.consolidated = self.child_rel(&normalize_node_path(name)?);
                Ok(g)
            }
            None => Err(Error::not_found(
                path.clone(),
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
