// AbortSignal support: reject at once when the signal fires and tell the native task to stop
// at its next checkpoint (between slabs of chunks).

import { AbortedError, call } from './errors.js';
import { type NativeCancel, native } from './native.js';

/** Options accepted by every I/O method. */
export interface CallOptions {
  signal?: AbortSignal;
}

function aborted(signal: AbortSignal): AbortedError {
  return new AbortedError('Aborted', 'the operation was aborted', { cause: signal.reason });
}

/** Run a cancellable native call under `signal`. */
export async function withSignal<T>(
  signal: AbortSignal | undefined,
  run: (cancel: NativeCancel | undefined) => Promise<T>,
): Promise<T> {
  if (!signal) return call(() => run(undefined));
  if (signal.aborted) throw aborted(signal);
  const cancel = new native.NativeCancel();
  let onAbort: (() => void) | undefined;
  const abortPromise = new Promise<never>((_, reject) => {
    onAbort = () => {
      cancel.cancel();
      reject(aborted(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call(() => run(cancel)), abortPromise]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
