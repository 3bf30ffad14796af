/**
 * Coded domain errors. The HTTP and MQTT edges map `code` to a status or a reason code;
 * `code` values are part of the external contract and never change once shipped.
 */
export type ErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'outside_scope'
  | 'not_found'
  | 'conflict'
  | 'stale_version'
  | 'illegal_transition'
  | 'invalid_grid'
  | 'invalid_code'
  | 'topology_invalid'
  | 'unprocessable'
  | 'payload_too_large'
  // accounts and sessions (GB/T 22239-2019 8.1.4.1)
  | 'rate_limited'
  | 'account_locked'
  | 'weak_password'
  | 'totp_required'
  | 'password_change_required'
  | 'totp_enrolment_required'
  // the grid worker's app (issue 15)
  | 'unsupported_media'
  | 'too_far';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  outside_scope: 403,
  not_found: 404,
  conflict: 409,
  stale_version: 409,
  illegal_transition: 422,
  invalid_grid: 422,
  invalid_code: 400,
  topology_invalid: 422,
  unprocessable: 422,
  payload_too_large: 413,
  rate_limited: 429,
  account_locked: 423,
  weak_password: 400,
  totp_required: 401,
  password_change_required: 403,
  totp_enrolment_required: 403,
  /** An upload whose bytes are not an accepted type (sniffed, never the declared content-type). */
  unsupported_media: 415,
  /** An on-site check (核查) made further from the case than allowed, without an override reason. */
  too_far: 422,
};

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return STATUS[this.code];
  }
}

export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code];
}

/**
 * By shape, not `instanceof`: the web bundle carries its own copy of this module, so a DomainError thrown
 * by a platform service is not an instance of the web copy's class.
 */
export function isDomainError(e: unknown): e is DomainError {
  return (
    e instanceof DomainError ||
    (e instanceof Error &&
      e.name === 'DomainError' &&
      typeof (e as unknown as { code?: unknown }).code === 'string' &&
      (e as unknown as { code: string }).code in STATUS)
  );
}
