"""Canonical JSON dump of AnnData objects and of the encoding attributes of an
AnnData Zarr store. The TypeScript side implements the same dump; the two are
compared with deep equality, so the shape is specified exactly in
scripts/interop/README.md ("Canonical AnnData dump"). Used by
scripts/interop/anndata_*.py and scripts/fixtures/anndata_fixtures.py.

Public functions:
    dump_anndata(adata) -> Dump
    dump_elem(x) -> Elem
    dump_column(values) -> Column
    dump_dataframe(df) -> DF
    dump_store(store_path) -> Dump, read with zarr-python only (no anndata)
    dump_encodings(store_path, layout=False) -> {node_path: {...}}
    store_info(store_path) -> {"zarrFormat", "consolidated"}
    diff_dumps(a, b) -> [paths where they differ]
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from _common import json_scalar, jsonable

MAX_SAFE_INT = 2**53

NUMERIC_DTYPES = frozenset(
    {
        "bool",
        "int8", "int16", "int32", "int64",
        "uint8", "uint16", "uint32", "uint64",
        "float16", "float32", "float64",
    }
)


# ---------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------


def json_value(x):
    """One scalar -> JSON: NaN/±inf as "NaN"/"Infinity"/"-Infinity", integers
    with |v| > 2**53 as decimal strings, numpy scalars as Python values."""
    import numpy as np

    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        v = int(x)
        return str(v) if abs(v) > MAX_SAFE_INT else v
    return json_scalar(x)


def plain(o):
    """Nested Python lists/dicts/scalars (e.g. ``ak.to_list``) -> JSON values."""
    if isinstance(o, Mapping):
        return {str(k): plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [plain(v) for v in o]
    if o is None or isinstance(o, str):
        return o
    return json_value(o)


def dtype_name(dtype) -> str:
    import numpy as np

    name = np.dtype(dtype).name
    if name not in NUMERIC_DTYPES:
        raise TypeError(f"unsupported numeric dtype {dtype!r}")
    return name


def is_string_dtype(dtype) -> bool:
    """numpy object / fixed unicode / variable StringDType."""
    import numpy as np

    return np.dtype(dtype).kind in "OUT"


def _strings(flat) -> list[str]:
    out = []
    for v in flat:
        if not isinstance(v, str):
            raise TypeError(f"string array holds a non-string value {v!r}")
        out.append(str(v))
    return out


def _numbers(flat) -> list:
    return [json_value(v) for v in flat.tolist()]


# ---------------------------------------------------------------------------
# columns (1-D values of a dataframe, an index, or a standalone pandas array)
# ---------------------------------------------------------------------------


def _categories(cats) -> dict:
    """Categories of a Categorical: string-like -> string-array, else array.
    pandas 3 gives string categories the `str` dtype; they cannot hold missing
    values, so they are always dumped as a plain string-array."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_string_dtype(cats.dtype) or cats.dtype == object:
        return {"type": "string-array", "data": _strings(cats.to_numpy(dtype=object))}
    return dump_column(np.asarray(cats))


def dump_column(values) -> dict:
    """A Column: a 1-D numpy array, a pandas Categorical, a masked integer or
    boolean array, or a pandas StringArray (Series/Index are unwrapped)."""
    import numpy as np
    import pandas as pd

    if isinstance(values, (pd.Series, pd.Index)):
        values = values._values  # the backing array, as anndata writes it
    if isinstance(values, pd.Categorical):
        return {
            "type": "categorical",
            "ordered": bool(values.ordered),
            "codes": [int(c) for c in values.codes],
            "categories": _categories(values.categories),
        }
    if isinstance(values, pd.api.extensions.ExtensionArray):
        dtype = values.dtype
        mask = np.asarray(values.isna(), dtype=bool)
        if isinstance(dtype, pd.StringDtype):
            na = dtype.na_value
            if na is pd.NA:
                na_name = "NA"
            elif isinstance(na, float) and math.isnan(na):
                na_name = "NaN"
            else:
                raise TypeError(f"unsupported StringDtype na_value {na!r}")
            objs = values.to_numpy(dtype=object, na_value=None)
            return {
                "type": "nullable-string-array",
                "naValue": na_name,
                "values": [None if m else str(v) for v, m in zip(objs, mask)],
            }
        if isinstance(dtype, pd.BooleanDtype):
            raw = values.to_numpy(dtype=bool, na_value=False)
            return {
                "type": "nullable-boolean",
                "values": [None if m else bool(v) for v, m in zip(raw, mask)],
            }
        if isinstance(dtype, pd.core.dtypes.dtypes.BaseMaskedDtype) and dtype.kind in "iu":
            raw = values.to_numpy(dtype=dtype.numpy_dtype, na_value=0)
            return {
                "type": "nullable-integer",
                "dtype": dtype_name(dtype.numpy_dtype),
                "values": [None if m else json_value(v) for v, m in zip(raw.tolist(), mask)],
            }
        raise TypeError(f"unsupported extension array {type(values).__name__} ({dtype})")
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise TypeError(f"a column must be 1-D, got shape {arr.shape}")
    if is_string_dtype(arr.dtype):
        return {"type": "string-array", "data": _strings(arr.tolist())}
    return {"type": "array", "dtype": dtype_name(arr.dtype), "data": _numbers(arr)}


def dump_dataframe(df) -> dict:
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        raise ValueError(f"repeated column names {names}")
    name = df.index.name
    return {
        "type": "dataframe",
        "indexName": None if name is None else str(name),
        "index": dump_column(df.index),
        "columns": names,
        "data": {str(c): dump_column(s) for c, s in df.items()},
    }


# ---------------------------------------------------------------------------
# elements
# ---------------------------------------------------------------------------


def _reduce_form(o):
    if isinstance(o, dict):
        return {
            k: _reduce_form(v)
            for k, v in o.items()
            if not (
                k == "form_key"
                or (k == "parameters" and not v)
                or (k == "inner_shape" and v == [])
            )
        }
    if isinstance(o, list):
        return [_reduce_form(v) for v in o]
    return o


def canonical_form(form) -> dict:
    """An awkward form (a Form, its dict, or the JSON text anndata stores in
    the ``form`` attribute) in verbose dict form, with every ``form_key``
    member, every empty (``{}``/null) ``parameters`` member and every empty
    ``inner_shape`` member removed."""
    if isinstance(form, str):
        form = json.loads(form)
    if not isinstance(form, dict):
        form = form.to_dict(verbose=True)
    return _reduce_form(form)


def _awkward(x) -> dict:
    import awkward as ak

    # anndata writes ak.to_buffers(ak.to_packed(x)): dump the form and the buffers it stores
    # (a reader without awkward, like ours, compares those rather than python values)
    form, length, container = ak.to_buffers(ak.to_packed(x))
    return {
        "type": "awkward-array",
        "length": int(length),
        "form": canonical_form(form),
        "buffers": {k: _buffer(v) for k, v in sorted(container.items())},
    }


def _buffer(v) -> list:
    import numpy as np

    return plain(np.asarray(v).ravel().tolist())


def _is_awkward(x) -> bool:
    mod = type(x).__module__ or ""
    return mod.startswith("awkward") and type(x).__name__ == "Array"


def dump_mapping(m) -> dict:
    """A dict-like of elements, keys sorted. A ``None`` key is skipped: anndata
    0.13's ``layers[None]`` mirrors ``X`` and is not written as a layer."""
    return {str(k): dump_elem(m[k]) for k in sorted((k for k in m.keys() if k is not None), key=str)}


def _record_field(values) -> list:
    """One field of a structured array: strings (anndata reads `U` fields as objects),
    datetimes as their int64 counts, or numbers."""
    kind = values.dtype.kind
    if is_string_dtype(values.dtype):
        return _strings(values.tolist())
    if kind in "Mm":
        return _numbers(values.view("i8"))
    dtype_name(values.dtype)  # raises for kinds the dump has no form for (bytes, nested records)
    return _numbers(values)


def dump_elem(x) -> dict:
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    if x is None:
        return {"type": "null"}
    if isinstance(x, (bool, np.bool_)):
        return {"type": "numeric-scalar", "dtype": "bool", "value": bool(x)}
    if isinstance(x, int):
        return {"type": "numeric-scalar", "dtype": "int64", "value": json_value(x)}
    if isinstance(x, float):
        return {"type": "numeric-scalar", "dtype": "float64", "value": json_value(x)}
    if isinstance(x, np.generic) and not isinstance(x, (np.str_, np.bytes_)):
        return {"type": "numeric-scalar", "dtype": dtype_name(x.dtype), "value": json_value(x)}
    if isinstance(x, str):
        return {"type": "string", "value": str(x)}
    if isinstance(x, (list, tuple)):
        # anndata writes a list as np.array(list)
        return dump_elem(np.asarray(x))
    if isinstance(x, np.ndarray) and x.dtype.names is not None:
        flat = x.reshape(-1, order="C")
        return {
            "type": "rec-array",
            "shape": list(x.shape),
            "fields": [[name, _record_field(flat[name])] for name in x.dtype.names],
        }
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return dump_elem(str(x[()]) if is_string_dtype(x.dtype) else x[()])
        flat = x.reshape(-1, order="C")
        if is_string_dtype(x.dtype):
            return {"type": "string-array", "shape": list(x.shape), "data": _strings(flat.tolist())}
        return {
            "type": "array",
            "dtype": dtype_name(x.dtype),
            "shape": list(x.shape),
            "data": _numbers(flat),
        }
    if sp.issparse(x):
        if x.format not in ("csr", "csc"):
            raise TypeError(f"unsupported sparse format {x.format!r}")
        return {
            "type": f"{x.format}_matrix",
            "shape": [int(n) for n in x.shape],
            "dtype": dtype_name(x.dtype),
            "indicesDtype": dtype_name(x.indices.dtype),
            "indptrDtype": dtype_name(x.indptr.dtype),
            "data": _numbers(np.asarray(x.data)),
            "indices": _numbers(np.asarray(x.indices)),
            "indptr": _numbers(np.asarray(x.indptr)),
        }
    if isinstance(x, pd.DataFrame):
        return dump_dataframe(x)
    if isinstance(x, Mapping):
        return {"type": "dict", "items": dump_mapping(x)}
    if isinstance(x, (pd.Categorical, pd.api.extensions.ExtensionArray)):
        return dump_column(x)
    if _is_awkward(x):
        return _awkward(x)
    raise TypeError(f"cannot dump element of type {type(x).__module__}.{type(x).__name__}")


def dump_anndata(adata) -> dict:
    raw = adata.raw
    return {
        "shape": [int(adata.n_obs), int(adata.n_vars)],
        "obs": dump_dataframe(adata.obs),
        "var": dump_dataframe(adata.var),
        "X": None if adata.X is None else dump_elem(adata.X),
        "layers": dump_mapping(adata.layers),
        "obsm": dump_mapping(adata.obsm),
        "varm": dump_mapping(adata.varm),
        "obsp": dump_mapping(adata.obsp),
        "varp": dump_mapping(adata.varp),
        "uns": dump_mapping(adata.uns),
        "raw": None
        if raw is None
        else {"X": dump_elem(raw.X), "var": dump_dataframe(raw.var), "varm": dump_mapping(raw.varm)},
    }


# ---------------------------------------------------------------------------
# comparing dumps
# ---------------------------------------------------------------------------


def diff_dumps(a, b, path: str = "", out: list | None = None, limit: int = 50) -> list[str]:
    """Paths (``/obs/data/c1/values``) where two dumps differ, at most ``limit``
    (of two elements of different ``type`` only the type is reported)."""
    if out is None:
        out = []
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        if "type" in a and "type" in b and a["type"] != b["type"]:
            out.append(f"{path}/type: {json.dumps(a['type'])} != {json.dumps(b['type'])}")
            return out
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                out.append(f"{path}/{k}: {'missing' if k not in a else 'present'} vs "
                           f"{'missing' if k not in b else 'present'}")
            else:
                diff_dumps(a[k], b[k], f"{path}/{k}", out, limit)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff_dumps(x, y, f"{path}/{i}", out, limit)
            if len(out) >= limit:
                break
    elif type(a) is not type(b) or a != b:
        sa, sb = json.dumps(a, ensure_ascii=False), json.dumps(b, ensure_ascii=False)
        out.append(f"{path}: {sa[:120]} != {sb[:120]}")
    return out


# ---------------------------------------------------------------------------
# raw encodings of a store
# ---------------------------------------------------------------------------


def store_info(store_path: str) -> dict:
    """Zarr format of the root and whether it has consolidated metadata."""
    import os

    if os.path.exists(os.path.join(store_path, "zarr.json")):
        with open(os.path.join(store_path, "zarr.json"), encoding="utf-8") as f:
            doc = json.load(f)
        return {"zarrFormat": 3, "consolidated": doc.get("consolidated_metadata") is not None}
    return {"zarrFormat": 2, "consolidated": os.path.exists(os.path.join(store_path, ".zmetadata"))}


def dump_encodings(store_path: str, layout: bool = False) -> dict:
    """{"/", "/obs", "/obs/_index", ...: entry} for every node of the store,
    read without consolidated metadata. entry = {"node": "group"|"array",
    "encoding-type": str|None, "encoding-version": str|None, every other
    attribute of the node (an awkward ``form`` parsed from its JSON text), and
    for arrays "dtype" (numpy name or "string") and "shape"}; with ``layout``
    also "chunks" and "shards" (inner chunk shape / shard shape or null)."""
    import zarr
    from zarr_read import normalize_dtype

    root = zarr.open_group(store_path, mode="r", use_consolidated=False)
    out: dict = {}

    def visit(path: str, node) -> None:
        is_group = isinstance(node, zarr.Group)
        attrs = jsonable(dict(node.attrs))
        entry = {
            "node": "group" if is_group else "array",
            "encoding-type": attrs.pop("encoding-type", None),
            "encoding-version": attrs.pop("encoding-version", None),
        }
        if isinstance(attrs.get("form"), str):
            attrs["form"] = json.loads(attrs["form"])
        entry.update(attrs)
        if not is_group:
            entry["dtype"] = normalize_dtype(node)
            entry["shape"] = [int(n) for n in node.shape]
            if layout:
                entry["chunks"] = [int(n) for n in node.chunks]
                entry["shards"] = None if node.shards is None else [int(n) for n in node.shards]
        out[path] = entry
        if is_group:
            for name, child in sorted(node.members(), key=lambda m: m[0]):
                visit(f"{path.rstrip('/')}/{name}", child)

    visit("/", root)
    return out


# ---------------------------------------------------------------------------
# the same dump read straight from the store with zarr-python (no anndata)
# ---------------------------------------------------------------------------


def _enc(node) -> str | None:
    return node.attrs.get("encoding-type")


def _read_array(node):
    """(numpy array, is_string) of a zarr array, strings as an object array."""
    import numpy as np
    from zarr_read import normalize_dtype

    data = np.asarray(node[...])
    if normalize_dtype(node) == "string":
        return np.asarray(data, dtype=object), True
    return data, False


def _store_column(node) -> dict:
    """A Column from a dataframe child / categorical categories / standalone array."""
    import numpy as np

    enc = _enc(node)
    if enc == "categorical":
        codes, _ = _read_array(node["codes"])
        return {
            "type": "categorical",
            "ordered": bool(node.attrs.get("ordered", False)),
            "codes": [int(c) for c in codes.tolist()],
            "categories": _store_column(node["categories"]),
        }
    if enc in ("nullable-integer", "nullable-boolean", "nullable-string-array"):
        values, _ = _read_array(node["values"])
        mask = np.asarray(node["mask"][...], dtype=bool).tolist()
        vals = values.tolist()
        if enc == "nullable-integer":
            return {
                "type": enc,
                "dtype": dtype_name(values.dtype),
                "values": [None if m else json_value(v) for v, m in zip(vals, mask)],
            }
        if enc == "nullable-boolean":
            return {"type": enc, "values": [None if m else bool(v) for v, m in zip(vals, mask)]}
        return {
            "type": enc,
            "naValue": node.attrs.get("na-value", "NA"),
            "values": [None if m else str(v) for v, m in zip(vals, mask)],
        }
    data, is_str = _read_array(node)
    if data.ndim != 1:
        raise TypeError(f"column {node.path!r} is not 1-D: {data.shape}")
    if is_str:
        return {"type": "string-array", "data": _strings(data.tolist())}
    return {"type": "array", "dtype": dtype_name(data.dtype), "data": _numbers(data)}


def _store_dataframe(node) -> dict:
    index_key = node.attrs["_index"]
    columns = [str(c) for c in node.attrs.get("column-order", [])]
    return {
        "type": "dataframe",
        "indexName": None if index_key == "_index" else index_key,
        "index": _store_column(node[index_key]),
        "columns": columns,
        "data": {c: _store_column(node[c]) for c in columns},
    }


def _store_mapping(node) -> dict:
    if node is None:
        return {}
    return {name: _store_elem(child) for name, child in sorted(node.members(), key=lambda m: m[0])}


def _store_elem(node) -> dict:
    import numpy as np

    enc = _enc(node)
    if enc == "null":
        return {"type": "null"}
    if enc in ("array", "string-array"):
        data, is_str = _read_array(node)
        flat = data.reshape(-1, order="C")
        if is_str:
            return {"type": "string-array", "shape": list(data.shape), "data": _strings(flat.tolist())}
        return {"type": "array", "dtype": dtype_name(data.dtype), "shape": list(data.shape),
                "data": _numbers(flat)}
    if enc == "numeric-scalar":
        data, _ = _read_array(node)
        return {"type": "numeric-scalar", "dtype": dtype_name(data.dtype), "value": json_value(data[()])}
    if enc == "string":
        data, _ = _read_array(node)
        return {"type": "string", "value": str(data[()])}
    if enc in ("csr_matrix", "csc_matrix"):
        data, _ = _read_array(node["data"])
        indices, _ = _read_array(node["indices"])
        indptr, _ = _read_array(node["indptr"])
        return {
            "type": enc,
            "shape": [int(n) for n in node.attrs["shape"]],
            "dtype": dtype_name(data.dtype),
            "indicesDtype": dtype_name(indices.dtype),
            "indptrDtype": dtype_name(indptr.dtype),
            "data": _numbers(data),
            "indices": _numbers(indices),
            "indptr": _numbers(indptr),
        }
    if enc == "dataframe":
        return _store_dataframe(node)
    if enc == "dict":
        return {"type": "dict", "items": _store_mapping(node)}
    if enc in ("categorical", "nullable-integer", "nullable-boolean", "nullable-string-array"):
        return _store_column(node)
    if enc == "awkward-array":
        import awkward as ak

        length = int(node.attrs["length"])
        form = node.attrs["form"]
        buffers = {name: np.asarray(child[...]) for name, child in node.members()}
        return {"type": "awkward-array", "length": length, "form": canonical_form(form),
                "buffers": {k: _buffer(v) for k, v in sorted(buffers.items())}}
    raise TypeError(f"cannot dump node {node.path!r} with encoding-type {enc!r}")


def dump_store(store_path: str) -> dict:
    """The Dump of an AnnData Zarr store read with zarr-python only, following
    the encoding attributes (what a non-anndata reader such as zarrs-node
    should produce). Current encodings only (dataframe 0.2.0 etc.)."""
    import zarr

    root = zarr.open_group(store_path, mode="r", use_consolidated=False)
    members = dict(root.members())

    def get(name):
        return members.get(name)

    obs = _store_dataframe(root["obs"])
    var = _store_dataframe(root["var"])
    raw = get("raw")
    if raw is not None and _enc(raw) != "null":
        raw_members = dict(raw.members())
        raw = {
            "X": _store_elem(raw["X"]),
            "var": _store_dataframe(raw["var"]),
            "varm": _store_mapping(raw_members.get("varm")),
        }
    else:
        raw = None
    n_obs = len(obs["index"].get("data", obs["index"].get("values", obs["index"].get("codes", []))))
    n_vars = len(var["index"].get("data", var["index"].get("values", var["index"].get("codes", []))))
    return {
        "shape": [n_obs, n_vars],
        "obs": obs,
        "var": var,
        "X": None if get("X") is None or _enc(root["X"]) == "null" else _store_elem(root["X"]),
        **{k: _store_mapping(get(k)) for k in ["layers", "obsm", "varm", "obsp", "varp", "uns"]},
        "raw": raw,
    }


# ---------------------------------------------------------------------------
# command-line helpers
# ---------------------------------------------------------------------------


def anndata_version() -> str:
    from importlib.metadata import version

    return version("anndata")


def parse_settings(pairs: list[str]) -> dict:
    """``NAME=VALUE`` strings -> anndata settings (VALUE parsed as JSON when it
    can be: true, 3, null; else taken as a string)."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--setting wants NAME=VALUE, got {pair!r}")
        try:
            out[name] = json.loads(value)
        except json.JSONDecodeError:
            out[name] = value
    return out


def run_cli(prog: str, body) -> int:
    """Run ``body()`` (returns the JSON document) quietly: warnings are not
    printed; any exception -> message on stderr, exit status 1."""
    import sys
    import warnings

    from _common import print_json

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            doc = body()
    except Exception as e:  # noqa: BLE001
        print(f"{prog}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return print_json(doc)


def drop_elements(adata, paths: list[str]) -> None:
    """Delete elements given as store paths (``uns/rank_genes_groups/names``)
    from an in-memory AnnData, for comparisons that leave out encodings one
    side cannot read yet. A path that does not exist is an error."""
    for path in paths:
        first, *keys = path.strip("/").split("/")
        if not keys:
            raise KeyError(f"drop: '{path}' names no element inside {first}")
        parent = getattr(adata, first)
        for k in keys[:-1]:
            parent = parent[k]
        del parent[keys[-1]]
