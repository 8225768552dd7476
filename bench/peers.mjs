// The benchmark's peers, one registry: how to tell whether each is installed (a reason when not)
// and the command that runs it on a spec. A new peer (e.g. AnnData level) is one more entry.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawBinary } from './raw-bin.mjs';

/** The Python 3.12 venv with zarr-python 3.4.2, zarrs-python 0.2.3 and tensorstore 0.1.86. */
export const pythonOf = (root) => join(root, '.venv-anndata-0.13', 'bin', 'python');

function pythonPeer(name, label, modules) {
  const probe = new Map();
  const check = (root) => {
    if (!probe.has(root)) {
      const py = pythonOf(root);
      if (!existsSync(py)) {
        probe.set(root, { reason: `${py} is missing (scripts/fixtures/requirements-013.txt)` });
      } else {
        // Importing proves the peer works; the versions come from the installed distributions.
        const code = `import json, importlib.metadata as m; import ${modules.join(', ')}; print(json.dumps([m.version(d) for d in ${JSON.stringify(modules)}]))`;
        const r = spawnSync(py, ['-c', code], { encoding: 'utf8' });
        probe.set(
          root,
          r.status === 0
            ? {
                version: JSON.parse(r.stdout)
                  .map((v, i) => `${modules[i]} ${v}`)
                  .join(' + '),
              }
            : { reason: `cannot import ${modules.join(', ')}: ${r.stderr.trim().split('\n').at(-1)}` },
        );
      }
    }
    return probe.get(root);
  };
  return {
    name,
    label,
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
