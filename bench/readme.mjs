// The README's benchmark section, between `<!-- bench:start -->` and `<!-- bench:end -->`, from
// one results JSON of the driver (bench/all.mjs): the chart, when and where it ran, every target
// met or missed. The driver calls it after a full run; by hand it rewrites the section from a
// committed run:
//
//   node bench/readme.mjs [bench/results/<date>-<host>.json]    # default: the newest full run
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { targetTable } from './report.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/** The newest full (not smoke) results JSON in `dir`: names start with the run's date. */
function newestResult(dir) {
  const runs = readdirSync(dir)
    .filter((f) => /^\d{4}-\d{2}-\d{2}-.*\.json$/.test(f))
    .map((f) => ({ path: join(dir, f), result: JSON.parse(readFileSync(join(dir, f), 'utf8')) }))
    // the array harness alone writes the same name pattern, without `suites`
    .filter(({ result: r }) => r.meta && !r.meta.smoke && Array.isArray(r.suites))
    .sort((a, b) => a.result.meta.date.localeCompare(b.result.meta.date))
    .map((r) => r.path);
  if (!runs.length) throw new Error(`no results of a full run of bench/all.mjs in ${dir}`);
  return runs[runs.length - 1];
}

/**
 * The section's Markdown for `result` (the driver's JSON, written to `resultsDir/json`); links
 * relative to the README.
 */
export function readmeSection(result, { resultsDir, json }) {
  const { meta, targets, suites } = result;
  const rel = (f) => relative(root, join(resultsDir, f)).split('\\').join('/');
  const load = (l) => l.map((x) => x.toFixed(1)).join(' / ');
  const ran = suites.map((s) =>
    s.skipped
      ? `${s.name} (skipped: ${s.skipped})`
      : s.error
        ? `${s.name} (FAILED)`
        : `${s.name} (${Math.round(s.seconds / 60)} min)`,
  );
  const met = targets.filter((t) => t.met).length;
  return [
    `![time per operation and peer, log scale](${rel('latest.svg')})`,
    '',
    `Run of ${meta.date.slice(0, 16).replace('T', ' ')} UTC on ${meta.host} (${meta.cpu}), Node ${meta.node}, load average ${load(meta.loadavg.before)} before and ${load(meta.loadavg.after)} after; suites ${ran.join(', ')}.${(meta.reruns ?? []).map((r) => ` Rerun into it at ${r.date.slice(11, 16)} UTC: ${r.suites.join(', ')}.`).join('')} Every peer's versions, each suite's tables and the physical limits: [${rel('latest.md')}](${rel('latest.md')}); the raw numbers: [${rel(json)}](${rel(json)}).`,
    '',
    `Targets of the benchmark protocol: ${met} of ${targets.length} met.`,
    '',
    targetTable(targets, true),
  ].join('\n');
}

/** Replace the section of `readmePath` with `section`; throws when the markers are missing. */
export function updateReadme(readmePath, section) {
  const text = readFileSync(readmePath, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${readmePath}: no ${START} ... ${END} section`);
  writeFileSync(readmePath, `${text.slice(0, a + START.length)}\n${section}\n${text.slice(b)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const resultsDir = join(root, 'bench', 'results');
  const path = process.argv[2] ?? newestResult(resultsDir);
  const section = readmeSection(JSON.parse(readFileSync(path, 'utf8')), { resultsDir, json: basename(path) });
  updateReadme(join(root, 'README.md'), section);
  console.log(`README.md: benchmark section from ${relative(root, path)}`);
}
