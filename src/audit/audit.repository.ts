// Audit log queries: append an entry, and page through entries by actor, action and date.
import type { Scope } from '../shared/scope';
import { scopeFilter } from '../shared/scope';
import { AuditEntryModel, type AuditEntryRecord } from './audit.model';

export type NewAuditEntry = Omit<AuditEntryRecord, '_id'>;

export async function insertAuditEntry(entry: NewAuditEntry): Promise<void> {
  await AuditEntryModel.create(entry);
}

export interface AuditSearch {
  actor?: string;
  action?: string;
  from?: Date;
  /** Exclusive upper bound. */
  to?: Date;
  page: number;
  pageSize: number;
}

/** One page of entries, newest first, restricted to the reader's scope (entries without a unit are global). */
export async function findAuditEntries(scope: Scope, search: AuditSearch): Promise<{ entries: AuditEntryRecord[]; total: number }> {
  const filter: Record<string, unknown> = {};
  if (scope.kind !== 'all') filter.$or = [scopeFilter(scope, 'unitPath'), { unitPath: { $size: 0 } }];
  if (search.actor) filter.actorUsername = search.actor;
  if (search.action) filter.action = search.action;
  if (search.from || search.to) {
    filter.at = { ...(search.from ? { $gte: search.from } : {}), ...(search.to ? { $lt: search.to } : {}) };
  }
  const [entries, total] = await Promise.all([
    AuditEntryModel.find(filter)
      .sort({ at: -1, _id: -1 })
      .skip((search.page - 1) * search.pageSize)
      .limit(search.pageSize)
      .lean<AuditEntryRecord[]>(),
    AuditEntryModel.countDocuments(filter),
  ]);
  return { entries, total };
}

export async function distinctAuditActions(): Promise<string[]> {
  const actions = await AuditEntryModel.distinct('action');
  return actions.filter((action): action is string => typeof action === 'string').sort();
}
