// The writer the kill-and-resume tests SIGKILL: appends the test's blocks to a new store (CSR X),
// printing "<blocks> <rows>" every 10 blocks, and never closes it. An optional third argument is
// the writer's checkpointRows.

import { AnnDataWriter, CsrMatrix, col, DataFrame } from '../dist/anndata/index.js';
import { createOptions, makeBlocks, toBlock } from './writer-blocks.mjs';

const [path, seed, checkpointRows] = process.argv.slice(2);
const lib = { CsrMatrix, DataFrame, col };
const blocks = makeBlocks(Number(seed), 1000);
const opts = createOptions(lib, 'csr');
if (checkpointRows !== undefined) opts.checkpointRows = Number(checkpointRows);
const w = await AnnDataWriter.create(path, opts);
for (let i = 0; i < blocks.length * 100; i++) {
  await w.append(toBlock(blocks[i % blocks.length], lib, 'csr'));
  if ((i + 1) % 10 === 0) process.stdout.write(`${i + 1} ${w.nObs}\n`);
}
