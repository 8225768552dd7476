// Opening the stores the commands take: any StoreLike location (path, file://, s3://, http(s)://,
// .zip), its root group, and the errors that name the location when there is nothing there.

import { isZarrsError, zarrsError } from '../zarr/errors.js';
import { type Group, type OpenGroupOptions, openGroup } from '../zarr/group.js';
import { openStore } from '../zarr/store.js';

/**
 * The root group of the store at `location`. Read-only unless `mode` says otherwise, so that
 * reading commands never create anything. A location with no group is NotFound naming it.
 */
export async function openRoot(location: string, options: OpenGroupOptions = {}): Promise<Group> {
  const mode = options.mode ?? 'r';
  const store = await openStore(location, { readOnly: mode === 'r' });
  try {
    return await openGroup(store, '', { ...options, mode });
  } catch (e) {
    if (isZarrsError(e) && e.code === 'NotFound') {
      throw zarrsError('NotFound', `'${location}': no zarr group there (${e.message})`, location, e);
    }
    throw e;
  }
}
