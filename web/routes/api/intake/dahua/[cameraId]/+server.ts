import { pushHandler } from '../../push.ts';

/** Dahua event push (JSON {Code, Action, Index, Data} or eventManager text). */
export const POST = pushHandler('dahua');
