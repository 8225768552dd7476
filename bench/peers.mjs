// The benchmark's peers, one registry: how to tell whether each is installed (a reason when not)
// and the command that runs it on a spec. A new peer (e.g. AnnData level) is one more entry.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawBinary } from './raw-bin.mjs';

/** The Python 3.12 venv with zarr-python 3.4.2, zarrs-python 0.2.3 and tensorstore 0.1.86. */
export const pythonOf = (root) => join(root, '.venv-anndata-0.13', 'bin', 'python');

/** Every python module a peer needs; one probe process imports them all (python start-up is slow). */
const PYTHON_MODULES = ['zarr', 'zarrs', 'tensorstore'];
const probes = new Map();

/** Per module of the venv at `root`: `{ version }` when it imports, else `{ reason }`. */
function probePython(root) {
  if (!probes.has(root)) {
    const py = pythonOf(root);
    let found;
    if (!existsSync(py)) {
      const reason = `${py} is missing (scripts/fixtures/requirements-013.txt)`;
      found = Object.fromEntries(PYTHON_MODULES.map((m) => [m, { reason }]));
    } else {
      // Importing proves the peer works; the versions come from the installed distributions.
      const code = [
        'import importlib, importlib.metadata as m, json',
        'out = {}',
        `for d in ${JSON.stringify(PYTHON_MODULES)}:`,
        '    try:',
        '        importlib.import_module(d); out[d] = {"version": m.version(d)}',
        '    except Exception as e:',
        '        out[d] = {"reason": f"cannot import {d}: {e}"}',
        'print(json.dumps(out))',
      ].join('\n');
      const r = spawnSync(py, ['-c', code], { encoding: 'utf8' });
      const reason = `${py} does not run: ${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)}`;
      found = r.status === 0 ? JSON.parse(r.stdout) : Object.fromEntries(PYTHON_MODULES.map((m) => [m, { reason }]));
    }
    probes.set(root, found);
  }
  return probes.get(root);
}

function pythonPeer(name, label, modules) {
  const check = (root) => {
    const found = modules.map((m) => probePython(root)[m]);
    const missing = found.find((f) => f.reason);
    return missing ?? { version: found.map((f, i) => `${modules[i]} ${f.version}`).join(' + ') };
  };
  return {
    name,
    label,
    python: true,
    unavailable: ({ root }) => check(root).reason,
    version: (root) => check(root).version,
    command: ({ root, specPath }) => [pythonOf(root), [join(root, 'bench', 'peers', 'python.py'), name, specPath]],
  };
}

const nodePeer = (name, label, unavailable, version) => ({
  name,
  label,
  unavailable,
  version,
  command: ({ root, specPath }) => [
    process.execPath,
    ['--expose-gc', join(root, 'bench', 'peers', 'node.mjs'), name, specPath],
  ],
});

/** Locked zarrs version: the raw peer and the addon are built from the same Cargo.lock. */
function zarrsVersion(root) {
  const m = /name = "zarrs"\nversion = "([^"]+)"/.exec(readFileSync(join(root, 'Cargo.lock'), 'utf8'));
  return `zarrs ${m?.[1] ?? '?'}`;
}

export const PEERS = [
  nodePeer(
    'zarrs-node',
    'zarrs-node',
    ({ root }) =>
      existsSync(join(root, 'dist', 'index.js')) ? undefined : 'dist/ is not built (node scripts/build.mjs)',
    (root) =>
      `zarrs-node ${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version} on ${zarrsVersion(root)}`,
  ),
  {
    name: 'raw-zarrs',
    label: 'raw zarrs (Rust)',
    // Built beforehand (`npm run bench`, or scripts/test.sh for --smoke), never here: a cold cargo
    // build inside a timed run is what made the smoke test time out.
    unavailable: ({ root, profile }) =>
      rawBinary(root, profile) ? undefined : `run 'cargo build --profile ${profile} -p zarrs-node-bench-raw' first`,
    version: zarrsVersion,
    command: ({ root, profile, specPath }) => [rawBinary(root, profile), [specPath]],
  },
  nodePeer('zarrita', 'zarrita.js', ({ root }) =>
    existsSync(join(root, 'node_modules', 'zarrita')) ? undefined : 'npm install (devDependency zarrita)',
  ),
  pythonPeer('zarr-python', 'zarr-python', ['zarr']),
  pythonPeer('zarrs-python', 'zarr-python + zarrs-python', ['zarr', 'zarrs']),
  pythonPeer('tensorstore', 'tensorstore', ['tensorstore']),
];
