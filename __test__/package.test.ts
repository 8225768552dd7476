// The `npm install` path users take: pack the main package and this platform's binary package,
// install both into an empty project (no source tree, no Rust), and run a program there.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { ROOT, tmp } from './helpers.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

test('packed packages install and run in an empty project', () => {
  const work = tmp('zn-pack-');
  const node = readdirSync(join(ROOT, 'src-ts', 'native')).find((f) => f.endsWith('.node'));
  expect(node, 'build the addon first (npm run build)').toBeDefined();
  const triple = node!.replace(/^zarrs-node\./, '').replace(/\.node$/, '');

  // The platform package, as CI assembles it with `napi artifacts`.
  const platformDir = join(work, 'platform');
  cpSync(join(ROOT, 'npm', triple), platformDir, { recursive: true });
  cpSync(join(ROOT, 'src-ts', 'native', node!), join(platformDir, node!));
  const pack = (dir: string) =>
    execFileSync(npm, ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], {
      cwd: dir,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop()!;
  const mainTgz = join(work, pack(ROOT));
  const platformTgz = join(work, pack(platformDir));

  const main = execFileSync('tar', ['-tzf', mainTgz], { encoding: 'utf8' });
  expect(main).toContain('package/dist/index.js');
  expect(main).not.toMatch(/\.node\n/); // the binary ships only in the platform package
  expect(main).not.toContain('package/crates/');

  const app = join(work, 'app');
  cpSync(join(ROOT, '__test__', 'fixtures', 'package-app'), app, { recursive: true });
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--ignore-scripts', mainTgz, platformTgz], {
    cwd: app,
    stdio: 'pipe',
  });
  // The only binary in the installed tree is the platform package's.
  const binaries = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? binaries(join(dir, e.name)) : e.name.endsWith('.node') ? [join(dir, e.name)] : [],
    );
  expect(binaries(join(app, 'node_modules'))).toEqual([join(app, 'node_modules', `zarrs-node-${triple}`, node!)]);
  const out = execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual({ sum: 4950, shards: [50], tree: '/\n└── x (100,) float64\n' });
});

test('the README stands on its own: every relative link resolves inside the repository', () => {
  const md = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const links = [...md.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/i.test(l));
  expect(links.length).toBeGreaterThan(0);
  for (const link of links) {
    const rel = relative(ROOT, resolve(ROOT, link));
    expect(rel.startsWith('..'), `${link} points outside the repository`).toBe(false);
    expect(existsSync(join(ROOT, rel)), `${link} does not exist`).toBe(true);
  }
  // a path outside the package, even unlinked, is nothing a user has
  expect(md).not.toMatch(/\.\.\/shared\//);
});
