// The writer the kill-and-resume test SIGKILLs: appends the test's blocks to a new store (CSR X),
// printing the count every 100 blocks, and never closes it.

import { AnnDataWriter, CsrMatrix, col, DataFrame } from '../dist/anndata/index.js';
import { createOptions, makeBlocks, toBlock } from './writer-blocks.mjs';

const [path, seed] = process.argv.slice(2);
const lib = { CsrMatrix, DataFrame, col };
const blocks = makeBlocks(Number(seed), 1000);
const w = await AnnDataWriter.create(path, createOptions(lib, 'csr'));
for (let i = 0; i < blocks.length * 100; i++) {
  await w.append(toBlock(blocks[i % blocks.length], lib, 'csr'));
  if ((i + 1) % 100 === 0) process.stdout.write(`${i + 1}\n`);
}
