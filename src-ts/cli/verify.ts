// `zarrs-node verify <a> <b>`: are two AnnData stores (or an .h5ad file and a store) the same
// content, whatever their format (v2/v3), chunking, sharding or codecs? Lists the first
// differences; exit code 1 when they differ.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { describeAnnData } from '../anndata/io.js';
import { convert } from '../convert/run.js';
import { isH5adLocation } from '../convert/source.js';
import { type Comparison, compareElems, type Side } from './compare.js';
import { openRoot } from './inputs.js';
import { EXIT_FAILURE, EXIT_OK, type OutputOptions, printResult, runCommand } from './output.js';

export interface VerifyReport extends Comparison {
  a: string;
  b: string;
}

async function side(location: string): Promise<Side> {
  return describeAnnData(await openRoot(location));
}

/**
 * Compare `a` and `b`. An .h5ad side is first copied, element by element and unchanged, into a
 * temporary zarr store by the h5ad reader the converter uses (bounded memory; the disk holds a
 * copy), then compared like a store. Comparing a conversion with its own input this way checks
 * the writer, not the reader: for that, compare with a store another implementation wrote.
 */
export async function verify(a: string, b: string, maxDifferences: number): Promise<VerifyReport> {
  const temps: string[] = [];
  const asStore = async (location: string) => {
    if (!isH5adLocation(location)) return location;
    const dir = mkdtempSync(join(tmpdir(), 'zarrs-node-verify-'));
    temps.push(dir);
    const out = join(dir, 'input.zarr');
    await convert(location, out, { zarrFormat: 3 });
    return out;
  };
  try {
    const [sa, sb] = await Promise.all([side(await asStore(a)), side(await asStore(b))]);
    return { a, b, ...(await compareElems(sa, sb, { maxDifferences })) };
  } finally {
    for (const d of temps) rmSync(d, { recursive: true, force: true });
  }
}

export function renderVerify(r: VerifyReport): string {
  if (r.equal) return `equal: ${r.compared} elements of ${r.a} and ${r.b} have the same content`;
  const lines = [`different: ${r.a} (a) and ${r.b} (b)`];
  for (const d of r.differences) lines.push(`  ${d.path}: ${d.message}`);
  if (r.truncated) lines.push(`  ... stopped after ${r.differences.length} differences (--max-differences)`);
  return lines.join('\n');
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  }
  return n;
}

export function verifyCommand(program: Command): void {
  program
    .command('verify')
    .description(
      'compare the content of two AnnData stores, whatever their format, chunking, sharding or codecs (exit 1 when they differ)',
    )
    .argument('<a>', 'a path or store URL, or an .h5ad file')
    .argument('<b>', 'a path or store URL, or an .h5ad file')
    .option('--max-differences <n>', 'stop after this many differences', positiveInt, 20)
    .option('--json', 'print the result as JSON')
    .action((a: string, b: string, opts: OutputOptions & { maxDifferences: number }) =>
      runCommand(opts, async () => {
        const report = await verify(a, b, opts.maxDifferences);
        printResult(opts, report, renderVerify);
        return report.equal ? EXIT_OK : EXIT_FAILURE;
      }),
    );
}
