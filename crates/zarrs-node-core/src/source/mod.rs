//! Read-only inputs for the conversion engine, behind one [`Source`] trait: a hierarchy of
//! groups and arrays with JSON attributes, read in bounded row blocks so a converter never
//! holds a whole matrix. [`h5ad::H5adSource`] reads HDF5 files; a zarr source (any store,
//! v2 or v3) is meant to implement the same trait.

pub mod h5ad;

use std::ops::Range;

use crate::dtype::{DType, TypedVec};
use crate::error::Result;

/// What a path in a [`Source`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A container of other nodes.
    Group,
    /// An n-dimensional array of one data type.
    Array,
}

/// One entry of a group listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// Name inside the parent group (no slashes).
    pub name: String,
    /// Group or array.
    pub kind: NodeKind,
}

/// One member of a record (compound) array, e.g. anndata's `uns/rank_genes_groups/names`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Member name.
    pub name: String,
    /// Member type; `None` when it has no [`DType`] equivalent.
    pub dtype: Option<DType>,
}

/// The element type of a source array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElementType {
    /// Numbers, booleans or strings: readable with [`Source::read_rows`].
    Scalar(DType),
    /// A record array (HDF5 compound type): described, not readable through `read_rows`.
    Record(Vec<Field>),
}

/// Metadata of a source array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayInfo {
    /// Extent per dimension; empty for a scalar.
    pub shape: Vec<u64>,
    /// Element type.
    pub element: ElementType,
    /// Storage chunk shape, `None` for contiguous or compact storage.
    pub chunks: Option<Vec<u64>>,
    /// Filter/codec names in pipeline order (`gzip`, `lzf`, `shuffle`, ...).
    pub filters: Vec<String>,
}

/// A hierarchical, AnnData-shaped input. Paths are absolute, `/`-separated (`/` is the root).
pub trait Source {
    /// What this source is (a file path, a store URL), used in every error it returns.
    fn location(&self) -> &str;

    /// Whether `path` is a group or an array; `NotFound` when it is neither.
    fn kind(&self, path: &str) -> Result<NodeKind>;

    /// The direct children of the group at `path`, sorted by name.
    fn children(&self, path: &str) -> Result<Vec<Child>>;

    /// The attributes of the node at `path` as JSON values (strings, numbers, bools, arrays).
    fn attributes(&self, path: &str) -> Result<serde_json::Map<String, serde_json::Value>>;

    /// Shape, type, chunking and filters of the array at `path`.
    fn array_info(&self, path: &str) -> Result<ArrayInfo>;

    /// Rows `rows` of the array at `path` (all columns of a 2-D array, a range of a 1-D one),
    /// C order. A scalar array has one row, `0..1`. `OutOfBounds` past the first dimension.
    fn read_rows(&self, path: &str, rows: Range<u64>) -> Result<TypedVec>;
}
