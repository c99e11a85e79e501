// Logical sessions seen on commands (`lsid`), for $listLocalSessions; ended by endSessions or after 30 idle minutes.
import type { Document } from 'bson';
import { encodeValue } from './keys';

interface SessionEntry {
  id: unknown;
  lastUse: Date;
}

const TIMEOUT_MS = 30 * 60 * 1000;
const MAX_SESSIONS = 100_000;

export class SessionRegistry {
  private readonly sessions = new Map<string, SessionEntry>();

  /** Records use of the session named by a command's lsid, if any. */
  touch(lsid: unknown): void {
    if (lsid === null || typeof lsid !== 'object' || !('id' in lsid)) return;
    const id = (lsid as Document).id;
    const key = encodeValue(id);
    this.sessions.delete(key);
    this.sessions.set(key, { id, lastUse: new Date() });
    if (this.sessions.size > MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
  }

  end(lsids: unknown): void {
    if (!Array.isArray(lsids)) return;
    for (const lsid of lsids) {
      if (lsid !== null && typeof lsid === 'object' && 'id' in lsid) this.sessions.delete(encodeValue((lsid as Document).id));
    }
  }

  /** Active sessions as $listLocalSessions shows them. */
  list(now = Date.now()): Document[] {
    const out: Document[] = [];
    for (const [key, s] of this.sessions) {
      if (now - s.lastUse.getTime() > TIMEOUT_MS) {
        this.sessions.delete(key);
        continue;
      }
      out.push({ _id: { id: s.id, uid: Buffer.alloc(32) }, lastUse: s.lastUse });
    }
    return out;
  }
}
