/** Users of the field tests, written into a fresh data directory before the platform first starts. */
import { openPglite } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { insertUser, type Role } from '../../ingest/store/users.ts';
import { hashSecret } from '../../ingest/auth/secrets.ts';
import { seededDataDir } from '../harness/platform.ts';

export const FIELD_PW = 'field-test-Pw-93!x';

/**
 * A new DATA_DIR holding these users (password FIELD_PW): a copy of the run's seeded template
 * (test/harness/platform.ts seededDataDir) with them added, or, without a template, a fresh directory the
 * platform seeds the rest of on first start.
 */
export async function dataDirWithUsers(
  users: [username: string, role: Role, scopeGrid: string | null][],
): Promise<string> {
  const dataDir = await seededDataDir('onegrid-field-');
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
