/**
 * Open311 API keys (admin only). `POST {"name"}` creates a key and returns it once (only its SHA-256 is
 * stored); `GET` lists keys without their values. Until a key exists, POST service request answers 403.
 */
import { json } from '@sveltejs/kit';
import { api, fail, readJson, requireRole } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { createKey, listKeys } from '../../../../../ingest/open311/index.ts';

export const GET = api(async (event) => {
  requireRole(event);
  return json({ keys: await listKeys(getServices().db) });
});

export const POST = api(async (event) => {
  const u = requireRole(event);
  const body = (await readJson(event)) as { name?: unknown } | null;
  const name = body && typeof body === 'object' ? body.name : undefined;
  if (typeof name !== 'string' || !name.trim() || name.length > 200)
    fail('validation_failed', 'name is required: who the key is for (1–200 characters)', { field: 'name' });
  const { key, info } = await createKey(getServices().db, name.trim(), u.username);
  return json({ ...info, key }, { status: 201 });
});
