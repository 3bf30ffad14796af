import { error, redirect } from '@sveltejs/kit';
import { getServices } from '$lib/server/platform.ts';
import { listDepartments } from '../../../../ingest/store/users.ts';
import type { PageServerLoad } from './$types';

/** User administration (admins only); the page then talks to /api/users. */
export const load: PageServerLoad = async ({ locals }) => {
  if (!locals.user) redirect(303, '/login?next=%2Fadmin%2Fusers');
  if (locals.user.role !== 'admin') error(403, 'admins only');
  return { me: locals.user.username, departments: await listDepartments(getServices().db) };
};
