// recordAudit(): the one way components write the audit log; the admin page's search lives here too.
import { deriveKey, keyedHash } from '../auth/keys';
import type { Scope } from '../shared/scope';
import type { AuditDetailValue, AuditEntryRecord } from './audit.model';
import { findAuditEntries, insertAuditEntry, distinctAuditActions, type AuditSearch } from './audit.repository';

export interface AuditActorRef {
  id: string;
  username: string;
}

export interface AuditTarget {
  /** e.g. 'user', 'api_token', 'counter', 'complaint'. */
  type: string;
  id?: string | null;
  /** Unit codes from the root to the target's unit, when the target belongs to a unit. */
  unitPath?: readonly string[];
}

/** Identifiers, codes, counts and flags only: never names, phone numbers, e-mails, comments or secrets. */
export type AuditDetails = Record<string, AuditDetailValue>;

export interface AuditContext {
  /** The client's address; stored only as a keyed hash. */
  ip?: string;
}

let ipKey: Buffer | null = null;

/** Sets the key used to hash client addresses (called once by createApp through the auth middleware). */
export function configureAudit(options: { secret: string }): void {
  ipKey = deriveKey(options.secret, 'audit-ip');
}

/** Appends one entry to the audit log; awaits the write so a failed audit fails the action. */
export async function recordAudit(
  actor: AuditActorRef | null,
  action: string,
  target: AuditTarget | null,
  details: AuditDetails = {},
  context: AuditContext = {},
): Promise<void> {
  await insertAuditEntry({
    at: new Date(),
    actorId: actor?.id ?? null,
    actorUsername: actor?.username ?? null,
    action,
    targetType: target?.type ?? null,
    targetId: target?.id ?? null,
    unitPath: target?.unitPath ? [...target.unitPath] : [],
    details,
    ipHash: context.ip && ipKey ? keyedHash(ipKey, context.ip) : null,
  });
}

export interface AuditPage {
  entries: AuditEntryRecord[];
  total: number;
  page: number;
  pageCount: number;
  actions: string[];
}

/** A page of the audit log for the admin page, newest first. */
export async function searchAudit(scope: Scope, search: AuditSearch): Promise<AuditPage> {
  const [{ entries, total }, actions] = await Promise.all([findAuditEntries(scope, search), distinctAuditActions()]);
  return { entries, total, page: search.page, pageCount: Math.max(1, Math.ceil(total / search.pageSize)), actions };
}
