// `zarrs-node verify <a> <b>`: are two AnnData stores the same content, whatever their format
// (v2/v3), chunking, sharding or codecs? Lists the first differences; exit code 1 when they differ.

import { type Command, InvalidArgumentError } from 'commander';
import { describeAnnData } from '../anndata/io.js';
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

export async function verify(a: string, b: string, maxDifferences: number): Promise<VerifyReport> {
  const [sa, sb] = await Promise.all([side(a), side(b)]);
  return { a, b, ...(await compareElems(sa, sb, { maxDifferences })) };
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
    .argument('<a>', 'a path or store URL')
    .argument('<b>', 'a path or store URL')
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
