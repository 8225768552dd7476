// Inputs written by anndata 0.7 (no root encoding, bare arrays and groups, dataframe 0.1.0 with
// `__categories`) rewritten as the node tree current anndata writes for the same data, so that
// the plan and the copy stay what they are: nodes gain the encodings python's legacy read infers,
// and each 0.1.0 categorical becomes a categorical group whose arrays are copied from the codes
// and from `__categories/<column>`. Older layouts (anndata < 0.7) are refused with a way out.

// registers every encoding, so that the legacy inference and the written specs are known
import '../anndata/encodings/index.js';
import { legacyCategoriesPath } from '../anndata/encodings/dataframe.js';
import { layoutOf } from '../anndata/io.js';
import { type Encoding, encodingAttrs, legacyEncodingOf, writtenSpec } from '../anndata/registry.js';
import { zarrsError } from '../zarr/errors.js';
import { isH5adLocation, type SourceNode } from './source.js';

/** How to turn a file the converter refuses into one it converts. */
export function upgradeHint(input: string): string {
  const reader = isH5adLocation(input) ? 'read_h5ad(path).write_h5ad' : 'read_zarr(path).write_zarr';
  return `rewrite it with python anndata first (anndata.${reader}(new_path))`;
}

const parentOf = (path: string) => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
const nameOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** Whether `nodes` (root first) hold an AnnData from before encoding attributes. */
export function isLegacyTree(nodes: readonly SourceNode[]): boolean {
  const root = nodes.find((n) => n.path === '');
  if (root === undefined || root.attributes['encoding-type'] !== undefined) return false;
  const names = nodes.filter((n) => n.path !== '' && !n.path.includes('/')).map((n) => n.path);
  return layoutOf('', names).layout === 'legacy';
}

/** The 0.1.0 categorical's codes carry an HDF5 object reference (h5ad) or a path (zarr). */
const HDF5_REFERENCE = /attribute 'categories' has datatype Reference/;

/**
 * The tree current anndata writes for the legacy AnnData in `nodes` (root first, parents
 * before children). Throws `Unsupported` for layouts older than anndata 0.7 and
 * `InvalidMetadata` naming the column for a categorical whose categories are not found.
 */
export function upgradeLegacyTree(input: string, nodes: readonly SourceNode[]): SourceNode[] {
  const byPath = new Map(nodes.map((n) => [n.path, n]));
  const children = new Map<string, SourceNode[]>();
  for (const n of nodes) {
    if (n.path === '') continue;
    const siblings = children.get(parentOf(n.path)) ?? [];
    siblings.push(n);
    children.set(parentOf(n.path), siblings);
  }
  const childrenOf = (path: string) => children.get(path) ?? [];
  const refuse = (path: string, what: string) =>
    zarrsError(
      'Unsupported',
      `${input}: '${path}' is ${what} (anndata before 0.7); the converter reads files from anndata 0.7 on: ${upgradeHint(input)}`,
      path,
    );
  for (const old of ['raw.X', 'raw.var', 'raw.varm']) {
    if (byPath.has(old)) throw refuse(old, 'raw data stored at the root');
  }
  for (const axis of ['obs', 'var']) {
    const df = byPath.get(axis);
    if (df !== undefined && (df.kind !== 'group' || df.attributes['encoding-type'] !== 'dataframe')) {
      throw refuse(axis, df.kind === 'array' ? 'a dataframe stored as a record array' : 'a dataframe without encoding');
    }
  }

  const out: SourceNode[] = [];
  const encoded = (n: SourceNode, enc: Encoding | undefined, path = n.path): SourceNode => {
    if (enc === undefined) throw zarrsError('Internal', `no legacy encoding is registered for '${n.path}'`, n.path);
    const attributes = { ...n.attributes, ...encodingAttrs({ encodingType: enc.type, encodingVersion: enc.version }) };
    return { ...n, path, attributes, ...(path === n.path ? {} : { source: n.source ?? n.path }) };
  };
  const subtree = (n: SourceNode): void => {
    out.push(n);
    for (const c of childrenOf(n.path)) subtree(c);
  };
  // A child of a dict-like group (root, dict, raw) or a dataframe column.
  const element = (n: SourceNode): void => {
    const type = n.attributes['encoding-type'];
    if (type === undefined) {
      if (n.attributes.h5sparse_format !== undefined) throw refuse(n.path, 'a sparse matrix in the h5sparse layout');
      out.push(encoded(n, legacyEncodingOf(n)));
      if (n.kind === 'group') container(n);
    } else if (type === 'dataframe' && n.attributes['encoding-version'] === '0.1.0') {
      dataframe(n);
    } else if (n.kind === 'group' && (type === 'dict' || type === 'raw')) {
      out.push(n);
      container(n);
    } else {
      subtree(n); // an encoded element (a sparse matrix): its parts carry no encodings
    }
  };
  const container = (g: SourceNode): void => {
    for (const c of childrenOf(g.path)) element(c);
  };
  const dataframe = (df: SourceNode): void => {
    out.push({ ...df, attributes: { ...df.attributes, ...encodingAttrs(writtenSpec('dataframe')) } });
    for (const c of childrenOf(df.path)) {
      if (c.kind === 'group' && nameOf(c.path) === '__categories') continue; // moved into the columns
      const ref = typeof c.attributes.categories === 'string' || HDF5_REFERENCE.test(c.unreadable ?? '');
      if (c.kind === 'array' && ref) categorical(df, c);
      else element(c);
    }
  };
  const categorical = (df: SourceNode, codes: SourceNode): void => {
    const attr = codes.attributes.categories;
    const at = [df.path, ...legacyCategoriesPath(typeof attr === 'string' ? attr : undefined, nameOf(codes.path))];
    const catPath = at.filter((s) => s !== '').join('/');
    const categories = byPath.get(catPath);
    if (categories?.kind !== 'array' || (codes.dtype ?? '').match(/^u?int/) === null || codes.shape?.length !== 1) {
      const why =
        typeof attr === 'string'
          ? `its 'categories' attribute names '${attr}'`
          : `its 'categories' attribute is an HDF5 object reference, which the converter follows only by anndata 0.7's convention, '${catPath}'`;
      throw zarrsError(
        'InvalidMetadata',
        `${input}: categorical column '${codes.path}' (dataframe 0.1.0): ${why}, and the input holds no ` +
          `categories array there for its ${codes.dtype ?? 'unknown'} codes; ${upgradeHint(input)}`,
        codes.path,
      );
    }
    const { categories: _ref, ...kept } = codes.attributes;
    const spec = writtenSpec('categorical');
    // 0.1.0 keeps `ordered` on the categories array, 0.2.0 on the categorical group
    const ordered = categories.attributes.ordered === true;
    out.push({ path: codes.path, kind: 'group', attributes: { ...kept, ...encodingAttrs(spec), ordered } });
    const { ordered: _ordered, ...catAttrs } = categories.attributes;
    out.push(
      encoded({ ...categories, attributes: catAttrs }, legacyEncodingOf(categories), `${codes.path}/categories`),
    );
    // the reference (the one attribute 0.7 writes there) is resolved: the codes are readable
    const { unreadable: _why, ...plain } = codes;
    out.push(encoded({ ...plain, attributes: {} }, legacyEncodingOf(codes), `${codes.path}/codes`));
  };

  const root = byPath.get('') as SourceNode;
  out.push({ ...root, attributes: { ...root.attributes, ...encodingAttrs(writtenSpec('anndata')) } });
  container(root);
  return out;
}
