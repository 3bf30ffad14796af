import { getServices } from '$lib/server/platform.ts';

export const GET = async () => {
  const { registry } = getServices();
  return new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } });
};
