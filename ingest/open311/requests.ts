/**
 * Case ↔ Open311 service request.
 *
 * - A request is a case with source `citizen` (CONTRACT.md). Other cases (sensor, camera, hotline, …)
 *   are not Open311 requests: they are neither listed nor found by id.
 * - service_request_id is the request's public id (20 random hex characters, open311_requests.public_id),
 *   never the sequential case code; service_code is the category id.
 * - status: `closed` when the case is closed, rejected (不予立案) or merged (并案); else `open`.
 * - status_notes: a standard account of where the case stands (per state, in zh-CN or English), followed
 *   by the latest note a handler marked public (`notePublic: true` on the action) in the current state.
 *   Notes, reasons and results are internal unless so marked: they never reach the public otherwise.
 * - agency_responsible: the department the case is dispatched to (its name from the departments table);
 *   a case with a grid worker as assignee, or not dispatched yet, names the command centre's grid
 *   (community, street or district) at the case's level.
 * - Reporter contact (email, names, phone, device and account id) is stored on the case by the case
 *   service and never appears in any response; phone numbers, email addresses and the reporter's own name
 *   typed into `description` or `address` are masked (privacy.ts).
 * - lat/long are rounded to 3 decimals (about 100 m, privacy.ts `coarsen`).
 */
import type { Case, CaseState } from '../../core/cases/types.ts';
import type { Lang } from './lang.ts';
import { serviceName, w3 } from './services.ts';
import { coarsen, maskText } from './privacy.ts';
import type { PublicNote, RequestRow } from './store.ts';

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
  /** The latest note of the case a handler marked public; null if none. */
  publicNote(c: Case): PublicNote | null;
  /** Public id of the request a merged case was merged into (null when that case is no Open311 request). */
  mergedIntoId(c: Case): string | null;
  /** Open311 bookkeeping row of the case (every rendered case has one: its public id). */
  row(c: Case): RequestRow | undefined;
  /** The reporter's names, masked wherever they appear in free text. */
  names(c: Case): readonly string[];
  /** URL of the public (metadata-free) copy of the uploaded photo; null when none was uploaded. */
  mediaUrl(c: Case): string | null;
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
  const standard = standardNotesOf(c, agency, ctx);
  const note = ctx.publicNote(c);
  if (!note || (note.toState !== null && note.toState !== c.state)) return standard;
  const text = maskText(note.text, ctx.names(c));
  return ctx.lang === 'zh' ? `${standard}办理说明：${text}` : `${standard} Note: ${text}`;
}

/** The neutral account of each state, with nothing a handler wrote. */
export function standardNotesOf(c: Case, agency: string | null, ctx: MapContext): string {
  const zh = ctx.lang === 'zh';
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
      return zh ? '已处置，等待核查。' : 'Handled, awaiting verification.';
    case 'closed':
      return zh ? '已办结。' : 'Resolved.';
    case 'rejected':
      return zh ? '不予立案。' : 'Not accepted.';
    case 'merged': {
      const into = ctx.mergedIntoId(c);
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

/** The notice of a submission folded into an identical earlier one (flood.ts). */
export function duplicateNotice(lang: Lang): string {
  return lang === 'zh'
    ? '相同的诉求已在办理中：本次提交已并入原诉求，请以 service_request_id 查询办理进度。'
    : 'An identical request is already being dealt with: this submission was folded into it; follow it with its service_request_id.';
}

export function toServiceRequest(c: CaseDoc, ctx: MapContext): ServiceRequestJson {
  const agency = agencyOf(c, ctx);
  const status = statusOf(c);
  const updated = status === 'closed' ? (c.closedAt ?? c.updatedAt) : c.updatedAt;
  const typed = typeof c.address === 'string' && c.address.trim() ? maskText(c.address.trim(), ctx.names(c)) : null;
  const address = typed || placeOf(c, ctx);
  const loc = c.location ? coarsen(c.location) : null;
  const row = ctx.row(c);
  if (!row) throw new Error(`open311: case ${c.id} has no public id`);
  return {
    service_request_id: row.publicId,
    status,
    status_notes: statusNotesOf(c, agency, ctx),
    service_name: serviceName(c.category, ctx.lang),
    service_code: c.category,
    description: c.description ? maskText(c.description, ctx.names(c)) : null,
    agency_responsible: agency,
    service_notice: serviceNoticeOf(c, agency, ctx.lang),
    requested_datetime: w3(c.createdAt),
    updated_datetime: w3(updated),
    expected_datetime: c.deadline !== null && c.deadline !== undefined ? w3(c.deadline) : null,
    address: address || null,
    address_id: row.addressId ?? null,
    zipcode: null,
    lat: loc ? loc[1] : null,
    long: loc ? loc[0] : null,
    media_url: ctx.mediaUrl(c) ?? ((typeof c.mediaUrl === 'string' && c.mediaUrl) || null),
  };
}
