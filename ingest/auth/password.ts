/**
 * Password policy (GB/T 22239-2019 8.1.4.1 a: passwords of sufficient complexity, changed when given by
 * someone else). A password is refused when it is
 *   - shorter than 10 characters (code points, after nothing is trimmed: spaces count, but a password of
 *     only whitespace is refused),
 *   - contains the username (case-insensitive),
 *   - a common password — in zxcvbn-ts's list of common passwords (@zxcvbn-ts/language-common, leaked
 *     password corpora), also in l33t or reversed form,
 *   - or easily guessed by the zxcvbn estimator (score below 3: fewer than ~10^8 guesses).
 * Refusals are `weak_password` (HTTP 400) with `details.reason` one of: too_short, blank, contains_username,
 * common, guessable, too_long.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import { DomainError } from '../../core/errors.ts';

export const PASSWORD_MIN_LENGTH = 10;
/** scrypt hashes anything, but a megabyte password is a denial of service, not a password. */
export const PASSWORD_MAX_LENGTH = 256;
/** zxcvbn score (0–4) a password must reach. */
export const PASSWORD_MIN_SCORE = 3;

let zxcvbn: ZxcvbnFactory | null = null;
function estimator(): ZxcvbnFactory {
  zxcvbn ??= new ZxcvbnFactory({ dictionary: { ...common.dictionary }, graphs: common.adjacencyGraphs });
  return zxcvbn;
}

export type PasswordProblem = 'too_short' | 'too_long' | 'blank' | 'contains_username' | 'common' | 'guessable';

/** The first rule a password breaks, or null when it is acceptable for `username`. */
export function passwordProblem(password: string, username: string): PasswordProblem | null {
  const len = [...password].length;
  if (len < PASSWORD_MIN_LENGTH) return 'too_short';
  if (len > PASSWORD_MAX_LENGTH) return 'too_long';
  if (password.trim() === '') return 'blank';
  const u = username.trim().toLowerCase();
  if (u && password.toLowerCase().includes(u)) return 'contains_username';
  const r = estimator().check(password, [username]);
  const wholeCommon = r.sequence.some(
    (m) =>
      m.pattern === 'dictionary' &&
      (m as { dictionaryName?: string }).dictionaryName === 'passwords' &&
      m.token.length >= password.length - 2,
  );
  if (wholeCommon) return 'common';
  if (r.score < PASSWORD_MIN_SCORE) return 'guessable';
  return null;
}

const MESSAGES: Record<PasswordProblem, string> = {
  too_short: `password must be at least ${PASSWORD_MIN_LENGTH} characters`,
  too_long: `password must be at most ${PASSWORD_MAX_LENGTH} characters`,
  blank: 'password must not be only whitespace',
  contains_username: 'password must not contain the username',
  common: 'password is a commonly used password',
  guessable: 'password is too easy to guess: use a longer phrase or mix unrelated words, digits and symbols',
};

/** Throw `weak_password` when the password breaks the policy. */
export function assertPasswordPolicy(password: string, username: string): void {
  const p = passwordProblem(password, username);
  if (p) throw new DomainError('weak_password', MESSAGES[p], { field: 'password', reason: p });
}
