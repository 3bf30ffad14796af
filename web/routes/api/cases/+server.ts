import { json } from '@sveltejs/kit';
import { api, fail, num, readJson, requireUser } from '$lib/server/api.ts';
import { actorFor, caseService, caseView } from '$lib/server/cases.ts';
import { gridFilter } from '../../../../ingest/auth/scope.ts';
import { CaseIntakeBody, parseBody } from '../../../../core/schemas/api.ts';
import { CASE_STATES, type CaseState, type Priority } from '../../../../core/cases/types.ts';

function time(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n))
    fail('validation_failed', `${name} must be an ISO-8601 time or epoch milliseconds`, { field: name });
  return n;
}

/**
 * Cases in the user's scope, newest first. Query: state (comma list), category (id or class), source,
 * priority, grid (code prefix, narrowed to the scope), overdue (true/false), from, to (created, ISO or ms),
 * q (text), limit (≤ 500), cursor (from the previous page's nextCursor).
 */
export const GET = api(async (event) => {
  const u = requireUser(event);
  const p = event.url.searchParams;
  const state = p
    .get('state')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of state ?? [])
    if (!CASE_STATES.includes(s as CaseState))
      fail('validation_failed', `state ${s} is not a case state`, { field: 'state' });
  const overdue = p.get('overdue');
  if (overdue !== null && overdue !== 'true' && overdue !== 'false')
    fail('validation_failed', 'overdue must be true or false', { field: 'overdue' });
  const actor = actorFor(u);
  const page = await caseService().list(
    {
      ...(state?.length ? { state } : {}),
      category: p.get('category') || undefined,
      source: p.get('source') || undefined,
      priority: num(p.get('priority'), 'priority', { int: true, min: 1, max: 4 }),
      grid: gridFilter(p) ?? undefined,
      ...(overdue === null ? {} : { overdue: overdue === 'true' }),
      from: time(p.get('from'), 'from'),
      to: time(p.get('to'), 'to'),
      q: p.get('q') || undefined,
      limit: num(p.get('limit'), 'limit', { int: true, min: 1, max: 500 }),
      cursor: p.get('cursor') || undefined,
    },
    actor,
  );
  return json({ cases: page.cases.map((c) => caseView(c, actor)), nextCursor: page.nextCursor });
});

/**
 * Manual intake (hotline, patrol, citizen, superior): 201 with the new case. `reporter` (the caller's name and
 * phone) is stored off the case document (cases.reporter), never returned here.
 */
export const POST = api(async (event) => {
  const u = requireUser(event);
  const body = parseBody(CaseIntakeBody, await readJson(event));
  const actor = actorFor(u);
  const c = await caseService().intake(
    {
      title: body.title,
      ...(body.description !== undefined ? { description: body.description } : {}),
      category: body.category,
      location: [body.location[0], body.location[1]],
      source: body.source,
      ...(body.priority !== undefined ? { priority: body.priority as Priority } : {}),
      ...(body.reporter !== undefined
        ? { reporter: { name: body.reporter.name?.trim(), phone: body.reporter.phone?.trim() } }
        : {}),
    },
    actor,
  );
  return json(caseView(c, actor), { status: 201, headers: { location: `/api/cases/${c.id}` } });
});
