/** The web tier's only door to the running platform's services (registered by ingest/platform.ts). */
export { getServices } from '../../../ingest/services.ts';
export type { Services } from '../../../ingest/services.ts';
