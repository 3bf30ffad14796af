/** Users of the field tests, written into a fresh data directory before the platform first starts. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openPglite } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { insertUser, type Role } from '../../ingest/store/users.ts';
import { hashSecret } from '../../ingest/auth/secrets.ts';

export const FIELD_PW = 'field-test-Pw-93!x';

/** A new DATA_DIR holding these users (password FIELD_PW); the platform seeds the rest on first start. */
export async function dataDirWithUsers(
  users: [username: string, role: Role, scopeGrid: string | null][],
): Promise<string> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'onegrid-field-'));
  const db = await openPglite(dataDir);
  await migrate(db);
  const hash = await hashSecret(FIELD_PW);
  for (const [username, role, scopeGrid] of users)
    await insertUser(db, {
      username,
      name: `测试 ${username}`,
      role,
      passwordHash: hash,
      scopeGrid,
      scopeDepartment: null,
      level: null,
    });
  await db.close();
  return dataDir;
}
