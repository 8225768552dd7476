// `zarrs-node convert <input> <output>` and `zarrs-node finalize <output>`: AnnData (h5ad or
// zarr v2/v3 at any location) to sharded zarr, whole or as one part of a partitioned run, with a
// progress bar on a terminal. SIGINT cancels the native copy; `--resume` continues later.

import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { parsePart } from '../convert/part.js';
import { type ConvertOptions, type ConvertProgress, type ConvertReport, convert, finalize } from '../convert/run.js';
import { isH5adLocation } from '../convert/source.js';
import { zarrsError } from '../zarr/errors.js';
import { EXIT_FAILURE, EXIT_OK, formatBytes, type OutputOptions, printResult, runCommand } from './output.js';
import { verify } from './verify.js';

interface ConvertFlags extends OutputOptions {
  zarrFormat?: string;
  shardSize?: string;
  chunkSize?: string;
  compressor?: string;
  part?: string;
  resume?: boolean;
  overwrite?: boolean;
  exclude?: string[];
  verify?: boolean;
  threads?: string;
  progress?: boolean;
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** `512MiB`, `64M`, `1GiB`, `1048576`; `auto` is the default policy (undefined). */
export function parseSize(spec: string, flag: string): number | undefined {
  if (spec === 'auto') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(spec.trim());
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) * unit < 1) {
    throw zarrsError('InvalidInput', `${flag} '${spec}': expected a size such as 512MiB, 64M or 1048576`);
  }
  return Math.round(Number(m[1]) * unit);
}

function convertOptions(flags: ConvertFlags): ConvertOptions {
  const o: ConvertOptions = {};
  if (flags.zarrFormat !== undefined) {
    if (flags.zarrFormat !== '2' && flags.zarrFormat !== '3') {
      throw zarrsError('InvalidInput', `--zarr-format '${flags.zarrFormat}': expected 2 or 3`);
    }
    o.zarrFormat = Number(flags.zarrFormat) as 2 | 3;
  }
  if (flags.shardSize !== undefined) o.shardBytes = parseSize(flags.shardSize, '--shard-size');
  if (flags.chunkSize !== undefined) o.chunkBytes = parseSize(flags.chunkSize, '--chunk-size');
  if (flags.compressor !== undefined) o.compressor = flags.compressor === 'none' ? null : flags.compressor;
  if (flags.part !== undefined) o.part = parsePart(flags.part);
  if (flags.threads !== undefined) {
    const n = Number(flags.threads);
    if (!Number.isInteger(n) || n < 1)
      throw zarrsError('InvalidInput', `--threads '${flags.threads}': expected a positive integer`);
    o.threads = n;
  }
  o.resume = flags.resume === true;
  o.overwrite = flags.overwrite === true;
  if (flags.exclude) o.exclude = flags.exclude;
  return o;
}

function progressBar(): { update: (p: ConvertProgress) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    {
      format: ' {bar} {percentage}% | {doneText} of {totalText} | {rate}/s | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  let running = false;
  return {
    update(p) {
      const rate = formatBytes(Math.round(p.bytes / Math.max(1e-3, (performance.now() - started) / 1000)));
      const payload = { doneText: formatBytes(p.bytes), totalText: formatBytes(p.totalBytes), rate };
      if (!running) {
        bar.start(Math.max(1, p.totalBytes), 0, payload);
        running = true;
      }
      bar.update(Math.min(p.bytes, Math.max(1, p.totalBytes)), payload);
    },
    stop() {
      if (running) bar.stop();
    },
  };
}

export function renderConvert(r: ConvertReport): string {
  const part = r.part.count > 1 ? ` (part ${r.part.index + 1}/${r.part.count})` : '';
  const skipped = r.skipped > 0 ? `, ${r.skipped} already complete` : '';
  const done = r.finalized
    ? 'complete, consolidated'
    : `part done; run 'zarrs-node finalize ${r.output}' after all ${r.part.count} parts`;
  return (
    `${r.input} -> ${r.output}${part}: ${r.arrays} arrays, ${r.groups} groups, zarr v${r.zarrFormat}; ` +
    `${r.written} blocks written${skipped}, ${formatBytes(r.bytes)} in ${r.seconds.toFixed(2)} s; ${done}`
  );
}

/** Cancel `controller` on the first SIGINT/SIGTERM (the second one kills the process). */
function cancelOnSignal(controller: AbortController): () => void {
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT_FAILURE);
    controller.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

export function convertCommand(program: Command): void {
  program
    .command('convert')
    .description('convert AnnData (.h5ad, or zarr v2/v3 at any location) to sharded zarr v3 with consolidated metadata')
    .argument('<input>', 'an .h5ad file or an AnnData zarr store (path, URL, .zip)')
    .argument('<output>', 'the output store (path or URL)')
    .option('--zarr-format <n>', 'output zarr format: 3 (sharded) or 2', '3')
    .option('--shard-size <size>', 'uncompressed shard size (e.g. 512MiB) or auto (64MiB)')
    .option('--chunk-size <size>', 'uncompressed inner chunk size (e.g. 1MiB) or auto')
    .option('--compressor <codec>', 'compressor of every array: zstd:3, blosc:zstd:5, gzip, none (default: per dtype)')
    .option('--part <I/N|auto>', 'write part I of N (1-based), or auto from the array-job environment')
    .option('--resume', 'continue an unfinished conversion: keep stored shards, write the rest')
    .option('--overwrite', 'replace whatever the output holds')
    .option('--exclude <path...>', 'leave out an element (e.g. uns/rank_genes_groups)')
    .option('--verify', 'compare the output with the input afterwards (zarr inputs)')
    .option('--threads <n>', 'worker threads (default: the core count)')
    .option('--no-progress', 'no progress bar (it is shown only on a terminal anyway)')
    .option('--json', 'print the report (or the error) as JSON')
    .action((input: string, output: string, flags: ConvertFlags) =>
      runCommand(flags, async () => {
        const opts = convertOptions(flags);
        const controller = new AbortController();
        opts.signal = controller.signal;
        const release = cancelOnSignal(controller);
        const bar = flags.progress !== false && !flags.json && process.stderr.isTTY ? progressBar() : null;
        if (bar) opts.onProgress = bar.update;
        let report: ConvertReport;
        try {
          report = await convert(input, output, opts);
        } catch (e) {
          if (controller.signal.aborted) {
            throw zarrsError('Aborted', `interrupted; run the same command with --resume to continue`, output, e);
          }
          throw e;
        } finally {
          bar?.stop();
          release();
        }
        if (flags.verify && report.finalized) {
          if (isH5adLocation(input)) {
            // verify would read the h5ad with the very reader that produced the output
            throw zarrsError(
              'Unsupported',
              "--verify compares zarr inputs; for an .h5ad input compare with python anndata, or run 'zarrs-node verify' against a store another tool wrote",
            );
          }
          const v = await verify(input, output, 10);
          if (!v.equal) {
            throw zarrsError(
              'InvalidInput',
              `verify: the output differs from the input (${v.differences[0]?.message})`,
              output,
            );
          }
        }
        printResult(flags, report, renderConvert);
        return EXIT_OK;
      }),
    );
  program
    .command('finalize')
    .description('complete a partitioned conversion: check every part finished, write the root metadata, consolidate')
    .argument('<output>', 'the output store of the parts')
    .option('--json', 'print the report (or the error) as JSON')
    .action((output: string, flags: OutputOptions) =>
      runCommand(flags, async () => {
        const r = await finalize(output);
        printResult(
          flags,
          r,
          (x) => `${x.output}: ${x.parts} parts complete; ${x.arrays} arrays, ${x.groups} groups, consolidated`,
        );
        return EXIT_OK;
      }),
    );
}
