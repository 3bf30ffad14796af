import { json } from '@sveltejs/kit';
import { api } from '$lib/server/api.ts';
import { openApiDocument } from '../../../../core/schemas/openapi.ts';

let doc: Record<string, unknown> | null = null;

/** The OpenAPI 3.1 document, generated from the schemas the routes validate with (public). */
export const GET = api(() => json((doc ??= openApiDocument())));
