// The verifiable client (docs/security.md, "Verifying the client"), at build time:
//  - index.html loads its scripts and style sheets with Subresource Integrity (sha384 of the
//    bytes written), so index.html's own hash pins everything it loads;
//  - client-manifest.json lists every file the server will serve with its SHA-256, and the
//    client hash: the SHA-256 of the `sha256sum`-style list "<hex>  <path>\n" sorted by path
//    (bytewise), the manifest itself left out. `conclave --client-hash` computes the same over the
//    files it serves; `conclave verify-client` compares a server's files with it. An auditor can
//    recompute it with coreutils alone:
//      cd dist && find . -type f ! -path ./client-manifest.json | sed 's|^\./||' | LC_ALL=C sort \
//        | xargs sha256sum | sha256sum
// Vite has no SRI of its own; this plugin works on the files after they are written, so what it
// hashes is exactly what is served.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Plugin } from 'vite';

export const MANIFEST_NAME = 'client-manifest.json';

export interface ManifestFile {
  path: string;
  sha256: string;
}

export interface ClientManifest {
  format: 'conclave-client-manifest/1';
  files: ManifestFile[];
  clientHash: string;
}

// What src/http/static_files.cpp serves: segments of these characters, none starting with '.'.
const SERVABLE_SEGMENT = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$/;

function byBytes(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (!SERVABLE_SEGMENT.test(entry.name)) {
      throw new Error(`${path}: the server cannot serve this name (letters, digits, . _ ~ - only, no leading dot)`);
    }
    if (entry.isDirectory()) out.push(...(await listFiles(root, path)));
    else if (entry.isFile()) out.push(path);
    else throw new Error(`${path}: neither a file nor a directory`);
  }
  return out;
}

/** The client hash of a manifest's files (sorted here, whatever their order). */
export function clientHash(files: readonly ManifestFile[]): string {
  const lines = [...files]
    .sort((a, b) => byBytes(a.path, b.path))
    .map((f) => `${f.sha256}  ${f.path}\n`)
    .join('');
  return createHash('sha256').update(lines).digest('hex');
}

/** The manifest of the built client in `outDir` (every file but the manifest). */
export async function buildManifest(outDir: string): Promise<ClientManifest> {
  const paths = (await listFiles(outDir)).filter((p) => p !== MANIFEST_NAME).sort(byBytes);
  const files: ManifestFile[] = [];
  for (const path of paths) {
    files.push({
      path,
      sha256: createHash('sha256')
        .update(await readFile(join(outDir, path)))
        .digest('hex'),
    });
  }
  return { format: 'conclave-client-manifest/1', files, clientHash: clientHash(files) };
}

// <script src> and <link rel=stylesheet|modulepreload href> of index.html, same-origin only.
const TAG = /<(script|link)\b[^>]*>/g;
const ATTR = (name: string) => new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`);

/** index.html with integrity="sha384-..." on every script and style sheet it loads from `outDir`. */
export async function addIntegrity(html: string, outDir: string): Promise<string> {
  const replacements: Array<[string, string]> = [];
  for (const match of html.matchAll(TAG)) {
    const tag = match[0];
    const kind = match[1];
    if (ATTR('integrity').test(tag)) continue;
    let url: string | undefined;
    if (kind === 'script') {
      url = ATTR('src').exec(tag)?.[1];
      // An inline script would need 'unsafe-inline', which the server's CSP refuses.
      if (url === undefined) throw new Error('index.html has an inline script');
    } else {
      const rel = ATTR('rel').exec(tag)?.[1];
      if (rel !== 'stylesheet' && rel !== 'modulepreload' && rel !== 'preload') continue;
      url = ATTR('href').exec(tag)?.[1];
    }
    if (url === undefined) continue;
    if (!url.startsWith('/') || url.startsWith('//')) throw new Error(`index.html loads ${url} from elsewhere`);
    const bytes = await readFile(join(outDir, url.slice(1)));
    const integrity = `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
    const closing = tag.endsWith('/>') ? tag.length - 2 : tag.length - 1;
    replacements.push([tag, `${tag.slice(0, closing).trimEnd()} integrity="${integrity}"${tag.slice(closing)}`]);
  }
  let out = html;
  for (const [from, to] of replacements) out = out.replace(from, to);
  return out;
}

export function clientIntegrity(): Plugin {
  let outDir = '';
  let log: (message: string) => void = () => {};
  return {
    name: 'conclave-client-integrity',
    apply: 'build',
    enforce: 'post',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
      log = (message) => config.logger.info(message);
    },
    writeBundle: {
      sequential: true,
      order: 'post',
      async handler() {
        const index = join(outDir, 'index.html');
        await writeFile(index, await addIntegrity(await readFile(index, 'utf8'), outDir));
        const manifest = await buildManifest(outDir);
        await writeFile(join(outDir, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
        log(`client hash ${manifest.clientHash} (${manifest.files.length} files, ${MANIFEST_NAME})`);
      },
    },
  };
}
