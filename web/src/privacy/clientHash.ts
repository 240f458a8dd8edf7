// The client hash the server reports (GET /api/client-hash): the SHA-256 over the files of the web
// app it serves, computed by the server from those files (docs/security.md, "Verifying the
// client"). Shown on /privacy so that a user can compare it with the hash published for a release.
// The strings live here, not in i18n.ts: they belong to this one section of the page.
import { field, isPlainObject } from '../protocol/validate';

export interface ClientHash {
  clientHash: string;
  files: number;
}

/** The answer of GET /api/client-hash, or null when it is not one. */
export function parseClientHash(body: unknown): ClientHash | null {
  if (!isPlainObject(body)) return null;
  const hash = field(body, 'clientHash');
  const files = field(body, 'files');
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) return null;
  if (typeof files !== 'number' || !Number.isInteger(files) || files < 0) return null;
  return { clientHash: hash, files };
}

export const CLIENT_HASH_TEXT = {
  en: {
    title: 'Verify this app',
    intro:
      'The server says the app it sends to browsers has this client hash (SHA-256 over its {files} files). ' +
      'Compare it with the hash published for this release or with your own build of the same source.',
    caveat:
      'A modified app could show any value here. To check a server independently, run ' +
      '`conclave verify-client https://HOST --expect HASH` from your own network (see docs/security.md).',
    missing: 'The server reports no client hash.',
  },
  de: {
    title: 'Diese App prüfen',
    intro:
      'Laut Server hat die App, die er an Browser sendet, diesen Client-Hash (SHA-256 über ihre {files} Dateien). ' +
      'Vergleichen Sie ihn mit dem für diese Version veröffentlichten Hash oder mit Ihrem eigenen Build desselben Quelltexts.',
    caveat:
      'Eine veränderte App könnte hier jeden Wert anzeigen. Unabhängig prüfen Sie einen Server mit ' +
      '`conclave verify-client https://HOST --expect HASH` aus Ihrem eigenen Netz (siehe docs/security.md).',
    missing: 'Der Server meldet keinen Client-Hash.',
  },
} as const;
