// Sub-keys derived from the one application secret (HKDF-SHA256), one per purpose, so no two uses share a key.
import { createHash, createHmac, hkdfSync } from 'node:crypto';

/** A 32-byte key for one purpose (e.g. 'session-cookie', 'audit-ip'), derived from APP_SECRET. */
export function deriveKey(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'thuoc-do', purpose, 32));
}

/** Keyed hash of a value that must not be stored in clear (an IP address, a device id). */
export function keyedHash(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url').slice(0, 32);
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
