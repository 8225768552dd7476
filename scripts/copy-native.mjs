// Copy the generated native loader (and, in a development checkout, the built .node file) next
// to the compiled TypeScript so `dist/` runs on its own.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'src-ts', 'native');
const to = join(root, 'dist', 'native');
mkdirSync(to, { recursive: true });
for (const f of readdirSync(from)) {
  if (f.endsWith('.js') || f.endsWith('.d.ts') || f.endsWith('.node')) copyFileSync(join(from, f), join(to, f));
}
