// The one benchmark driver: runs each suite's harness (bench/suites.mjs) as its own child process,
// one after the other (they share the machine's cores), and gathers every suite's rows into one
// results JSON, one Markdown report and one SVG chart. See bench/README.md.
//
//   npm run bench                                   # release builds, then every suite, full size
//   node bench/all.mjs --smoke --out DIR            # every suite at tiny sizes; the test suite runs this
//   node bench/all.mjs --suites arrays,lazy --arrays='--side 256 --peers zarrs-node,tensorstore'
//   node bench/all.mjs --suites convert --into bench/results/<date>-<host>.json  # rerun one suite
//       into a full run (after a fix): the others' results are kept, the report names the rerun
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pythonOf } from './peers.mjs';
import { readmeSection, updateReadme } from './readme.mjs';
import { writeCombinedReport } from './report.mjs';
import { SUITES } from './suites.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const names = SUITES.map((s) => s.name);
const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    suites: { type: 'string', default: names.join(',') },
    threads: { type: 'string' },
    // suites run at once (default 1; --smoke: 2)
    jobs: { type: 'string' },
    out: { type: 'string' },
    // a full run's results JSON: the suites run now replace their entries in it
    into: { type: 'string' },
    // extra arguments for one suite's harness, e.g. --arrays='--side 256 --ops read_all'
    ...Object.fromEntries(names.map((n) => [n, { type: 'string' }])),
  },
});
const wanted = args.suites.split(',').filter(Boolean);
const unknown = wanted.filter((n) => !names.includes(n));
if (unknown.length) throw new Error(`--suites: unknown ${unknown.join(', ')} (known: ${names.join(', ')})`);
const outDir = args.out ?? join(root, 'bench', 'results');
const work = mkdtempSync(join(tmpdir(), 'zn-bench-all-'));

/** Run one harness to its end, its output passed through; resolves to its exit code and output. */
function runHarness(argv) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const got = { out: '', err: '' };
    const keep = (stream, k) => (b) => {
      got[k] += b;
      stream.write(b);
    };
    child.stdout.on('data', keep(process.stdout, 'out'));
    child.stderr.on('data', keep(process.stderr, 'err'));
    child.on('close', (code) => resolve({ code, ...got }));
  });
}

/** Installed versions of the python benchmark packages (metadata only: no slow imports). */
function pythonVersions() {
  const out = {};
  for (const [venv, py] of [
    ['.venv-anndata-0.13', pythonOf(root)],
    ['.venv', join(root, '.venv', 'bin', 'python')],
  ]) {
    if (!existsSync(py)) continue;
    const code = `import importlib.metadata as m, json, sys
v = {}
for d in ["anndata", "zarr", "zarrs", "tensorstore"]:
    try:
        v[d] = m.version(d)
    except m.PackageNotFoundError:
        pass
print(json.dumps({"python": sys.version.split()[0], **v}))`;
    const r = spawnSync(py, ['-c', code], { encoding: 'utf8' });
    if (r.status === 0) out[venv] = JSON.parse(r.stdout);
  }
  return out;
}

/** Run one suite's harness and collect its report: `{ name, title, rows, ... }`, or why not. */
async function runSuite(suite) {
  const script = join(root, 'bench', suite.script);
  const why = !existsSync(script) ? `${join('bench', suite.script)} is missing` : suite.unavailable?.(root);
  if (why) {
    console.log(`skipping suite ${suite.name}: ${why}`);
    return { name: suite.name, title: suite.title, skipped: why };
  }
  const dir = join(work, suite.name);
  mkdirSync(dir, { recursive: true });
  const extra = (args[suite.name] ?? '').split(/\s+/).filter(Boolean);
  const argv = [
    ...(suite.node ?? []),
    script,
    ...(args.smoke ? suite.smoke : []),
    ...(args.threads ? ['--threads', args.threads] : []),
    '--out',
    dir,
    ...extra,
  ];
  console.log(`\n== suite ${suite.name}: node ${argv.map((a) => a.replace(root, '.')).join(' ')}`);
  const t = performance.now();
  const { code, out, err } = await runHarness(argv);
  const seconds = (performance.now() - t) / 1000;
  // what the harness skipped, with its reason, in its own words ("skip ...", "skipping ...")
  const skippedPeers = out.split('\n').filter((l) => /^skip(ping)? /.test(l));
  let collected;
  let error;
  try {
    collected = suite.collect(dir);
  } catch (e) {
    error = `no report: ${e.message}`;
  }
  if (code !== 0) {
    // why, in the harness's words: an uncaught error's message, else its last line on stderr
    const lines = err.trim().split('\n').filter(Boolean);
    const why = lines.findLast((l) => /^\w*Error\b/.test(l.trim())) ?? lines.at(-1) ?? 'no output';
    error = `${join('bench', suite.script)} exited with ${code}: ${why}`;
  }
  if (error) console.log(`suite ${suite.name} failed: ${error}`);
  const rows = (collected?.rows ?? []).map((r) => ({ suite: suite.name, ...r }));
  return {
    name: suite.name,
    title: suite.title,
    seconds,
    argv: argv.slice(1),
    skippedPeers,
    error,
    ...collected,
    rows,
  };
}

/**
 * The full run in `file` with the suites of this run in place of its own (in its order), and
 * the rerun recorded in its meta: `{ meta, suites }`.
 */
function spliced(file) {
  const before = JSON.parse(readFileSync(file, 'utf8'));
  const rerun = new Map(suites.map((s) => [s.name, s]));
  const kept = (before.suites ?? []).map((s) => rerun.get(s.name) ?? s);
  for (const s of suites) if (!kept.includes(s)) kept.push(s);
  const reruns = [...(before.meta.reruns ?? []), { date: startedAt, suites: suites.map((s) => s.name) }];
  return { meta: { ...before.meta, reruns }, suites: kept };
}

const startedAt = new Date().toISOString();
const loadBefore = loadavg();
// Timed runs go one suite at a time (they share the cores); a smoke run, whose times mean nothing,
// runs `jobs` at once, as most of its time is python start-up and waiting on children.
const jobs = Math.max(1, Number(args.jobs ?? (args.smoke ? 2 : 1)));
const queue = SUITES.filter((s) => wanted.includes(s.name));
const suites = new Array(queue.length);
let next = 0;
await Promise.all(
  Array.from({ length: jobs }, async () => {
    while (next < queue.length) {
      const i = next++;
      suites[i] = await runSuite(queue[i]);
    }
  }),
);

const thisRun = {
  date: startedAt,
  host: hostname(),
  cpu: `${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores)`,
  // other jobs on a shared machine move absolute times; the report says how busy it was
  loadavg: { before: loadBefore, after: loadavg() },
  node: process.version,
  smoke: args.smoke,
  python: pythonVersions(),
};
const { meta, suites: all } = args.into ? spliced(args.into) : { meta: thisRun, suites };
const { files, result } = writeCombinedReport(outDir, { meta, suites: all });
console.log(`\nwrote ${files.map((f) => join(outDir, f)).join(', ')}`);
// A full run into the committed results also rewrites the README's section (its chart and targets).
if (!args.smoke && args.out === undefined) {
  updateReadme(join(root, 'README.md'), readmeSection(result, { resultsDir: outDir, json: files[0] }));
  console.log('rewrote the benchmark section of README.md');
}
rmSync(work, { recursive: true, force: true });
const failed = suites.filter((s) => s.error);
const wrong = suites.flatMap((s) => s.rows ?? []).filter((r) => r.ok === false);
if (failed.length) console.error(`failed suites: ${failed.map((s) => s.name).join(', ')}`);
if (wrong.length) console.error(`${wrong.length} rows whose values did not check`);
if (failed.length || wrong.length) process.exitCode = 1;
