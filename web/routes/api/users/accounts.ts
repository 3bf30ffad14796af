/** The running platform's account service (ingest/auth/accounts.ts), registered by ingest/platform.ts. */
import { getServices } from '$lib/server/platform.ts';
import type { Accounts } from '../../../../ingest/auth/accounts.ts';

export function accounts(): Accounts {
  return getServices().ext.accounts as Accounts;
}
