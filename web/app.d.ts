import type { SessionUser } from '../ingest/auth/sessions.ts';

declare global {
  namespace App {
    interface Locals {
      user: SessionUser | null;
      token: string | null;
    }
    interface Error {
      message: string;
      code?: string;
    }
  }
}

export {};
