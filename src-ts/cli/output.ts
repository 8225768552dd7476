// What the CLI prints and how it exits: 0 ok, 1 runtime failure (or, for `verify`, stores that
// differ), 2 usage error. Errors are one line `zarrs-node: <code>: <message>`, or under `--json`
// one JSON object `{ error: { code, message, key? } }` on stdout.

import { isZarrsError } from '../zarr/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Options every command takes. */
export interface OutputOptions {
  json?: boolean;
}

/** A failure as the CLI reports it. */
export interface CliErrorReport {
  /** A library `ErrorCode`, `Usage` for bad command lines, `Internal` for anything else. */
  code: string;
  message: string;
  key?: string;
}

export function errorReport(e: unknown): CliErrorReport {
  if (isZarrsError(e)) {
    return e.key === null || e.key === ''
      ? { code: e.code, message: e.message }
      : { code: e.code, message: e.message, key: e.key };
  }
  return { code: 'Internal', message: e instanceof Error ? e.message : String(e) };
}

/** Print a failure (one line, or a JSON object under `--json`). */
export function printError(report: CliErrorReport, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: report })}\n`);
  } else {
    process.stderr.write(`zarrs-node: ${report.code}: ${report.message.replace(/\s*\n\s*/g, ' ')}\n`);
  }
}

/** A command's result: JSON under `--json`, else `render`'s text. */
export function printResult<T>(opts: OutputOptions, value: T, render: (v: T) => string): void {
  const text = opts.json ? JSON.stringify(value, null, 2) : render(value);
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * Run a command's body: it returns its exit code; a thrown error is printed and exits 1. The
 * exit code is set, not forced, so that pending output is flushed.
 */
export async function runCommand(opts: OutputOptions, run: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await run();
  } catch (e) {
    printError(errorReport(e), opts.json === true);
    process.exitCode = EXIT_FAILURE;
  }
}

/** Bytes for people: 1023 B, 1.5 KiB, 2.4 MiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** A shape for people: `700 x 765`, `()` for a scalar. */
export function formatShape(shape: readonly number[] | null): string {
  if (shape === null) return '';
  return shape.length === 0 ? '()' : shape.join(' x ');
}
