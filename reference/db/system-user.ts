import fs from 'node:fs/promises';
import { EmbeddedPostgresError } from './errors.js';

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/** Users tried, in order, when none is named. */
const DEFAULT_USERS = ['postgres', 'nobody'];

/**
 * Finds an unprivileged account in /etc/passwd to run PostgreSQL as, which
 * refuses to run as root.
 */
export async function findSystemUser(name?: string): Promise<SystemUser> {
  const passwd = await fs.readFile('/etc/passwd', 'utf8').catch(() => '');
  const users = new Map<string, SystemUser>();
  for (const line of passwd.split('\n')) {
    const [userName, , uid, gid] = line.split(':');
    if (userName && uid && gid) users.set(userName, { name: userName, uid: Number(uid), gid: Number(gid) });
  }
  for (const candidate of name ? [name] : DEFAULT_USERS) {
    const user = users.get(candidate);
    if (user && user.uid !== 0) return user;
  }
  throw new EmbeddedPostgresError(
    `running as root, and no unprivileged user (${name ?? DEFAULT_USERS.join(' or ')}) to run PostgreSQL as; create one or set DATABASE_URL`,
  );
}
