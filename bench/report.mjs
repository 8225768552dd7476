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

/** The targets of the protocol, each as a measured ratio on the sharded variant. */
function targets({ meta, rows, whole, limits }) {
  const get = (set, peer, op, variant = 'sharded') =>
    set.find((r) => r.variant === variant && r.peer === peer && r.op === op && r.medianMs);
  const ratio = (set, peer, op, k = 'medianMs') => {
    const ours = get(set, 'zarrs-node', op);
    const theirs = get(set, peer, op);
    return ours && theirs ? theirs[k] / ours[k] : undefined;
  };
  const lines = ['| target | measured | met |', '|---|---:|:---:|'];
  const add = (name, value, ok, unit = 'x') => {
    if (value === undefined || Number.isNaN(value)) return;
    lines.push(
      `| ${name} | ${unit === '%' ? `${value.toFixed(0)}%` : `${value.toFixed(2)}x`} | ${ok ? 'yes' : 'no'} |`,
    );
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
  }
  const single = get(rows, 'zarrs-node', 'single');
  if (single?.p50Us !== undefined)
    lines.push(
      `| single-element read <= 20 us (p50) | ${single.p50Us.toFixed(1)} us | ${single.p50Us <= 20 ? 'yes' : 'no'} |`,
    );
  return lines.join('\n');
}

const COLORS = ['#d62728', '#7f7f7f', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];

/** Grouped bars per operation (one bar per peer), one panel per variant, log-scale time. */
export function svgChart({ meta, rows }) {
  const peers = [...new Set(rows.map((r) => r.peer))];
  const variants = [...new Set(rows.map((r) => r.variant))];
  const ok = rows.filter((r) => r.medianMs > 0 && r.checksumOk);
  if (!ok.length) return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>';
  const lo = 10 ** Math.floor(Math.log10(Math.min(...ok.map((r) => r.medianMs))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...ok.map((r) => r.medianMs))));
  const bar = 9;
  const gap = 18;
  const left = 60;
  const panelH = 210;
  const plotH = 140;
  const opsOf = (v) => [...new Set(rows.filter((r) => r.variant === v).map((r) => r.op))];
  const maxOps = Math.max(...variants.map((v) => opsOf(v).length));
  // Legend entries sized by their text (about 6 px per character at this font size).
  const legendX = [];
  let lx = left;
  for (const p of peers) {
    legendX.push(lx);
    lx += 30 + label(p).length * 6;
  }
  const width = Math.max(left + maxOps * (peers.length * bar + gap) + 20, lx);
  const top = 60;
  const height = top + variants.length * panelH;
  const y = (ms) => plotH - (plotH * Math.log10(ms / lo)) / Math.log10(hi / lo);
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="16" font-size="13">${esc(`uint16 ${meta.side}^3 (${meta.bytes / 2 ** 20} MiB), ${meta.threads} threads, median in-process ms (log scale, lower is better)`)}</text>`,
  ];
  peers.forEach((p, i) => {
    const x = legendX[i];
    parts.push(`<rect x="${x}" y="28" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`);
    parts.push(`<text x="${x + 14}" y="37">${esc(label(p))}</text>`);
  });
  variants.forEach((v, vi) => {
    const oy = top + vi * panelH;
    parts.push(`<g transform="translate(0 ${oy})">`);
    parts.push(`<text x="${left}" y="4" font-size="12" font-weight="bold">${esc(v)}</text>`);
    for (let t = lo; t <= hi; t *= 10) {
      const ty = 12 + y(t);
      parts.push(`<line x1="${left}" x2="${width - 10}" y1="${ty}" y2="${ty}" stroke="#ddd"/>`);
      parts.push(`<text x="${left - 4}" y="${ty + 3}" text-anchor="end">${t >= 1 ? t : t.toPrecision(1)} ms</text>`);
    }
    opsOf(v).forEach((op, oi) => {
      const gx = left + 6 + oi * (peers.length * bar + gap);
      peers.forEach((p, pi) => {
        const r = ok.find((x) => x.variant === v && x.op === op && x.peer === p);
        if (!r) return;
        const by = 12 + y(r.medianMs);
        parts.push(
          `<rect x="${gx + pi * bar}" y="${by.toFixed(1)}" width="${bar - 1}" height="${(12 + plotH - by).toFixed(1)}" fill="${COLORS[pi % COLORS.length]}"><title>${esc(`${label(p)} ${OP_LABEL[op]}: ${fmtMs(r.medianMs)} ms`)}</title></rect>`,
        );
      });
      const lx = gx + (peers.length * bar) / 2;
      parts.push(`<text x="${lx}" y="${12 + plotH + 12}" text-anchor="middle">${OP_SHORT[op]}</text>`);
    });
    parts.push('</g>');
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
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

/** Write `<date>-<host>.json`, the Markdown report and the SVG chart; returns the file names. */
export function writeReport(outDir, result) {
  mkdirSync(outDir, { recursive: true });
  const { meta, rows, whole, limits } = result;
  const stamp = `${meta.date.slice(0, 10)}-${meta.host}`;
  const name = meta.smoke ? 'smoke' : 'latest';
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
      : `Physical limit on this machine and data (\`${z.command}\`): decode ${gbs(z.decode1)} on one core, ${gbs(z.decodeN)} on ${z.cores}; encode ${gbs(z.encode1)} / ${gbs(z.encodeN)}. Page cache: ${gbs(limits.pageCache.uncompressed.bytesPerS)} (uncompressed store), ${gbs(limits.pageCache.zstd0.bytesPerS)} (zstd store). The last column is zarrs-node's throughput (decoded bytes / time) as a share of it: decode for reads, encode for writes, both for the round trip, the page cache for the uncompressed reads.`,
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
    targets(result),
    '',
    notAvailable(errors),
  ].join('\n');
  const files = [`${stamp}.json`, `${name}.md`, `${name}.svg`];
  writeFileSync(join(outDir, files[0]), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(outDir, files[1]), `${md}\n`);
  writeFileSync(join(outDir, files[2]), svgChart(result));
  return files;
}
