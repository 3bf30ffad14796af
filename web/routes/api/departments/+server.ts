import { json } from '@sveltejs/kit';
import { api, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { listDepartments } from '../../../../ingest/store/users.ts';

/** The departments cases are dispatched and whistled to, with the category classes each handles. */
export const GET = api(async (event) => {
  requireUser(event);
  return json({ departments: await listDepartments(getServices().db) });
});
