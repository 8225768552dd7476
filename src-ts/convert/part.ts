// `--part I/N` and `--part auto`: which part of a partitioned conversion this process runs,
// from the command line or from the array-job variables of the scheduler that started it.

import { zarrsError } from '../zarr/errors.js';
import type { Part } from './run.js';

type Env = Record<string, string | undefined>;

function int(v: string | undefined): number | null {
  return v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : null;
}

function checked(index: number, count: number, from: string): Part {
  if (count < 1 || index < 0 || index >= count) {
    throw zarrsError('InvalidInput', `${from}: part ${index + 1} of ${count} does not exist`);
  }
  return { index, count };
}

/**
 * The part `--part auto` means under the current scheduler (indexes are 0-based there):
 * - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX`, with the count in `JOB_COMPLETIONS`
 *   (Kubernetes does not export `.spec.completions`; the manifest sets it);
 * - Slurm job array: `SLURM_ARRAY_TASK_ID` - `SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT`;
 * - AWS Batch array job: `AWS_BATCH_JOB_ARRAY_INDEX`, with the size in `AWS_BATCH_JOB_ARRAY_SIZE`
 *   (set in the job definition; Batch exports only the index).
 */
export function autoPart(env: Env = process.env): Part {
  const k8s = int(env.JOB_COMPLETION_INDEX);
  if (k8s !== null) {
    const n = int(env.JOB_COMPLETIONS);
    if (n === null) {
      throw zarrsError(
        'InvalidInput',
        "--part auto: JOB_COMPLETION_INDEX is set but JOB_COMPLETIONS is not; set it to the Job's .spec.completions",
      );
    }
    return checked(k8s, n, 'Kubernetes Indexed Job');
  }
  const slurm = int(env.SLURM_ARRAY_TASK_ID);
  if (slurm !== null) {
    const n = int(env.SLURM_ARRAY_TASK_COUNT);
    if (n === null) throw zarrsError('InvalidInput', '--part auto: SLURM_ARRAY_TASK_COUNT is not set');
    return checked(slurm - (int(env.SLURM_ARRAY_TASK_MIN) ?? 0), n, 'Slurm job array');
  }
  const batch = int(env.AWS_BATCH_JOB_ARRAY_INDEX);
  if (batch !== null) {
    const n = int(env.AWS_BATCH_JOB_ARRAY_SIZE);
    if (n === null) {
      throw zarrsError(
        'InvalidInput',
        '--part auto: AWS_BATCH_JOB_ARRAY_INDEX is set but AWS_BATCH_JOB_ARRAY_SIZE is not; set it in the job definition',
      );
    }
    return checked(batch, n, 'AWS Batch array job');
  }
  throw zarrsError(
    'InvalidInput',
    '--part auto: no array-job index found (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX)',
  );
}

/** Parse `I/N` (1-based, as people count parts) or `auto`. */
export function parsePart(spec: string, env: Env = process.env): Part {
  if (spec === 'auto') return autoPart(env);
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  if (!m) throw zarrsError('InvalidInput', `--part '${spec}': expected I/N (for example 2/8) or auto`);
  return checked(Number(m[1]) - 1, Number(m[2]), `--part ${spec}`);
}
