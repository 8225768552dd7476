// `npm install` (prepare) and `npm run build`: build the native addon from source when it is
// missing or older than the Rust sources (a development checkout ships no binary), then compile
// the TypeScript. `--force` rebuilds both; `--release` builds an optimised addon (benchmarks).
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const nativeDir = join(root, 'src-ts', 'native');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'target' || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function addonTime() {
  if (!existsSync(nativeDir)) return 0;
  const nodes = readdirSync(nativeDir).filter((f) => f.endsWith('.node'));
  return nodes.length ? Math.max(...nodes.map((f) => statSync(join(nativeDir, f)).mtimeMs)) : 0;
}

const run = (cmd) => execSync(cmd, { cwd: root, stdio: 'inherit' });
const sources = Math.max(
  newest(join(root, 'crates')),
  statSync(join(root, 'Cargo.toml')).mtimeMs,
  statSync(join(root, 'Cargo.lock')).mtimeMs,
);
if (args.has('--force') || args.has('--release') || addonTime() < sources) {
  run(args.has('--release') ? 'npm run build:native:release' : 'npm run build:native');
}
run('npm run build:ts');
