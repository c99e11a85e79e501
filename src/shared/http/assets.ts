// Static files: served from public/ with long cache lifetimes, linked with a content hash so a change busts caches.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import { publicDir } from '../paths';

const hashes = new Map<string, string>();

/** URL of a file in public/, e.g. asset('css/app.css') → /static/css/app.css?v=1a2b3c4d. */
export function asset(file: string): string {
  let hash = hashes.get(file);
  if (!hash) {
    try {
      hash = createHash('sha256').update(readFileSync(path.join(publicDir, file))).digest('hex').slice(0, 10);
    } catch {
      hash = 'missing';
    }
    hashes.set(file, hash);
  }
  return `/static/${file}?v=${hash}`;
}

export function staticFiles(): RequestHandler {
  return express.static(publicDir, {
    maxAge: '30d',
    immutable: true,
    index: false,
    fallthrough: true,
  });
}
