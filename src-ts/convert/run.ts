// convert and finalize: run the plan (or one part of it) against an output store, and turn a
// finished set of parts into a complete store. Until finalize, the output holds no root
// metadata and a `zarrs-node-convert/` directory with the plan and one marker per finished
// part, so an unfinished output opens as `Incomplete`, never as silently truncated data.

import type { CallOptions } from '../zarr/abort.js';
import { arrayHandle, type ZArray } from '../zarr/array.js';
import { isZarrsError, zarrsError } from '../zarr/errors.js';
import { consolidateMetadata, createArray, createGroup, openArray, openGroup, UNFINISHED_KEY } from '../zarr/group.js';
import { type NativeProgress, native } from '../zarr/native.js';
import { openStore, type Store, storeHandle } from '../zarr/store.js';
import {
  blocksOf,
  DEFAULT_SHARD_BYTES,
  type LayoutOptions,
  type Plan,
  type PlannedArray,
  planConversion,
  rowsOfPart,
} from './plan.js';
import { type ConversionSource, openSource } from './source.js';

/** Where the in-progress state lives in the output; removed by finalize. */
export const CONVERT_DIR = 'zarrs-node-convert';
const PLAN_KEY = UNFINISHED_KEY;
const partKey = (index: number, count: number) =>
  `${CONVERT_DIR}/part-${String(index + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.json`;

/** Which slice of the work a run does: part `index` (0-based) of `count`. */
export interface Part {
  index: number;
  count: number;
}

export interface ConvertProgress {
  /** Uncompressed bytes copied so far (this run). */
  bytes: number;
  /** Uncompressed bytes this run copies in total (its part). */
  totalBytes: number;
  /** Blocks done (written or skipped) / in total for this run. */
  blocks: number;
  totalBlocks: number;
  /** Blocks skipped because their shards were already stored (`resume`). */
  skipped: number;
}

export interface ConvertOptions extends LayoutOptions, CallOptions {
  /** Worker threads of the native pool (process-wide, as `setThreads`; default: the core count). */
  threads?: number;
  /** Do one part of a partitioned run; `finalize` completes the output after all parts. */
  part?: Part;
  /** Continue an unfinished conversion: stored shards are kept, the rest is written. */
  resume?: boolean;
  /** Replace whatever the output holds. */
  overwrite?: boolean;
  /** Called about every `progressIntervalMs` (default 200) while data is copied. */
  onProgress?: (p: ConvertProgress) => void;
  progressIntervalMs?: number;
}

export interface ConvertReport {
  input: string;
  output: string;
  part: Part;
  zarrFormat: 2 | 3;
  arrays: number;
  groups: number;
  /** Blocks written and skipped by this run. */
  written: number;
  skipped: number;
  /** Uncompressed bytes this run copied. */
  bytes: number;
  /** Whether this run completed the output (single runs; parts leave it to finalize). */
  finalized: boolean;
  seconds: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const json = (v: unknown) => encoder.encode(`${JSON.stringify(v, null, 1)}\n`);

/** What a part leaves when it finishes (`zarrs-node-convert/part-I-of-N.json`). */
interface PartMarker {
  part: number;
  of: number;
  blocks: number;
  written: number;
  skipped: number;
  /** Keys of the objects it did not store because they held only the fill value. */
  absent: string[];
}

/** The stored objects rows `[start, stop)` of `array` cover: absent and damaged ones. */
function checkRows(array: ZArray, [start, stop]: [number, number]) {
  return native.checkObjects(arrayHandle(array), start, stop);
}

async function readJson<T>(store: Store, key: string): Promise<T | null> {
  const b = await store.get(key);
  return b === null ? null : (JSON.parse(decoder.decode(b)) as T);
}

/**
 * The conversion plan an unfinished output holds (null: none). The key is the one every
 * unfinished store of this package uses; an AnnDataWriter's store is refused by name.
 */
async function readPlan(store: Store): Promise<Plan | null> {
  const stored = await readJson<Plan | { writer: string }>(store, PLAN_KEY);
  if (stored !== null && 'writer' in stored) {
    throw zarrsError(
      'InvalidInput',
      `'${store.location}' is an unfinished ${stored.writer} store, not a conversion: finish it with ` +
        `${stored.writer}.resume(store) and close() (convert --overwrite replaces it)`,
      store.location,
    );
  }
  return stored;
}

/** Whether the store holds a root group (v3 zarr.json or v2 .zgroup). */
async function hasRoot(store: Store): Promise<boolean> {
  return (await store.get('zarr.json')) !== null || (await store.get('.zgroup')) !== null;
}

/** Check what the output holds against this run and make it ready; returns the stored plan. */
async function prepareOutput(store: Store, plan: Plan, opts: ConvertOptions, part: Part): Promise<void> {
  const output = store.location;
  if (opts.overwrite) {
    if (part.count > 1) {
      throw zarrsError(
        'InvalidInput',
        '--overwrite cannot be combined with --part: parts would delete each other; empty the output first',
      );
    }
    await store.deletePrefix('');
  }
  let stored = await readPlan(store);
  if (stored === null && (await store.list('')).length > 0) {
    // A part started at the same moment may have written its plan (and more) since the read.
    stored = await readPlan(store);
    if (stored === null) {
      const what = (await hasRoot(store)) ? 'a zarr store' : 'data';
      throw zarrsError('InvalidInput', `'${output}' already holds ${what}; pass --overwrite to replace it`, output);
    }
  }
  if (stored === null) {
    // Parts started together may each write it: the same plan, so the last write is the same.
    await store.set(PLAN_KEY, json(plan));
    return;
  }
  if (JSON.stringify(stored) !== JSON.stringify(plan)) {
    throw zarrsError(
      'InvalidInput',
      `'${output}' holds an unfinished conversion of ${stored.input} with other options or another input; ` +
        'pass --overwrite to start over',
      output,
    );
  }
  if (part.count === 1 && !opts.resume) {
    throw zarrsError(
      'InvalidInput',
      `'${output}' holds an unfinished conversion of the same input; pass --resume to continue it or --overwrite to start over`,
      output,
    );
  }
}

/** Open the array a plan entry names, creating it (metadata only) when it is not there yet. */
async function ensureArray(store: Store, a: PlannedArray): Promise<ZArray> {
  try {
    return await createArray(store, a.path, a.create);
  } catch (e) {
    // Another part (or the killed run being resumed) created it: the same plan wrote the same
    // metadata, so opening it is enough.
    if (!isZarrsError(e)) throw e;
    try {
      return await openArray(store, a.path, { zarrFormat: a.create.zarrFormat });
    } catch {
      throw e;
    }
  }
}

async function ensureGroups(store: Store, plan: Plan): Promise<void> {
  for (const g of plan.groups) {
    if (g.path === '') continue; // the root is written by finalize, last
    try {
      await createGroup(store, g.path, { attributes: g.attributes, zarrFormat: plan.zarrFormat });
    } catch (e) {
      if (!isZarrsError(e)) throw e;
      await openGroup(store, g.path, { zarrFormat: plan.zarrFormat, consolidated: 'ignore' });
    }
  }
}

/** Copy a record array element-wise (records are small: uns tables). */
async function copyRecords(source: ConversionSource, store: Store, a: PlannedArray, opts: CallOptions): Promise<void> {
  const rec = await source.records({ path: a.source ?? a.path, kind: 'array', attributes: {} }, opts);
  // v3 stores every field little-endian (the values arrive decoded, in host order).
  const numpyDtype = rec.numpyDtype.map(([n, d]) => [n, d.replace(/^>/, '<')] as [string, string]);
  const dst = await ensureArray(store, { ...a, create: { ...a.create, numpyDtype } });
  await dst.setRecords(null, rec.fields, opts);
}

/** Run `tasks` with at most `limit` in flight. */
async function pool(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const t = tasks[next++];
      await t();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

const SMALL_ARRAY_BYTES = 16 * 1024 * 1024;

/**
 * Convert an AnnData input (an .h5ad file, or a zarr store v2/v3 at any location) into a
 * sharded zarr store at `output`: the whole job, or one `part` of it.
 */
export async function convert(input: string, output: string, opts: ConvertOptions = {}): Promise<ConvertReport> {
  const started = performance.now();
  const part = opts.part ?? { index: 0, count: 1 };
  if (
    !Number.isInteger(part.count) ||
    part.count < 1 ||
    !Number.isInteger(part.index) ||
    part.index < 0 ||
    part.index >= part.count
  ) {
    throw zarrsError('InvalidInput', `part ${part.index + 1}/${part.count} is not a part of ${part.count}`);
  }
  if (opts.threads !== undefined) native.setThreads(opts.threads);
  const source = await openSource(input);
  const plan = planConversion(input, await source.nodes(), opts);
  const store = await openStore(output);
  await prepareOutput(store, plan, opts, part).catch((e) => {
    // The OS's message ("Not a directory") does not say where.
    if (isZarrsError(e) && e.code === 'Storage') {
      throw zarrsError('Storage', `cannot write to '${output}': ${e.message}`, output, e);
    }
    throw e;
  });
  if (opts.resume && part.count === 1) await storeHandle(store).sweepTemporaries();

  await ensureGroups(store, plan);
  const arrays = new Map<number, ZArray>();
  for (const [i, a] of plan.arrays.entries()) {
    if (!a.elementWise) arrays.set(i, await ensureArray(store, a));
  }

  // This run's rows of each array, cut into blocks of about one shard.
  const shardBytes = opts.shardBytes ?? DEFAULT_SHARD_BYTES;
  const mine = new Map<number, number[]>();
  let totalBytes = 0;
  let totalBlocks = 0;
  for (const [ai, a] of plan.arrays.entries()) {
    const rows = rowsOfPart(a, ai, part.index, part.count);
    if (rows === null) continue;
    const blocks = blocksOf(a, rows, shardBytes);
    mine.set(ai, blocks);
    totalBlocks += blocks.length / 2;
    totalBytes += ((rows[1] - rows[0]) / Math.max(1, a.rows)) * a.bytes;
  }
  const progress: NativeProgress = new native.NativeProgress();
  let elementBlocks = 0;
  const snapshot = (): ConvertProgress => {
    const s = progress.snapshot();
    return {
      bytes: s.bytes,
      totalBytes,
      blocks: s.blocks + s.skipped + elementBlocks,
      totalBlocks,
      skipped: s.skipped,
    };
  };
  const timer = opts.onProgress
    ? setInterval(() => opts.onProgress?.(snapshot()), opts.progressIntervalMs ?? 200)
    : undefined;
  let written = 0;
  let skipped = 0;
  try {
    const task = (ai: number, blocks: number[]) => async () => {
      const a = plan.arrays[ai];
      if (a.elementWise) {
        await copyRecords(source, store, a, opts);
        written += 1;
        elementBlocks += 1;
        return;
      }
      const stats = await source.copy(
        { path: a.source ?? a.path, kind: 'array', attributes: {} },
        arrays.get(ai) as ZArray,
        blocks,
        {
          skipComplete: opts.resume === true,
          progress,
          signal: opts.signal,
        },
      );
      written += stats.written;
      skipped += stats.skipped;
    };
    // Large arrays one at a time (each copy is parallel inside and bounded to ~3 shards
    // in memory); small ones (obs/var columns, uns) several at once, as each is one small block.
    const entries = [...mine.entries()];
    const large = entries.filter(([ai]) => plan.arrays[ai].bytes > SMALL_ARRAY_BYTES);
    const small = entries.filter(([ai]) => plan.arrays[ai].bytes <= SMALL_ARRAY_BYTES);
    for (const [ai, blocks] of large) await task(ai, blocks)();
    // One at a time on object stores: PUTs already run concurrently inside each copy.
    await pool(
      small.map(([ai, blocks]) => task(ai, blocks)),
      /^(s3|gs|az|abfs|https?):\/\//i.test(store.location) ? 1 : 4,
    );
  } finally {
    if (timer) clearInterval(timer);
  }
  opts.onProgress?.(snapshot());
  // Prove this part's objects sound before saying it finished, and name the ones it left out
  // (all fill value: zarrs stores none), so finalize can tell those from lost ones.
  const absent: string[] = [];
  for (const [ai, blocks] of mine) {
    if (plan.arrays[ai].elementWise) continue;
    const check = await checkRows(arrays.get(ai) as ZArray, [blocks[0], blocks[blocks.length - 1]]);
    if (check.damaged.length > 0) {
      const d = check.damaged[0];
      throw zarrsError(
        'Incomplete',
        `'${output}': ${d.key}, just written by this run, is damaged (${d.reason}); rerun with --resume`,
        d.key,
      );
    }
    absent.push(...check.absent);
  }
  const marker: PartMarker = { part: part.index + 1, of: part.count, blocks: totalBlocks, written, skipped, absent };
  await store.set(partKey(part.index, part.count), json(marker));
  const finalized = part.count === 1;
  if (finalized) await finalizeStore(store, plan);
  return {
    input,
    output,
    part,
    zarrFormat: plan.zarrFormat,
    arrays: plan.arrays.length,
    groups: plan.groups.length,
    written,
    skipped,
    bytes: progress.snapshot().bytes,
    finalized,
    seconds: (performance.now() - started) / 1000,
  };
}

export interface FinalizeReport {
  output: string;
  parts: number;
  arrays: number;
  groups: number;
  /** Temporary files of killed writers that were removed. */
  swept: number;
}

/** An object finalize cannot accept, and the part (1-based) that writes it. */
interface LostObject {
  key: string;
  why: string;
  part: number;
}

/**
 * Check every stored object of the plan's arrays, part by part: absent ones that no part
 * declared all-fill, and damaged ones (an index that does not decode or points outside it).
 */
async function lostObjects(store: Store, plan: Plan, count: number, declared: Set<string>): Promise<LostObject[]> {
  const lost: LostObject[] = [];
  for (const [ai, a] of plan.arrays.entries()) {
    if (a.elementWise) continue;
    const array = await openArray(store, a.path, { zarrFormat: a.create.zarrFormat });
    for (let p = 0; p < count; p++) {
      const rows = rowsOfPart(a, ai, p, count);
      if (rows === null) continue;
      const check = await checkRows(array, rows);
      for (const key of check.absent) if (!declared.has(key)) lost.push({ key, why: 'missing', part: p + 1 });
      for (const d of check.damaged) lost.push({ key: d.key, why: `damaged: ${d.reason}`, part: p + 1 });
    }
  }
  return lost;
}

async function finalizeStore(store: Store, plan: Plan): Promise<number> {
  const swept = await storeHandle(store).sweepTemporaries();
  const root = plan.groups[0];
  await createGroup(store, '', { attributes: root.attributes, zarrFormat: plan.zarrFormat, overwrite: false }).catch(
    async (e) => {
      if (!isZarrsError(e) || !(await hasRoot(store))) throw e;
    },
  );
  await store.deletePrefix(CONVERT_DIR);
  await consolidateMetadata(store, '');
  return swept;
}

/**
 * Complete a partitioned conversion: check that every part finished, then write the root
 * metadata and consolidate. Missing parts are listed in an `Incomplete` error.
 */
export async function finalize(output: string): Promise<FinalizeReport> {
  const store = await openStore(output);
  const plan = await readPlan(store);
  if (plan === null) {
    if (await hasRoot(store)) {
      throw zarrsError('InvalidInput', `'${output}' is already complete (no conversion in progress there)`, output);
    }
    throw zarrsError('NotFound', `'${output}': no conversion there to finalize`, output);
  }
  const markers = (await store.list(CONVERT_DIR)).filter((k) => /\/part-\d+-of-\d+\.json$/.test(k));
  const counts = new Set(markers.map((k) => Number(/-of-(\d+)\.json$/.exec(k)?.[1])));
  if (counts.size > 1) {
    throw zarrsError(
      'InvalidInput',
      `'${output}': parts of runs with different part counts (${[...counts].join(', ')}) were written`,
      output,
    );
  }
  const count = counts.size === 1 ? [...counts][0] : 0;
  // finished parts (1-based) -> their marker key
  const markerKeys = new Map<number, string>(markers.map((k) => [Number(/part-(\d+)-of/.exec(k)?.[1]), k]));
  const missing: string[] = [];
  for (let i = 1; i <= Math.max(count, 1); i++) if (!markerKeys.has(i)) missing.push(`${i}/${Math.max(count, 1)}`);
  if (missing.length > 0) {
    throw zarrsError(
      'Incomplete',
      `'${output}': part${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'have' : 'has'} not finished`,
      output,
    );
  }
  const declared = new Set<string>();
  for (const k of markerKeys.values())
    for (const key of (await readJson<PartMarker>(store, k))?.absent ?? []) declared.add(key);
  const lost = await lostObjects(store, plan, count, declared);
  if (lost.length > 0) {
    // Those parts have not finished after all: their markers go, so a rerun of each with
    // --resume (which rewrites exactly the lost objects) and a new finalize complete the store.
    const parts = [...new Set(lost.map((l) => l.part))].sort((a, b) => a - b);
    for (const p of parts) await store.delete(markerKeys.get(p) as string);
    const shown = lost
      .slice(0, 5)
      .map((l) => `${l.key} (${l.why}, part ${l.part}/${count})`)
      .join('; ');
    throw zarrsError(
      'Incomplete',
      `'${output}': ${lost.length} stored object${lost.length > 1 ? 's are' : ' is'} missing or damaged: ${shown}` +
        `${lost.length > 5 ? '; ...' : ''}. Rerun part${parts.length > 1 ? 's' : ''} ${parts.map((p) => `${p}/${count}`).join(', ')} ` +
        'with --resume, then finalize again',
      output,
    );
  }
  const swept = await finalizeStore(store, plan);
  return { output, parts: count, arrays: plan.arrays.length, groups: plan.groups.length, swept };
}
