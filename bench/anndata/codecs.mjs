// Codec choice for writeZarr's default: every array of an AnnData store re-encoded with each
// candidate codec in the layout writeZarr gives it (zarr v3, layout.ts), stored bytes and
// encode time per array, and the per-dtype-class policies built from them, against python's
// zstd level 3. The README's codec table comes from this script.
//
//   node bench/anndata/codecs.mjs STORE [--reps 3] [--threads 2] [--only PATH ...] [--json OUT.json]
//
// --only measures just those arrays (e.g. X/data, X/indices of the full-size matrix).
// STORE: an AnnData zarr store, e.g. __test__/fixtures/pbmc68k/v3.zarr or the benchmark matrix
// from bench/anndata/gen.py. Needs a build (node scripts/build.mjs --release for timings).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultCompressor, layoutFor } from '../../dist/anndata/layout.js';
import { createArray, openGroup, setThreads } from '../../dist/index.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    reps: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    json: { type: 'string' },
    only: { type: 'string', multiple: true, default: [] },
  },
});
if (positionals.length !== 1) throw new Error('usage: node bench/anndata/codecs.mjs STORE [--reps N] [--json OUT]');
const [source] = positionals;
setThreads(Number(args.threads));

const blosc = (cname, clevel, shuffle) => ({ name: 'blosc', cname, clevel, shuffle });
/** Candidates: python anndata's zstd-3 first (the reference), then alternatives. */
const CODECS = {
  'zstd-3 (python)': 'zstd:3',
  'zstd-1': 'zstd:1',
  'zstd-5': 'zstd:5',
  // blosc's clevel is not zstd's level: c-blosc runs zstd at level 2 * clevel - 1
  'blosc zstd-1 shuffle': blosc('zstd', 1, 'shuffle'),
  'blosc zstd-2 shuffle': blosc('zstd', 2, 'shuffle'),
  'blosc zstd-3 shuffle': blosc('zstd', 3, 'shuffle'),
  'blosc zstd-1 bitshuffle': blosc('zstd', 1, 'bitshuffle'),
  'blosc zstd-3 bitshuffle': blosc('zstd', 3, 'bitshuffle'),
  'blosc zstd-3 noshuffle': blosc('zstd', 3, 'noshuffle'),
  'blosc lz4-5 shuffle': blosc('lz4', 5, 'shuffle'),
};
/** What writeZarr picks by default (layout.ts), measured like the candidates. */
const DEFAULT = 'writeZarr default';
const REFERENCE = 'zstd-3 (python)';

/** The dtype classes a default policy can tell apart (layout.ts sees only dtype and kind). */
function dtypeClass(dtype) {
  if (dtype === 'string') return 'string';
  if (dtype === 'bool' || dtype.endsWith('int8')) return '1-byte';
  return dtype.startsWith('float') ? 'float' : 'int';
}

/** Every array below `group` with the element kind writeZarr would give it. */
async function collect(group, path, parentType, out) {
  for (const m of await group.members()) {
    const p = path ? `${path}/${m.name}` : m.name;
    if (m.kind === 'group') {
      const g = await group.openGroup(m.name);
      await collect(g, p, g.attrs['encoding-type'], out);
      continue;
    }
    let arr;
    try {
      arr = await group.openArray(m.name);
    } catch (e) {
      console.error(`skip ${p}: ${e.message.split('\n')[0]}`);
      continue;
    }
    if (arr.shape.length === 0) continue;
    const sparse = parentType === 'csr_matrix' || parentType === 'csc_matrix';
    const kind = sparse ? (m.name === 'indptr' ? 'indptr' : 'sparse') : arr.shape.length > 1 ? 'dense' : 'column';
    out.push({ path: p, arr, kind });
  }
  return out;
}

const reps = Number(args.reps);
const work = mkdtempSync(join(tmpdir(), 'zn-codecs-'));
const rows = [];
const arrays = await collect(await openGroup(source), '', undefined, []);
for (const { path, arr, kind } of arrays.filter((a) => args.only.length === 0 || args.only.includes(a.path))) {
  const { data } = await arr.get(null);
  const layout = layoutFor(kind, arr.shape, arr.dtype, { zarrFormat: 3, shards: 'auto' });
  const row = { path, dtype: arr.dtype, kind, shape: arr.shape, rawBytes: data.byteLength ?? null, codecs: {} };
  const candidates = { ...CODECS, [DEFAULT]: defaultCompressor(arr.dtype, kind) };
  for (const [name, spec] of Object.entries(candidates)) {
    if (arr.dtype === 'string' && typeof spec !== 'string') continue; // blosc: numbers only
    const times = [];
    let bytes = 0;
    // large arrays: one rep (their time is stable and their encode dominates the run)
    for (let r = 0; r < (data.length > 2 ** 24 ? 1 : reps); r++) {
      const out = await createArray(join(work, 'out.zarr'), '', {
        shape: arr.shape,
        dtype: arr.dtype,
        chunks: layout.chunks,
        shards: layout.shards,
        compressors: spec,
        zarrFormat: 3,
        overwrite: true,
      });
      const t0 = process.hrtime.bigint();
      await out.set(null, data);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      bytes = (await out.info()).nbytesStored;
    }
    row.codecs[name] = { bytes, ms: Math.min(...times) };
  }
  rows.push(row);
  console.error(
    `${path}: ${Object.entries(row.codecs)
      .map(([n, c]) => `${n} ${c.bytes}`)
      .join(', ')}`,
  );
}
rmSync(work, { recursive: true, force: true });

// Policies: one codec per dtype class; a class without candidates falls back to zstd-3.
const classes = [...new Set(rows.map((r) => dtypeClass(r.dtype)))];
const everywhere = (name) => Object.fromEntries(classes.map((c) => [c, name]));
const policies = { [`all ${REFERENCE}`]: everywhere(REFERENCE), [DEFAULT]: everywhere(DEFAULT) };
for (const name of Object.keys(CODECS).filter((n) => n !== REFERENCE)) {
  // strings and 1-byte arrays stay on zstd-3: shuffling bytes of 1-byte items does nothing
  policies[`${name} for ints and floats`] = { string: REFERENCE, '1-byte': REFERENCE, int: name, float: name };
  if (name.startsWith('blosc')) {
    policies[`${name} for ints, zstd-3 for floats`] = {
      string: REFERENCE,
      '1-byte': REFERENCE,
      int: name,
      float: REFERENCE,
    };
  }
}
const totals = Object.entries(policies).map(([policy, pick]) => {
  let bytes = 0;
  let ms = 0;
  for (const r of rows) {
    const c = r.codecs[pick[dtypeClass(r.dtype)]] ?? r.codecs[REFERENCE];
    bytes += c.bytes;
    ms += c.ms;
  }
  return { policy, bytes, ms };
});

const kb = (b) => (b / 1024).toFixed(0);
const total = rows.reduce((a, r) => a + r.codecs[REFERENCE].bytes, 0);
const big = rows.filter((r) => r.codecs[REFERENCE].bytes >= total / 50);
const names = [...Object.keys(CODECS), DEFAULT];
const md = [
  `Codecs on \`${source}\` (zarr v3, writeZarr's layout, ${args.threads} threads; size KiB / encode ms, min of ${reps}):`,
  '',
  `| element | dtype | ${names.join(' | ')} |`,
  `|---|---|${names.map(() => '---:').join('|')}|`,
  ...big.map(
    (r) =>
      `| ${r.path} | ${r.dtype} | ${names.map((n) => (r.codecs[n] ? `${kb(r.codecs[n].bytes)} / ${r.codecs[n].ms.toFixed(0)}` : '-')).join(' | ')} |`,
  ),
  `| (${rows.length - big.length} smaller arrays) | | ${names.map((n) => kb(rows.filter((r) => !big.includes(r)).reduce((a, r) => a + (r.codecs[n] ?? r.codecs[REFERENCE]).bytes, 0))).join(' | ')} |`,
  '',
  '| policy | total KiB | vs zstd-3 | encode ms | vs zstd-3 |',
  '|---|---:|---:|---:|---:|',
  ...totals.map(
    (t) =>
      `| ${t.policy} | ${kb(t.bytes)} | ${(t.bytes / totals[0].bytes).toFixed(3)} | ${t.ms.toFixed(0)} | ${(t.ms / totals[0].ms).toFixed(2)} |`,
  ),
].join('\n');
console.log(md);
if (args.json) writeFileSync(args.json, JSON.stringify({ source, threads: args.threads, reps, rows, totals }, null, 1));
