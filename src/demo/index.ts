// Demo mode: seeds units, accounts and synthetic feedback (idempotent) and describes the demo accounts.
import type { Config } from '../config';
import { seedDemoUsers } from '../auth';
import { seedDemoFeedback } from '../feedback';
import { seedDemoUnits } from '../units';
import type { Logger } from '../shared/logger';

export interface DemoDeps {
  config: Config;
  logger: Logger;
}

/** Seeds every component's demo data; running it twice changes nothing. */
export async function seedDemo(deps: DemoDeps): Promise<void> {
  await seedDemoUnits(deps);
  await seedDemoUsers(deps);
  await seedDemoFeedback(deps);
  deps.logger.info('demo data ready');
}

export function describeDemoAccounts(config: Config): string[] {
  return [
    `Demo accounts (password "${config.demo.password}"): admin, official.hanoi, official.odien, hotline, viewer.hanoi`,
  ];
}
