// Child process of corrupt-store.test.ts: applies each mutant to its own copy of a store, reads
// it (readZarr; readElem without consolidated metadata; each affected array alone), restores
// the file, and prints one JSON line per step so the parent knows which mutant a crash hit.
//   node corrupt-reader.mjs <job.json>   job: { store, arrays, mutants: [{ id, file, ... }] }
// A mutant replaces `file` with the bytes of `replace`, truncates it, or flips one byte.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readElem, readZarr } from '../dist/anndata/index.js';
import { isZarrsError, openArray, openGroup, setMaxAllocBytes } from '../dist/index.js';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
// A flipped shape must fail as an error, not exhaust the machine.
setMaxAllocBytes(256 * 1024 * 1024);

function outcome(op, e) {
  if (e === undefined) return { op, ok: true };
  if (isZarrsError(e)) return { op, ok: false, zarrs: true, code: e.code, key: e.key, message: e.message };
  return { op, ok: false, zarrs: false, message: String(e?.stack ?? e) };
}

async function attempt(op, f) {
  try {
    await f();
    return outcome(op);
  } catch (e) {
    return outcome(op, e);
  }
}

/** Arrays the mutated file belongs to: the array holding it, or every array below its group. */
function affected(file) {
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
  const owner = job.arrays.filter((a) => file.startsWith(`${a}/`)).sort((x, y) => y.length - x.length)[0];
  if (owner !== undefined) return [owner];
  return job.arrays.filter((a) => dir === '' || a.startsWith(`${dir}/`));
}

/** The mutated bytes: a prepared replacement, a truncation, or one flipped byte. */
function mutate(m, original) {
  if (m.replace !== undefined) return readFileSync(m.replace);
  const bytes = Buffer.from(original);
  const mutated = m.truncate === undefined ? bytes : bytes.subarray(0, m.truncate);
  if (m.offset !== undefined) mutated[m.offset] ^= m.xor;
  return mutated;
}

for (const m of job.mutants) {
  // The intact store (file '') gives every read's baseline outcome.
  const path = join(job.store, m.file);
  const original = m.file === '' ? undefined : readFileSync(path);
  if (original !== undefined) writeFileSync(path, mutate(m, original));
  process.stdout.write(`${JSON.stringify({ start: m.id })}\n`);
  const results = [
    await attempt('readZarr', () => readZarr(job.store)),
    await attempt('readElem', async () => readElem(await openGroup(job.store, '', { consolidated: 'ignore' }))),
  ];
  for (const a of affected(m.file)) {
    results.push(
      await attempt(`array ${a}`, async () => {
        const arr = await openArray(job.store, a);
        // record arrays (rank_genes_groups' rec-arrays) decode by fields
        return arr.dtype === 'record' ? arr.getRecords() : arr.get();
      }),
    );
  }
  if (original !== undefined) writeFileSync(path, original);
  process.stdout.write(`${JSON.stringify({ done: m.id, results })}\n`);
}
