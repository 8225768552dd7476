// `zarrs-node consolidate <store>`: (re)write the consolidated metadata of a store with the
// library's consolidation (v3: inline in the root zarr.json; v2: .zmetadata), and say what it did.

import type { Command } from 'commander';
import type { Group } from '../zarr/group.js';
import { openRoot } from './inputs.js';
import { EXIT_OK, type OutputOptions, printResult, runCommand } from './output.js';

export interface ConsolidateReport {
  store: string;
  zarrFormat: 2 | 3;
  /** Where the consolidated metadata went. */
  written: 'zarr.json' | '.zmetadata';
  /** Whether the store had consolidated metadata before (it is replaced). */
  replaced: boolean;
  /** Arrays and groups below the root that the consolidated metadata lists. */
  arrays: number;
  groups: number;
}

export async function consolidate(location: string): Promise<ConsolidateReport> {
  const before = await openRoot(location);
  const g = await openRoot(location, { mode: 'r+', consolidated: 'ignore' });
  await g.consolidateMetadata();
  // counted from the consolidated metadata just written, so this costs no further requests
  const counts = await countNodes(await openRoot(location, { consolidated: 'require' }));
  return {
    store: location,
    zarrFormat: g.zarrFormat,
    written: g.zarrFormat === 3 ? 'zarr.json' : '.zmetadata',
    replaced: before.consolidated,
    ...counts,
  };
}

async function countNodes(g: Group): Promise<{ arrays: number; groups: number }> {
  let arrays = 0;
  let groups = 0;
  for (const m of await g.members()) {
    if (m.kind === 'array') arrays++;
    else {
      const below = await countNodes(await g.openGroup(m.name));
      arrays += below.arrays;
      groups += below.groups + 1;
    }
  }
  return { arrays, groups };
}

export function renderConsolidate(r: ConsolidateReport): string {
  const where = r.written === 'zarr.json' ? 'inline in the root zarr.json' : 'in .zmetadata';
  const was = r.replaced ? 'replaced the existing consolidated metadata' : 'the store had none';
  return `${r.store}: consolidated ${r.arrays} arrays and ${r.groups} groups (zarr v${r.zarrFormat}, ${where}; ${was})`;
}

export function consolidateCommand(program: Command): void {
  program
    .command('consolidate')
    .description('(re)write the consolidated metadata of a store (v3: in zarr.json, v2: .zmetadata)')
    .argument('<store>', 'a writable path or store URL')
    .option('--json', 'print what was done as JSON')
    .action((store: string, opts: OutputOptions) =>
      runCommand(opts, async () => {
        const report = await consolidate(store);
        printResult(opts, report, renderConsolidate);
        return EXIT_OK;
      }),
    );
}
