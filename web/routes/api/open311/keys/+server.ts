/**
 * Open311 API keys (admin only). `POST {"name"}` creates a key and returns it once (only its SHA-256 is
 * stored) and records `open311_key_created` in the security audit log; `GET` lists keys without their values.
 * Until a key exists, POST service request answers 403.
 */
import { json } from '@sveltejs/kit';
import { api, fail, readJson, requireRole } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { createKey, listKeys } from '../../../../../ingest/open311/index.ts';
import { recordAudit } from '../../../../../ingest/auth/audit.ts';

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
  const db = getServices().db;
  const { key, info } = await createKey(db, name.trim(), u.username);
  let ip: string | null = null;
  try {
    ip = event.getClientAddress();
  } catch {
    ip = null;
  }
  // Security audit (GB/T 22239-2019 8.1.4.3): who issued which key; never the key itself.
  await recordAudit(db, {
    kind: 'open311_key_created',
    actor: u.username,
    target: info.id,
    ip,
    detail: { name: info.name },
  });
  return json({ ...info, key }, { status: 201 });
});
