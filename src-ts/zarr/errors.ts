// Typed errors: every failure surfaces as a ZarrsError subclass with a stable `code` and the
// store key or node path involved. Native errors arrive as a prefixed JSON payload.

export type ErrorCode =
  | 'NotFound'
  | 'InvalidMetadata'
  | 'Codec'
  | 'Checksum'
  | 'OutOfBounds'
  | 'InvalidSelection'
  | 'Unsupported'
  | 'ReadOnly'
  | 'ConsolidatedStale'
  | 'Aborted'
  | 'Storage'
  | 'InvalidInput'
  /** A store a conversion or writer has not finished (killed, or parts still missing). */
  | 'Incomplete'
  | 'Internal';

export class ZarrsError extends Error {
  /** Stable machine-readable tag. */
  readonly code: ErrorCode;
  /** Store key or node path involved, when known. */
  readonly key: string | null;

  constructor(code: ErrorCode, message: string, options: { key?: string | null; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.key = options.key ?? null;
    this.name = new.target.name;
  }
}

export class NotFoundError extends ZarrsError {}
export class InvalidMetadataError extends ZarrsError {}
export class CodecError extends ZarrsError {}
export class ChecksumError extends CodecError {}
export class OutOfBoundsError extends ZarrsError {}
export class InvalidSelectionError extends ZarrsError {}
export class UnsupportedError extends ZarrsError {}
export class ReadOnlyError extends ZarrsError {}
export class ConsolidatedStaleError extends ZarrsError {}
export class AbortedError extends ZarrsError {}
export class StorageError extends ZarrsError {}
export class InvalidInputError extends ZarrsError {}
export class InternalError extends ZarrsError {}
export class IncompleteError extends ZarrsError {}

const classes: Record<
  ErrorCode,
  new (
    code: ErrorCode,
    message: string,
    o?: { key?: string | null; cause?: unknown },
  ) => ZarrsError
> = {
  NotFound: NotFoundError,
  InvalidMetadata: InvalidMetadataError,
  Codec: CodecError,
  Checksum: ChecksumError,
  OutOfBounds: OutOfBoundsError,
  InvalidSelection: InvalidSelectionError,
  Unsupported: UnsupportedError,
  ReadOnly: ReadOnlyError,
  ConsolidatedStale: ConsolidatedStaleError,
  Aborted: AbortedError,
  Storage: StorageError,
  InvalidInput: InvalidInputError,
  Internal: InternalError,
  Incomplete: IncompleteError,
};

/** Build the subclass matching `code`. */
export function zarrsError(code: ErrorCode, message: string, key: string | null = null, cause?: unknown): ZarrsError {
  return new classes[code](code, message, { key, cause });
}

/** Narrow an unknown error. */
export function isZarrsError(e: unknown): e is ZarrsError {
  return e instanceof ZarrsError;
}

const PREFIX = 'ZARRS_NODE_ERROR:';

/** napi-rs statuses of argument conversions that failed on a wrong JS type. */
const NAPI_CALLER_ERRORS: ReadonlySet<string> = new Set([
  'InvalidArg',
  'NumberExpected',
  'StringExpected',
  'ObjectExpected',
  'BooleanExpected',
  'ArrayExpected',
]);

/** Turn whatever the native layer threw into a ZarrsError. */
export function fromNative(e: unknown): ZarrsError {
  if (e instanceof ZarrsError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const at = message.indexOf(PREFIX);
  if (at >= 0) {
    try {
      const p = JSON.parse(message.slice(at + PREFIX.length)) as {
        code: ErrorCode;
        key: string | null;
        message: string;
      };
      if (p.code in classes) return zarrsError(p.code, p.message, p.key);
    } catch {
      // fall through: not our payload
    }
  }
  // napi-rs argument conversion failures (wrong JS types) are caller errors.
  const code = (e as { code?: string } | null)?.code;
  if (NAPI_CALLER_ERRORS.has(code ?? '')) {
    return zarrsError('InvalidInput', message, null, e);
  }
  return zarrsError('Internal', message, null, e);
}

/** Run a synchronous native call, mapping errors. */
export function callSync<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw fromNative(e);
  }
}

/** Await a native promise, mapping errors. */
export async function call<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw fromNative(e);
  }
}
