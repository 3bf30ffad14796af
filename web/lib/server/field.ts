/** The grid worker's app service (ingest/field), made once per platform over its case service and grids. */
import { FieldService } from '../../../ingest/field/index.ts';
import { getServices } from './platform.ts';
import { caseService } from './cases.ts';

export function fieldService(): FieldService {
  const s = getServices();
  let f = s.ext.field as FieldService | undefined;
  if (!f) s.ext.field = f = new FieldService(caseService(), s.grids);
  return f;
}
