/**
 * User administration (GB/T 22239-2019 8.1.4.2: accounts managed by an administrator, least privilege) and
 * the self-service parts of an account: password change, TOTP enrolment. One module for the HTTP API
 * (`/api/users`, `/api/session/*`) and the CLI (`onegrid user add`), so both apply the same rules:
 *
 * - username: 2–64 of A–Z a–z 0–9 . _ -
 * - role: admin, analyst, commander, dispatcher, department, gridworker, viewer
 * - scope: an admin has none; role `department` needs an existing department; every other role needs a
 *   grid code of the published grid version (or a department). `level` (district|street|community) must be
 *   the scope grid's level (grid level 1 = district, 2 = street, 3 = community; a base grid has no level);
 *   omitted, it is taken from the grid.
 * - passwords follow password.ts; a generated or admin-set password must be changed at first sign-in.
 * Every change is written to the security audit log and ends the sessions it invalidates.
 */
import { generateSecret, generateURI } from 'otplib';
import QRCode from 'qrcode';
import { DomainError } from '../../core/errors.ts';
import { stripBidi } from '../../core/text.ts';
import type { Db, Queryable } from '../store/db.ts';
import {
  clearLoginFailures,
  departmentExists,
  getLoginState,
  getUserAdmin,
  insertUser,
  setPassword,
  setTotp,
  updateUser,
  useTotpStep,
  type Role,
  type UserAdminRow,
} from '../store/users.ts';
import { publishedVersion } from '../store/grids.ts';
import { hashSecret, newSecret, verifySecret } from './secrets.ts';
import { assertPasswordPolicy } from './password.ts';
import { recordAudit } from './audit.ts';
import { checkTotp, countTowardLock, type Sessions } from './sessions.ts';

export const ROLES: readonly Role[] = [
  'admin',
  'analyst',
  'commander',
  'dispatcher',
  'department',
  'gridworker',
  'viewer',
];
export const LEVELS = ['district', 'street', 'community'] as const;
export type Level = (typeof LEVELS)[number];
const LEVEL_OF_GRID: Record<number, Level | null> = { 1: 'district', 2: 'street', 3: 'community', 4: null };
export const USERNAME_RE = /^[A-Za-z0-9._-]{2,64}$/;

function invalid(field: string, message: string): never {
  throw new DomainError('validation_failed', message, { field });
}

/** A generated password: 16 URL-safe random characters (96 bits), always within the policy. */
export function generatePassword(): string {
  return newSecret(12);
}

export interface UserSpec {
  role: Role;
  scopeGrid: string | null;
  scopeDepartment: string | null;
  level: Level | null;
}

/** Check role/scope/level against the database; returns the spec with `level` filled from the grid. */
export async function checkScope(q: Queryable, s: UserSpec): Promise<UserSpec> {
  if (!ROLES.includes(s.role)) invalid('role', `role must be one of ${ROLES.join(', ')}`);
  if (s.level !== null && !LEVELS.includes(s.level)) invalid('level', `level must be one of ${LEVELS.join(', ')}`);
  if (s.role === 'admin') {
    if (s.scopeGrid || s.scopeDepartment || s.level) invalid('scope', 'an admin has no scope: it sees everything');
    return { ...s, scopeGrid: null, scopeDepartment: null, level: null };
  }
  if (s.role === 'department' && !s.scopeDepartment)
    invalid('scope.department', 'role department needs a department (scope.department)');
  if (!s.scopeGrid && !s.scopeDepartment) invalid('scope', 'this role needs a scope: a grid code or a department');
  if (s.scopeDepartment && !(await departmentExists(q, s.scopeDepartment)))
    invalid('scope.department', `no department "${s.scopeDepartment}"`);
  let level = s.level;
  if (s.scopeGrid) {
    if (!/^\d{6}(\d{3}){0,3}$/.test(s.scopeGrid))
      invalid('scope.grid', 'scope.grid must be a grid code (6, 9, 12 or 15 digits)');
    const v = await publishedVersion(q);
    const r = await q.query<{ level: number }>(`SELECT level FROM grids WHERE version_id = $1 AND code = $2`, [
      v,
      s.scopeGrid,
    ]);
    if (!r.rows[0]) invalid('scope.grid', `no grid ${s.scopeGrid} in the published grid version`);
    const gridLevel = LEVEL_OF_GRID[r.rows[0].level] ?? null;
    if (level === null) level = gridLevel;
    else if (level !== gridLevel)
      invalid('level', `level ${level} does not match grid ${s.scopeGrid}, a ${gridLevel ?? 'base grid'}`);
  } else if (level !== null) invalid('level', 'level needs a grid scope (scope.grid)');
  return { ...s, level };
}

export interface CreateUserInput extends Partial<UserSpec> {
  username: string;
  name?: string;
  role: Role;
  /** Omitted: one is generated and returned once. Either way it must be changed at first sign-in. */
  password?: string;
}

export class Accounts {
  constructor(
    private readonly db: Db,
    private readonly sessions: Sessions | null,
  ) {}

  /**
   * Wrong passwords and codes given to a signed-in session (password change, 2FA disable) count toward the
   * account lock like sign-in failures: a stolen session cannot guess the password or code unthrottled.
   */
  private async failure(username: string, ip: string | null, reason: string): Promise<void> {
    await recordAudit(this.db, { kind: 'login_failed', actor: username, target: username, ip, detail: { reason } });
    await countTowardLock(this.db, username, ip);
  }

  private assertNotLocked(lockedUntil: Date | null): void {
    if (lockedUntil && lockedUntil > new Date())
      throw new DomainError('account_locked', 'account locked after repeated failures: try later or ask an admin', {
        until: lockedUntil.toISOString(),
      });
  }

  /** Create an account. Returns the admin view and the generated password (null when one was given). */
  async create(
    input: CreateUserInput,
    by: { actor: string | null; ip?: string | null },
  ): Promise<{ user: UserAdminRow; password: string | null }> {
    if (typeof input.username !== 'string' || !USERNAME_RE.test(input.username))
      invalid('username', 'username must be 2-64 letters, digits, ".", "_" or "-"');
    if (input.name !== undefined && (typeof input.name !== 'string' || input.name.length > 100))
      invalid('name', 'name must be a string of at most 100 characters');
    const spec = await checkScope(this.db, {
      role: input.role,
      scopeGrid: input.scopeGrid ?? null,
      scopeDepartment: input.scopeDepartment ?? null,
      level: input.level ?? null,
    });
    const generated = input.password === undefined ? generatePassword() : null;
    const password = input.password ?? generated!;
    if (typeof password !== 'string') invalid('password', 'password must be a string');
    assertPasswordPolicy(password, input.username);
    const passwordHash = await hashSecret(password);
    await this.db.tx(async (t) => {
      if ((await t.query(`SELECT 1 FROM users WHERE username = $1`, [input.username])).rows.length)
        throw new DomainError('conflict', `user ${input.username} already exists`, { field: 'username' });
      await insertUser(t, {
        username: input.username,
        name: stripBidi(input.name ?? '').trim() || input.username,
        ...spec,
        passwordHash,
        mustChangePassword: true,
      });
      await recordAudit(t, {
        kind: 'user_created',
        actor: by.actor,
        target: input.username,
        ip: by.ip ?? null,
        detail: {
          role: spec.role,
          scopeGrid: spec.scopeGrid,
          scopeDepartment: spec.scopeDepartment,
          level: spec.level,
        },
      });
    });
    return { user: (await getUserAdmin(this.db, input.username))!, password: generated };
  }

  /**
   * Change an account: name, role/scope/level, disable/enable, unlock, reset password. A role, scope or
   * disable change ends the user's sessions (announced); a reset also does, and returns the new password.
   */
  async update(
    username: string,
    patch: {
      name?: string;
      role?: Role;
      scopeGrid?: string | null;
      scopeDepartment?: string | null;
      level?: Level | null;
      disabled?: boolean;
      unlock?: boolean;
      resetPassword?: boolean;
    },
    by: { actor: string; ip?: string | null },
  ): Promise<{ user: UserAdminRow; password: string | null }> {
    const before = await getUserAdmin(this.db, username);
    if (!before) throw new DomainError('not_found', `no user ${username}`);
    if (
      patch.name !== undefined &&
      (typeof patch.name !== 'string' || !stripBidi(patch.name).trim() || patch.name.length > 100)
    )
      invalid('name', 'name must be a non-empty string of at most 100 characters');
    if (patch.disabled !== undefined && typeof patch.disabled !== 'boolean')
      invalid('disabled', 'disabled must be a boolean');
    if (username === by.actor && (patch.disabled === true || (patch.role && patch.role !== 'admin')))
      throw new DomainError('conflict', 'an admin cannot disable or demote itself', { field: 'role' });
    const scopeTouched =
      patch.role !== undefined ||
      patch.scopeGrid !== undefined ||
      patch.scopeDepartment !== undefined ||
      patch.level !== undefined;
    let spec: UserSpec | null = null;
    if (scopeTouched) {
      const role = patch.role ?? before.role;
      const roleChanged = role !== before.role;
      spec = await checkScope(this.db, {
        role,
        scopeGrid: patch.scopeGrid !== undefined ? patch.scopeGrid : role === 'admin' ? null : before.scopeGrid,
        scopeDepartment:
          patch.scopeDepartment !== undefined
            ? patch.scopeDepartment
            : role === 'admin'
              ? null
              : before.scopeDepartment,
        // A new grid without a level takes the grid's level; an unchanged grid keeps its level.
        level:
          patch.level !== undefined
            ? patch.level
            : patch.scopeGrid !== undefined || roleChanged
              ? null
              : (before.level as Level | null),
      });
    }
    const password = patch.resetPassword ? generatePassword() : null;
    await this.db.tx(async (t) => {
      const fields = {
        ...(patch.name !== undefined ? { name: stripBidi(patch.name).trim() } : {}),
        ...(spec ?? {}),
        ...(patch.disabled !== undefined ? { disabled: patch.disabled } : {}),
      };
      await updateUser(t, username, fields);
      const audit = (kind: string, detail?: Record<string, unknown>) =>
        recordAudit(t, { kind, actor: by.actor, target: username, ip: by.ip ?? null, detail });
      if (
        spec &&
        (spec.role !== before.role ||
          spec.scopeGrid !== before.scopeGrid ||
          spec.scopeDepartment !== before.scopeDepartment ||
          spec.level !== before.level)
      )
        await audit('user_updated', {
          from: {
            role: before.role,
            scopeGrid: before.scopeGrid,
            scopeDepartment: before.scopeDepartment,
            level: before.level,
          },
          to: { role: spec.role, scopeGrid: spec.scopeGrid, scopeDepartment: spec.scopeDepartment, level: spec.level },
        });
      if (patch.name !== undefined && stripBidi(patch.name).trim() !== before.name)
        await audit('user_updated', { name: patch.name.trim() });
      if (patch.disabled === true && !before.disabled) await audit('user_disabled');
      if (patch.disabled === false && before.disabled) await audit('user_enabled');
      if (patch.unlock) {
        await clearLoginFailures(t, username);
        await audit('account_unlocked', { wasLockedUntil: before.lockedUntil });
      }
      if (password) {
        await setPassword(t, username, await hashSecret(password), true);
        await audit('password_reset');
      }
    });
    if (this.sessions) {
      if (patch.disabled === true && !before.disabled) await this.sessions.revokeUser(username, 'disabled');
      else if (password) await this.sessions.revokeUser(username, 'password_changed');
      else if (
        spec &&
        (spec.role !== before.role ||
          spec.scopeGrid !== before.scopeGrid ||
          spec.scopeDepartment !== before.scopeDepartment)
      )
        await this.sessions.revokeUser(username, 'role_changed');
      else this.sessions.forget(username);
    }
    return { user: (await getUserAdmin(this.db, username))!, password };
  }

  /**
   * A user changes its own password (the current one is needed). Other sessions of the user end; the
   * caller's own stays, now without `mustChangePassword`.
   */
  async changeOwnPassword(
    username: string,
    current: string,
    next: string,
    by: { token: string | null; ip?: string | null },
  ): Promise<void> {
    if (typeof current !== 'string' || typeof next !== 'string')
      invalid('password', 'body must be {"currentPassword": string, "newPassword": string}');
    const state = await getLoginState(this.db, username);
    this.assertNotLocked(state?.lockedUntil ?? null);
    if (!state || !(await verifySecret(current, state.passwordHash))) {
      await this.failure(username, by.ip ?? null, 'change_password');
      throw new DomainError('unauthorized', 'the current password is wrong', { field: 'currentPassword' });
    }
    if (current === next)
      throw new DomainError('weak_password', 'the new password must differ from the current one', {
        field: 'newPassword',
        reason: 'unchanged',
      });
    assertPasswordPolicy(next, username);
    await this.db.tx(async (t) => {
      await setPassword(t, username, await hashSecret(next), false);
      await recordAudit(t, { kind: 'password_changed', actor: username, target: username, ip: by.ip ?? null });
    });
    if (this.sessions) {
      await this.sessions.revokeUser(username, 'password_changed', by.token);
      this.sessions.forget(username);
    }
  }

  /**
   * Start TOTP enrolment: a new secret (kept server-side, not yet active), its otpauth:// URI and the URI as
   * a QR code (data: URL of a PNG). Active only after `confirmTotp` with a code from the app.
   */
  async enrolTotp(username: string): Promise<{ secret: string; uri: string; qr: string }> {
    const state = await getLoginState(this.db, username);
    if (!state) throw new DomainError('not_found', `no user ${username}`);
    if (state.totpEnabled) throw new DomainError('conflict', 'two-factor sign-in is already on: disable it first');
    const secret = generateSecret();
    await setTotp(this.db, username, { secret, enabled: false });
    const uri = generateURI({ issuer: 'OneGrid', label: username, secret });
    const qr = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 240 });
    return { secret, uri, qr };
  }

  /** Confirm enrolment with a current code; from now on sign-in asks for a code. */
  async confirmTotp(username: string, code: string, ip: string | null): Promise<void> {
    const state = await getLoginState(this.db, username);
    if (!state?.totpSecret) throw new DomainError('conflict', 'start enrolment first (POST /api/session/totp)');
    if (state.totpEnabled) throw new DomainError('conflict', 'two-factor sign-in is already on');
    const step = await checkTotp(state.totpSecret, String(code ?? '').replace(/\s/g, ''));
    if (step === null) throw new DomainError('unauthorized', 'wrong authenticator code', { reason: 'totp_invalid' });
    await this.db.tx(async (t) => {
      await setTotp(t, username, { secret: state.totpSecret, enabled: true, lastStep: step });
      await recordAudit(t, { kind: 'totp_enrolled', actor: username, target: username, ip });
    });
    this.sessions?.forget(username);
  }

  /**
   * Turn TOTP off: the user itself (with its password and a current code), or an admin for another user
   * (a lost phone). Refused for an admin while REQUIRE_2FA=admin applies to the target.
   */
  async disableTotp(
    username: string,
    by: { actor: string; ip: string | null; password?: string; code?: string; requiredForTarget: boolean },
  ): Promise<void> {
    const state = await getLoginState(this.db, username);
    if (!state) throw new DomainError('not_found', `no user ${username}`);
    if (by.actor === username) {
      if (by.requiredForTarget)
        throw new DomainError('forbidden', 'two-factor sign-in is required for admins here (REQUIRE_2FA=admin)');
      this.assertNotLocked(state.lockedUntil);
      if (!(await verifySecret(by.password ?? '', state.passwordHash))) {
        await this.failure(username, by.ip, 'totp_disable_password');
        throw new DomainError('unauthorized', 'the current password is wrong', { field: 'password' });
      }
      if (state.totpEnabled && state.totpSecret) {
        const step = await checkTotp(state.totpSecret, String(by.code ?? '').replace(/\s/g, ''));
        if (step === null || !(await useTotpStep(this.db, username, step))) {
          await this.failure(username, by.ip, 'totp_disable_code');
          throw new DomainError('unauthorized', 'wrong or already used authenticator code', { reason: 'totp_invalid' });
        }
      }
    }
    await this.db.tx(async (t) => {
      await setTotp(t, username, { secret: null, enabled: false });
      if (state.totpEnabled)
        await recordAudit(t, { kind: 'totp_disabled', actor: by.actor, target: username, ip: by.ip });
    });
    this.sessions?.forget(username);
  }
}
