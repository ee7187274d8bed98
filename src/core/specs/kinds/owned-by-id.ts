/**
 * What the kinds of owned resources named by id (event sources, action targets, rules) do
 * alike: read as an admin, so another owner's resource is found (and refused) rather than
 * created twice; refuse to manage another owner's; delete tolerating one already gone.
 */
import { RivuletError } from '../../../kernel/errors.js';
import type { Actor } from '../../rules/rule-model.js';

const READER: Actor = { owner: '', admin: true };

/** the resource, or null where `get` fails with `notFound` */
export async function readById<R>(get: (reader: Actor) => Promise<R>, notFound: string): Promise<R | null> {
  try {
    return await get(READER);
  } catch (err) {
    if (err instanceof RivuletError && err.code === notFound) return null;
    throw err;
  }
}

/** deletes as an admin; one already gone (`notFound`) is fine */
export async function deleteById(remove: (reader: Actor) => Promise<unknown>, notFound: string): Promise<void> {
  try {
    await remove(READER);
  } catch (err) {
    if (!(err instanceof RivuletError && err.code === notFound)) throw err;
  }
}

/** CONFLICT unless the spec's owner owns the resource; `detail` names the resource in the error's details */
export function assertSpecOwns(noun: string, detail: string, id: string, owner: string, specOwner: string): void {
  if (owner !== specOwner) {
    throw new RivuletError(
      'CONFLICT',
      `${noun} "${id}" exists and belongs to owner "${owner}"; a spec of "${specOwner}" cannot manage it`,
      { details: { [detail]: id, owner } },
    );
  }
}
