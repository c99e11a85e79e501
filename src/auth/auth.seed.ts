// Demo accounts (DESIGN §4), created once with the demo password; re-seeding never touches an existing account.
import type { Config } from '../config';
import type { Logger } from '../shared/logger';
import { findUserByUsername, insertUserIfMissing } from './auth.repository';
import type { Role } from './permissions';
import { hashPassword } from './password';

export interface DemoUser {
  username: string;
  displayName: string;
  role: Role;
  scope: string[];
}

export const DEMO_USERS: readonly DemoUser[] = [
  { username: 'admin', displayName: 'Quản trị hệ thống', role: 'admin', scope: [] },
  { username: 'official.hanoi', displayName: 'Cán bộ Văn phòng UBND Thành phố Hà Nội', role: 'official', scope: ['01'] },
  { username: 'official.odien', displayName: 'Cán bộ UBND xã Ô Diên', role: 'official', scope: ['09817'] },
  { username: 'hotline', displayName: 'Tổng đài viên đường dây nóng', role: 'hotline', scope: ['01'] },
  { username: 'viewer.hanoi', displayName: 'Người xem số liệu Hà Nội', role: 'viewer', scope: ['01'] },
];

/** Creates the missing demo accounts; returns how many were created. */
export async function seedDemoUsers(deps: { config: Config; logger: Logger }): Promise<number> {
  let created = 0;
  for (const user of DEMO_USERS) {
    if (await findUserByUsername(user.username)) continue;
    const passwordHash = await hashPassword(deps.config.demo.password);
    if (await insertUserIfMissing({ ...user, passwordHash, active: true })) created += 1;
  }
  deps.logger.info({ created }, 'demo accounts ready');
  return created;
}
