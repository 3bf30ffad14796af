import { json } from '@sveltejs/kit';
import { api, requireUser } from '$lib/server/api.ts';
import { caseService } from '$lib/server/cases.ts';
import { CATEGORIES } from '../../../../core/cases/categories.ts';

/**
 * Event categories (GB/T 30428.2 event classes plus the sensor classes), each with its default priority and
 * the department it routes to in this installation.
 */
export const GET = api(async (event) => {
  requireUser(event);
  const dirs = caseService().departments;
  return json({ categories: CATEGORIES.map((c) => ({ ...c, department: dirs.route(c.id, null) })) });
});
