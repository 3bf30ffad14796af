/**
 * Case ↔ Open311 service request.
 *
 * - A request is a case with source `citizen` (CONTRACT.md). Other cases (sensor, camera, hotline, …)
 *   are not Open311 requests: they are neither listed nor found by id.
 * - service_request_id is the case code (HQ-20261123-0001); service_code is the category id.
 * - status: `closed` when the case is closed, rejected (不予立案) or merged (并案); else `open`.
 * - status_notes: the handling result (处理结果) once handled or closed, the rejection reason, or the case
 *   a duplicate was merged into; otherwise a short account of where the case stands.
 * - agency_responsible: the department the case is dispatched to (its name from the departments table);
 *   a case with a grid worker as assignee, or not dispatched yet, names the command centre's grid
 *   (community, street or district) at the case's level.
 * - Reporter contact (email, names, phone, device and account id) is stored on the case by the case
 *   service and never appears in any response.
 */
import type { Case, CaseState } from '../../core/cases/types.ts';
import type { Lang } from './lang.ts';
import { serviceName, w3 } from './services.ts';
import type { RequestRow } from './store.ts';

/** The case as the case service stores it: core's record plus the intake extras. */
export type CaseDoc = Case & {
  address?: string | null;
  mediaUrl?: string | null;
  attributes?: Record<string, unknown> | null;
};

export const CLOSED_STATES: readonly CaseState[] = ['closed', 'rejected', 'merged'];
export const OPEN_REQUEST_STATES: readonly CaseState[] = [
  'reported',
  'registered',
  'dispatched',
  'in_progress',
  'handled',
];

export type Status = 'open' | 'closed';

export function statusOf(c: Pick<Case, 'state'>): Status {
  return CLOSED_STATES.includes(c.state) ? 'closed' : 'open';
}

export interface ServiceRequestJson {
  service_request_id: string;
  status: Status;
  status_notes: string | null;
  service_name: string;
  service_code: string;
  description: string | null;
  agency_responsible: string | null;
  service_notice: string | null;
  requested_datetime: string;
  updated_datetime: string;
  expected_datetime: string | null;
  address: string | null;
  address_id: string | null;
  zipcode: string | null;
  lat: number | null;
  long: number | null;
  media_url: string | null;
}

/** What mapping needs besides the case; looked up by the caller for a whole page at once. */
export interface MapContext {
  lang: Lang;
  /** Department id → display name in `lang`. */
  departmentName(id: string): string | null;
  /** Grid code → name. */
  gridName(code: string): string | null;
  /** Rejection reason of a rejected case (from its trail); null if none recorded. */
  rejectReason(c: Case): string | null;
  /** Code of the case a merged case was merged into. */
  mergedIntoCode(c: Case): string | null;
  /** Open311 bookkeeping row of the case, when it was posted through Open311. */
  row(c: Case): RequestRow | undefined;
}

function levelGrid(c: Case): string | null {
  return c.level === 'district' ? c.grid.district : c.level === 'street' ? c.grid.street : c.grid.community;
}

export function agencyOf(c: Case, ctx: MapContext): string | null {
  if (c.assignee?.kind === 'department') return ctx.departmentName(c.assignee.id) ?? c.assignee.id;
  const g = c.assignee?.kind === 'user' ? (c.grid.community ?? levelGrid(c)) : levelGrid(c);
  return g ? ctx.gridName(g) : null;
}

/** A description of the location from the grids, most specific first (the spec's order for addresses). */
export function placeOf(c: Case, ctx: MapContext): string | null {
  const names = [c.grid.grid, c.grid.community, c.grid.street, c.grid.district]
    .filter((g): g is string => !!g)
    .map((g) => ctx.gridName(g))
    .filter((n): n is string => !!n);
  return names.length ? names.join(', ') : null;
}

export function statusNotesOf(c: Case, agency: string | null, ctx: MapContext): string | null {
  const zh = ctx.lang === 'zh';
  const result = c.result?.trim() || null;
  switch (c.state) {
    case 'reported':
      return zh ? '已受理，等待核实立案。' : 'Received, awaiting review.';
    case 'registered':
      return zh ? '已立案，等待派遣。' : 'Registered, awaiting dispatch.';
    case 'dispatched':
      return zh ? `已派遣至${agency ?? '责任部门'}。` : `Dispatched to ${agency ?? 'the responsible department'}.`;
    case 'in_progress':
      return zh ? `${agency ?? '责任部门'}正在处置。` : `${agency ?? 'The responsible department'} is dealing with it.`;
    case 'handled':
      return zh
        ? `已处置，等待核查${result ? `：${result}` : '。'}`
        : `Handled, awaiting verification${result ? `: ${result}` : '.'}`;
    case 'closed':
      return result ?? (zh ? '已办结。' : 'Resolved.');
    case 'rejected': {
      const reason = ctx.rejectReason(c);
      return zh ? `不予立案${reason ? `：${reason}` : '。'}` : `Not accepted${reason ? `: ${reason}` : '.'}`;
    }
    case 'merged': {
      const into = ctx.mergedIntoCode(c);
      return zh
        ? `重复诉求，已并入 ${into ?? '另一案件'} 处理。`
        : `Duplicate request, merged into ${into ?? 'another request'}.`;
    }
  }
}

export function serviceNoticeOf(c: Case, agency: string | null, lang: Lang): string | null {
  if (statusOf(c) === 'closed') return null;
  return lang === 'zh'
    ? `${agency ?? '责任部门'}将按服务时限处置${c.deadline !== null ? '，预计办结时间见 expected_datetime' : ''}。`
    : `${agency ?? 'The responsible department'} will deal with it within the service time limit${c.deadline !== null ? ' (see expected_datetime)' : ''}.`;
}

/** The notice returned to the client that just posted a request. */
export function postNotice(lang: Lang): string {
  return lang === 'zh'
    ? '已受理。核实立案后将派遣至责任部门按服务时限处置，可凭 service_request_id 查询办理进度。'
    : 'Received. After review it will be dispatched to the responsible department; follow it with its service_request_id.';
}

export function toServiceRequest(c: CaseDoc, ctx: MapContext): ServiceRequestJson {
  const agency = agencyOf(c, ctx);
  const status = statusOf(c);
  const updated = status === 'closed' ? (c.closedAt ?? c.updatedAt) : c.updatedAt;
  const address = (typeof c.address === 'string' && c.address.trim()) || placeOf(c, ctx);
  return {
    service_request_id: c.code,
    status,
    status_notes: statusNotesOf(c, agency, ctx),
    service_name: serviceName(c.category, ctx.lang),
    service_code: c.category,
    description: c.description || null,
    agency_responsible: agency,
    service_notice: serviceNoticeOf(c, agency, ctx.lang),
    requested_datetime: w3(c.createdAt),
    updated_datetime: w3(updated),
    expected_datetime: c.deadline !== null && c.deadline !== undefined ? w3(c.deadline) : null,
    address: address || null,
    address_id: ctx.row(c)?.addressId ?? null,
    zipcode: null,
    lat: c.location ? c.location[1] : null,
    long: c.location ? c.location[0] : null,
    media_url: (typeof c.mediaUrl === 'string' && c.mediaUrl) || null,
  };
}
