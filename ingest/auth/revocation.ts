/**
 * Session revocation, announced in process: sign-out, expiry, password change, account disable and an
 * admin's revoke all end a session; whoever holds a long-lived connection for it (the `/live` hub, the video
 * relay's viewers) listens here and closes that connection within a second (GB/T 22239-2019 8.1.4.1: a
 * session ends everywhere when it is ended).
 */
import { EventEmitter } from 'node:events';

export type RevocationReason = 'logout' | 'expired' | 'password_changed' | 'disabled' | 'revoked' | 'role_changed';

export interface Revocation {
  /** The user whose sessions end. */
  username: string;
  /** SHA-256 hex of the one session token that ends; absent = every session of the user. */
  tokenHash?: string;
  reason: RevocationReason;
}

const emitter = new EventEmitter();
emitter.setMaxListeners(0);

export function announceRevocation(r: Revocation): void {
  emitter.emit('revoked', r);
}

/** Listen for revocations; returns the function that stops listening. */
export function onRevocation(listener: (r: Revocation) => void): () => void {
  emitter.on('revoked', listener);
  return () => emitter.off('revoked', listener);
}
