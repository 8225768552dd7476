// The benchmark report: results JSON, a Markdown table (per variant: each operation per peer, as
// time and as a ratio to zarrs-node, plus the share of the physical limit) and an SVG chart.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PEERS } from './peers.mjs';

const OP_LABEL = {
  write: 'write',
  read_all: 'read all',
  chunks_1: 'chunk by chunk (1)',
  chunks_2: 'chunk by chunk (2)',
  inner_1: 'inner chunk by inner chunk (1)',
  inner_2: 'inner chunk by inner chunk (2)',
  round_trip: 'round trip',
  random: 'random block reads',
  single: 'single-element reads',
};
/** Labels under the chart's bar groups, short enough for one group's width. */
const OP_SHORT = {
  write: 'write',
  read_all: 'read all',
  chunks_1: 'chunks 1',
  chunks_2: 'chunks 2',
  inner_1: 'inner 1',
  inner_2: 'inner 2',
  round_trip: 'round trip',
  random: 'random',
  single: 'single',
};
const label = (peer) => PEERS.find((p) => p.name === peer)?.label ?? peer;
const ZSTD_VARIANTS = new Set(['zstd0', 'sharded', 'sharded32']);

/** Bytes per second the hardware allows for `op` on `variant`, or undefined where none applies. */
export function limitOf(limits, variant, op) {
  if (limits.skipped || op === 'random' || op === 'single') return undefined;
  const { decodeN, encodeN } = limits.zstd;
  if (ZSTD_VARIANTS.has(variant)) {
    if (op === 'write') return encodeN;
    if (op === 'round_trip') return 1 / (1 / decodeN + 1 / encodeN);
    return decodeN;
  }
  if (variant === 'uncompressed' && op !== 'write' && op !== 'round_trip')
    return limits.pageCache.uncompressed.bytesPerS;
  return undefined;
}

const fmtMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const gbs = (b) => `${(b / 1e9).toFixed(2)} GB/s`;

function table({ meta, rows, limits }) {
  const peers = [...new Set(rows.map((r) => r.peer))];
  const out = [];
  for (const variant of [...new Set(rows.map((r) => r.variant))]) {
    out.push(`### ${variant}\n`);
    out.push(`| operation | ${peers.map(label).join(' | ')} | zarrs-node: share of limit |`);
    out.push(`|---|${peers.map(() => '---:').join('|')}|---:|`);
    for (const op of [...new Set(rows.filter((r) => r.variant === variant).map((r) => r.op))]) {
      const get = (p) => rows.find((r) => r.variant === variant && r.op === op && r.peer === p);
      const ours = get('zarrs-node');
      const cell = (r) => {
        if (!r) return '';
        if (r.error) return 'n/a¹';
        if (!r.checksumOk) return 'MISMATCH';
        const ratio = ours?.medianMs ? ` (${(r.medianMs / ours.medianMs).toFixed(2)}x)` : '';
        return `${fmtMs(r.medianMs)}${ratio}`;
      };
      const limit = limitOf(limits, variant, op);
      const share =
        limit && ours?.medianMs ? `${((100 * meta.bytes) / (ours.medianMs / 1e3) / limit).toFixed(0)}%` : '';
      out.push(`| ${OP_LABEL[op]} ms | ${peers.map((p) => cell(get(p))).join(' | ')} | ${share} |`);
      if (op === 'random' || op === 'single') {
        const us = (k) => (r) => (r?.[k] !== undefined ? r[k].toFixed(0) : '');
        out.push(`| ${OP_LABEL[op]} p50 us | ${peers.map((p) => us('p50Us')(get(p))).join(' | ')} | |`);
        if (op === 'random')
          out.push(`| ${OP_LABEL[op]} p99 us | ${peers.map((p) => us('p99Us')(get(p))).join(' | ')} | |`);
      }
    }
    out.push('');
  }
  return { peers, text: out.join('\n') };
}

function rssTable(rows, peers) {
  const lines = [
    `| variant / operation | ${peers.map(label).join(' | ')} |`,
    `|---|${peers.map(() => '---:').join('|')}|`,
  ];
  for (const r0 of rows.filter((r) => r.peer === peers[0] && (r.op === 'read_all' || r.op === 'write'))) {
    const cells = peers.map((p) => {
      const r = rows.find((x) => x.variant === r0.variant && x.op === r0.op && x.peer === p);
      return r?.peakRssKiB ? (r.peakRssKiB / 1024).toFixed(0) : '';
    });
    lines.push(`| ${r0.variant} / ${OP_LABEL[r0.op]} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function wholeTable(whole, peers) {
  if (!whole.length) return '';
  const lines = [
    `| variant / operation | ${peers.map(label).join(' | ')} |`,
    `|---|${peers.map(() => '---:').join('|')}|`,
  ];
  const keys = [...new Set(whole.map((w) => `${w.variant}/${w.op}`))];
  for (const k of keys) {
    const get = (p) => whole.find((w) => `${w.variant}/${w.op}` === k && w.peer === p);
    const ours = get('zarrs-node');
    const cells = peers.map((p) => {
      const w = get(p);
      if (!w) return '';
      if (w.error) return 'n/a¹';
      return `${fmtMs(w.medianMs)}${ours?.medianMs ? ` (${(w.medianMs / ours.medianMs).toFixed(2)}x)` : ''}`;
    });
    const [variant, op] = k.split('/');
    lines.push(`| ${variant} / ${OP_LABEL[op]} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The protocol's array-level targets, each measured on the sharded variant: `{ target, measured, met }`. */
export function arrayTargets({ meta, rows, whole, limits }) {
  const get = (set, peer, op, variant = 'sharded') =>
    set.find((r) => r.variant === variant && r.peer === peer && r.op === op && r.medianMs);
  const ratio = (set, peer, op, k = 'medianMs') => {
    const ours = get(set, 'zarrs-node', op);
    const theirs = get(set, peer, op);
    return ours && theirs ? theirs[k] / ours[k] : undefined;
  };
  const out = [];
  const add = (target, value, met, unit = 'x') => {
    if (value === undefined || Number.isNaN(value)) return;
    out.push({ target, measured: unit === '%' ? `${value.toFixed(0)}%` : `${value.toFixed(2)}x`, met });
  };
  const fullZarrita = ratio(whole, 'zarrita', 'read_all');
  add('full read >= 5x zarrita.js (whole process)', fullZarrita, fullZarrita >= 5);
  const rnd = ratio(rows, 'zarrita', 'random');
  add('random block reads >= 3x zarrita.js (in process)', rnd, rnd >= 3);
  for (const op of ['write', 'read_all', 'chunks_1', 'inner_1', 'round_trip', 'random', 'single']) {
    const raw = get(rows, 'raw-zarrs', op);
    const ours = get(rows, 'zarrs-node', op);
    if (raw && ours)
      add(
        `${OP_LABEL[op]}: zarrs-node / raw zarrs <= 1.10x`,
        ours.medianMs / raw.medianMs,
        ours.medianMs / raw.medianMs <= 1.1,
      );
    for (const peer of ['zarr-python', 'zarrs-python', 'tensorstore']) {
      const r = ratio(rows, peer, op);
      add(`${OP_LABEL[op]}: faster than ${label(peer)} (their time / ours)`, r, r > 1);
    }
  }
  const limit = limitOf(limits, 'sharded', 'read_all');
  const ours = get(rows, 'zarrs-node', 'read_all');
  if (limit && ours) {
    const share = (100 * meta.bytes) / (ours.medianMs / 1e3) / limit;
    add(`full read >= 70% of ${limits.zstd.cores} x zstd -b decode`, share, share >= 70, '%');
    // What a read into one fresh output can reach: decoding plus the output floor, one after
    // the other on each thread.
    const floor = limits.outputFloor?.ms;
    if (floor !== undefined) {
      const reachable = (100 * ((meta.bytes / limit) * 1e3 + floor)) / ours.medianMs;
      add(`full read >= 70% of decode + output floor (${fmtMs(floor)} ms)`, reachable, reachable >= 70, '%');
    }
  }
  const single = get(rows, 'zarrs-node', 'single');
  if (single?.p50Us !== undefined)
    out.push({
      target: 'single-element read <= 20 us (p50)',
      measured: `${single.p50Us.toFixed(1)} us`,
      met: single.p50Us <= 20,
    });
  return out;
}

/** Targets as a Markdown table; `withSuite` adds the suite each one belongs to. */
export function targetTable(targets, withSuite = false) {
  const head = withSuite
    ? '| suite | target | measured | met |\n|---|---|---:|:---:|'
    : '| target | measured | met |\n|---|---:|:---:|';
  const line = (t) => `| ${withSuite ? `${t.suite} | ` : ''}${t.target} | ${t.measured} | ${t.met ? 'yes' : 'no'} |`;
  return [head, ...targets.map(line)].join('\n');
}

const COLORS = ['#d62728', '#7f7f7f', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * Grouped bars (one group per operation, one bar per peer) in stacked panels, each panel with its
 * own legend and log-scale time axis (suites differ by orders of magnitude).
 * panels: [{ title, groups: [{ label, bars: [{ peer, ms, note? }] }] }]; peers keep their colour
 * within a panel, the first peer (zarrs-node) is always red.
 */
export function barChart(title, panels) {
  const shown = panels
    .map((p) => ({ ...p, groups: p.groups.filter((g) => g.bars.some((b) => b.ms > 0)) }))
    .filter((p) => p.groups.length);
  if (!shown.length) return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>\n';
  const bar = 9;
  const gap = 18;
  const left = 60;
  const plotH = 140;
  const legendH = 16;
  const panelH = plotH + legendH + 56;
  const peersOf = (p) => [...new Set(p.groups.flatMap((g) => g.bars.map((b) => b.peer)))];
  // Legend entries sized by their text (about 6 px per character at this font size).
  const legendWidth = (p) => peersOf(p).reduce((w, peer) => w + 30 + peer.length * 6, left);
  const groupsWidth = (p) => left + p.groups.length * (peersOf(p).length * bar + gap) + 20;
  const width = Math.max(...shown.map((p) => Math.max(groupsWidth(p), legendWidth(p))), 8 * title.length);
  const top = 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + shown.length * panelH}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="16" font-size="13">${esc(title)}</text>`,
  ];
  shown.forEach((panel, pi) => {
    const peers = peersOf(panel);
    const values = panel.groups.flatMap((g) => g.bars.map((b) => b.ms)).filter((ms) => ms > 0);
    const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
    const hi = Math.max(lo * 10, 10 ** Math.ceil(Math.log10(Math.max(...values))));
    const y = (ms) => plotH - (plotH * Math.log10(ms / lo)) / Math.log10(hi / lo);
    const plotTop = 12 + legendH;
    parts.push(`<g transform="translate(0 ${top + pi * panelH})">`);
    parts.push(`<text x="${left}" y="4" font-size="12" font-weight="bold">${esc(panel.title)}</text>`);
    let lx = left;
    peers.forEach((peer, i) => {
      parts.push(`<rect x="${lx}" y="10" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`);
      parts.push(`<text x="${lx + 14}" y="19">${esc(peer)}</text>`);
      lx += 30 + peer.length * 6;
    });
    for (let t = lo; t <= hi; t *= 10) {
      const ty = plotTop + y(t);
      parts.push(`<line x1="${left}" x2="${width - 10}" y1="${ty}" y2="${ty}" stroke="#ddd"/>`);
      parts.push(`<text x="${left - 4}" y="${ty + 3}" text-anchor="end">${t >= 1 ? t : t.toPrecision(1)} ms</text>`);
    }
    panel.groups.forEach((g, gi) => {
      const gx = left + 6 + gi * (peers.length * bar + gap);
      for (const b of g.bars.filter((x) => x.ms > 0)) {
        const i = peers.indexOf(b.peer);
        const by = plotTop + y(b.ms);
        parts.push(
          `<rect x="${gx + i * bar}" y="${by.toFixed(1)}" width="${bar - 1}" height="${(plotTop + plotH - by).toFixed(1)}" fill="${COLORS[i % COLORS.length]}"><title>${esc(`${b.peer} ${g.label}: ${fmtMs(b.ms)} ms`)}</title></rect>`,
        );
      }
      const tx = gx + (peers.length * bar) / 2;
      parts.push(`<text x="${tx}" y="${plotTop + plotH + 12}" text-anchor="middle">${esc(g.label)}</text>`);
    });
    parts.push('</g>');
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** The array suite's panels: one per variant (in-process medians), one for the whole-process runs. */
export function arrayPanels({ rows, whole }) {
  const ok = rows.filter((r) => r.medianMs > 0 && r.checksumOk);
  const peers = [...new Set(rows.map((r) => r.peer))];
  const panel = (title, set, groupOf, keys) => ({
    title,
    groups: keys.map((k) => ({
      label: groupOf(k),
      bars: peers.flatMap((p) => {
        const r = set.find((x) => x.key === k && x.peer === p);
        return r ? [{ peer: label(p), ms: r.medianMs }] : [];
      }),
    })),
  });
  const panels = [...new Set(rows.map((r) => r.variant))].map((v) => {
    const set = ok.filter((r) => r.variant === v).map((r) => ({ ...r, key: r.op }));
    return panel(`${v}: in process`, set, (op) => OP_SHORT[op], [...new Set(set.map((r) => r.key))]);
  });
  const w = (whole ?? []).filter((r) => r.medianMs > 0).map((r) => ({ ...r, key: `${r.variant}/${r.op}` }));
  if (w.length)
    panels.push(
      panel('whole process (start-up included)', w, (k) => k.replace('/', ' ').replace('read_all', 'read all'), [
        ...new Set(w.map((r) => r.key)),
      ]),
    );
  return panels;
}

/** The array suite's chart: its panels under one title. */
export function svgChart(result) {
  const { meta } = result;
  return barChart(
    `uint16 ${meta.side}^3 (${meta.bytes / 2 ** 20} MiB), ${meta.threads} threads, median ms (log scale, lower is better)`,
    arrayPanels(result),
  );
}

/** One footnote line per peer and reason, naming where it applied. */
function notAvailable(errors) {
  if (!errors.length) return '';
  const byReason = new Map();
  for (const e of errors) {
    const k = `${label(e.peer)}: ${e.error}`;
    byReason.set(k, [...(byReason.get(k) ?? []), `${e.variant} ${OP_LABEL[e.op]}`]);
  }
  return `¹ not available: ${[...byReason].map(([k, where]) => `${k} (${where.join(', ')})`).join('; ')}`;
}

/** The output floor, as a sentence of the limit paragraph. */
function floorText(floor) {
  if (!floor) return '';
  if (floor.skipped) return ` Output floor: not measured (${floor.skipped}).`;
  return ` Output floor: ${fmtMs(floor.ms)} ms to fill a fresh ${floor.bytes / 2 ** 20} MiB output from hot ${floor.chunk}^3 blocks (page faults and row copies, no decoding; raw Rust, ${floor.threads} threads, huge pages), which every full read into one output pays besides decoding.`;
}

/** The array suite alone: `arrays-<date>-<host>.json`, its Markdown report and SVG chart; returns the file names. */
export function writeReport(outDir, result) {
  mkdirSync(outDir, { recursive: true });
  const { meta, rows, whole, limits } = result;
  const stamp = `${meta.date.slice(0, 10)}-${meta.host}`;
  // `arrays-`: the one driver (bench/all.mjs) owns latest.md / latest.svg / <date>-<host>.json.
  const name = meta.smoke ? 'arrays-smoke' : 'arrays-latest';
  const { peers, text } = table(result);
  const errors = [...rows, ...whole].filter((r) => r.error);
  const z = limits.zstd;
  const md = [
    `# Array benchmark: uint16 ${meta.side}^3 (${meta.bytes / 2 ** 20} MiB)`,
    '',
    `${meta.date} on ${meta.host} (${meta.cpu}${meta.loadavg ? `, load average ${meta.loadavg.map((l) => l.toFixed(1)).join(' / ')} at the end` : ''}), Node ${meta.node}; ${meta.threads} threads for every peer; median of ${meta.repeats} in-process runs after a warm-up; ${meta.random} random ${meta.layout.block}^3 blocks (not chunk-aligned), ${meta.points} single elements.`,
    '',
    `Peers: ${Object.entries(meta.versions)
      .map(([p, v]) => `${label(p)} (${v})`)
      .join(
        ', ',
      )}.${meta.skipped.length ? ` Skipped: ${meta.skipped.map((s) => `${s.peer} (${s.reason})`).join('; ')}.` : ''}`,
    '',
    `Layout: chunks ${meta.layout.chunk}^3; sharded: shards ${meta.layout.shard}^3 with inner chunks ${meta.layout.chunk}^3 (sharded32: ${meta.layout.small}^3); zstd level 0; blosc zstd 5 + shuffle. Cells: median ms (time / zarrs-node time, > 1 means zarrs-node is faster). Every read was checked against the sum of the generated values; every write was read back and checked.`,
    '',
    limits.skipped
      ? `Physical limit: not measured (${limits.skipped}).`
      : `Physical limit on this machine and data (\`${z.command}\`): decode ${gbs(z.decode1)} on one core, ${gbs(z.decodeN)} on ${z.cores}; encode ${gbs(z.encode1)} / ${gbs(z.encodeN)}. Page cache: ${gbs(limits.pageCache.uncompressed.bytesPerS)} (uncompressed store), ${gbs(limits.pageCache.zstd0.bytesPerS)} (zstd store).${floorText(limits.outputFloor)} The last column is zarrs-node's throughput (decoded bytes / time) as a share of it: decode for reads, encode for writes, both for the round trip, the page cache for the uncompressed reads.`,
    '',
    '## In process (the operation only)',
    '',
    text,
    '## Whole process (start-up, imports, open, one operation: what a CLI user pays)',
    '',
    wholeTable(whole, peers),
    '',
    '## Peak RSS (MiB, per operation)',
    '',
    rssTable(rows, peers),
    '',
    '## Targets (sharded variant)',
    '',
    targetTable(arrayTargets(result)),
    '',
    notAvailable(errors),
  ].join('\n');
  const files = [`arrays-${stamp}.json`, `${name}.md`, `${name}.svg`];
  writeFileSync(join(outDir, files[0]), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(outDir, files[1]), `${md}\n`);
  writeFileSync(join(outDir, files[2]), svgChart(result));
  return files;
}

/**
 * A suite's common rows as one table: a line per panel and operation, a column per peer, each
 * cell `ms (peer / ours)`; the same shape for every suite, whatever its harness reports.
 */
export function pivotTable(rows) {
  const peers = [...new Set(rows.map((r) => r.peer))];
  const keys = [...new Set(rows.map((r) => `${r.panel}\u0000${r.op}`))];
  const cell = (r) => {
    if (!r) return '';
    if (r.error) return 'n/a';
    if (r.ok === false) return 'MISMATCH';
    return `${fmtMs(r.ms)}${r.ratio !== undefined ? ` (${r.ratio.toFixed(2)}x)` : ''}`;
  };
  const lines = keys.map((k) => {
    const [panel, op] = k.split('\u0000');
    const get = (p) => rows.find((r) => r.panel === panel && r.op === op && r.peer === p);
    return `| ${panel} | ${op} | ${peers.map((p) => cell(get(p))).join(' | ')} |`;
  });
  return [
    `| where | operation | ${peers.join(' | ')} |`,
    `|---|---|${peers.map(() => '---:').join('|')}|`,
    ...lines,
  ].join('\n');
}

/** A suite's own Markdown under the combined report's suite heading: its headings two levels down. */
const demote = (md) => md.replace(/^(#+) /gm, '$1## ').trim();

/**
 * The one report of bench/all.mjs: `<date>-<host>.json` (every suite's rows, targets and raw
 * output), `latest.md` (machine, versions, every target, then a section per suite) and
 * `latest.svg` (every suite's panels); `smoke.*` in smoke mode. Returns the file names.
 */
export function writeCombinedReport(outDir, { meta, suites }) {
  mkdirSync(outDir, { recursive: true });
  const name = meta.smoke ? 'smoke' : 'latest';
  const files = [
    meta.smoke ? 'smoke.json' : `${meta.date.slice(0, 10)}-${meta.host}.json`,
    `${name}.md`,
    `${name}.svg`,
  ];
  const targets = suites.flatMap((s) => (s.targets ?? []).map((t) => ({ suite: s.name, ...t })));
  const load = (l) => l.map((x) => x.toFixed(1)).join(' / ');
  const python = Object.entries(meta.python)
    .map(
      ([venv, v]) =>
        `${venv}: ${Object.entries(v)
          .map(([k, x]) => `${k} ${x}`)
          .join(', ')}`,
    )
    .join('; ');
  const arrayVersions = suites.find((s) => s.versions)?.versions ?? {};
  const md = [
    `# Benchmarks: zarrs-node against every peer${meta.smoke ? ' (smoke: tiny sizes, timings mean nothing)' : ''}`,
    '',
    `${meta.date} on ${meta.host} (${meta.cpu}; load average ${load(meta.loadavg.before)} before, ${load(meta.loadavg.after)} after), Node ${meta.node}.`,
    `Versions: ${[...Object.entries(arrayVersions).map(([p, v]) => `${label(p)}: ${v}`), ...(python ? [`python ${python}`] : [])].join('; ')}.`,
    '',
    `Suites: ${suites.map((s) => `${s.name} (${s.skipped ? `skipped: ${s.skipped}` : s.error ? `FAILED: ${s.error}` : `${s.seconds.toFixed(0)} s`})`).join(', ')}.`,
    ...(meta.reruns ?? []).map((r) => `Rerun into this report at ${r.date}: ${r.suites.join(', ')}.`),
    ...suites.filter((s) => s.skippedPeers?.length).map((s) => `Skipped by ${s.name}: ${s.skippedPeers.join('; ')}.`),
    '',
    `![time per operation and peer, log scale](${name}.svg)`,
    '',
    '## Targets (the benchmark protocol, issues 9-11)',
    '',
    targets.length ? targetTable(targets, true) : 'none measured',
    '',
    ...suites.flatMap((s) => [
      `## ${s.title}`,
      '',
      s.skipped ? `Skipped: ${s.skipped}.` : s.error ? `FAILED: ${s.error}` : '',
      // the array harness's own tables already have this shape, per layout
      s.rows?.length && s.name !== 'arrays'
        ? `Median ms (peer time / zarrs-node's: > 1 means zarrs-node is faster):\n\n${pivotTable(s.rows)}\n\nThe harness's own report:\n\n`
        : '',
      s.md ? demote(s.md) : '',
      '',
    ]),
  ].join('\n');
  const panels = suites.flatMap((s) => s.panels ?? []);
  const result = {
    meta,
    targets,
    rows: suites.flatMap((s) => s.rows ?? []),
    suites: suites.map(({ panels: _, md: __, ...s }) => s),
  };
  writeFileSync(join(outDir, files[0]), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(outDir, files[1]), `${md.replace(/\n{3,}/g, '\n\n')}\n`);
  writeFileSync(
    join(outDir, files[2]),
    barChart('median ms per operation and peer (log scale per panel, lower is better)', panels),
  );
  return { files, result };
}
