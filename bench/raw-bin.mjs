// Where cargo put the raw-zarrs peer: `target/<profile>/` for a plain build, or
// `target/<triple>/<profile>/` when built with an explicit `--target` (as scripts/test.sh does, so
// it shares the native addon's artifacts). The newest of the two wins.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const NAME = process.platform === 'win32' ? 'zarrs-node-bench-raw.exe' : 'zarrs-node-bench-raw';

/** Path of the raw-zarrs benchmark binary for `profile`, or undefined when it was never built. */
export function rawBinary(root, profile) {
  const target = join(root, 'target');
  if (!existsSync(target)) return undefined;
  const candidates = [join(target, profile, NAME)];
  for (const e of readdirSync(target, { withFileTypes: true })) {
    if (e.isDirectory() && e.name.includes('-')) candidates.push(join(target, e.name, profile, NAME));
  }
  const built = candidates.filter((p) => existsSync(p));
  built.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return built[0];
}
