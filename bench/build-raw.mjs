// Build the raw-zarrs peer in the release profile for the host's explicit target triple, as
// `napi build` does for the addon, so both share one set of compiled dependencies.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const host = /^host: (.+)$/m.exec(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }))?.[1];
if (!host) throw new Error("could not read the host triple from 'rustc -vV'");
execFileSync('cargo', ['build', '--release', '--target', host, '-p', 'zarrs-node-bench-raw'], {
  cwd: root,
  stdio: 'inherit',
});
