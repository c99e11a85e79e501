// QR tokens: unguessable (144 random bits), URL-safe, and the absolute form URL built from them.
import { randomBytes } from 'node:crypto';

export const QR_TOKEN_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;

/** A fresh counter token: 18 random bytes in base64url (24 characters). */
export function newQrToken(): string {
  return randomBytes(18).toString('base64url');
}

/** The citizen form's absolute URL for a token, e.g. https://thuocdo.example/f/AbC… */
export function formUrlFor(publicBaseUrl: string, qrToken: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/f/${encodeURIComponent(qrToken)}`;
}
