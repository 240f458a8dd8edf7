// Builds the production client twice from copies of this source tree in two temporary folders of
// different names (and in different time zones) and fails unless both give the same bytes: a
// published client hash is only checkable if anyone can rebuild it (docs/security.md, "Verifying
// the client"). Timestamps, absolute paths, random IDs or an unstable file order would all show up
// here. node_modules is shared (a symbolic link), so both builds use the same dependencies, as
// `npm ci` from the same package-lock.json gives.
//
//   node scripts/check-reproducible.mjs
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SKIP = new Set(['node_modules', 'dist', 'dist-e2e', 'test-results', '.vite']);

async function files(dir, prefix = '') {
  const out = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await files(dir, path)));
    else out.push(path);
  }
  return out.sort();
}

async function buildIn(parent, name, timeZone) {
  const root = join(parent, name, 'web');
  await cp(WEB_DIR, root, { recursive: true, filter: (src) => !SKIP.has(src.slice(WEB_DIR.length + 1).split('/')[0]) });
  await symlink(join(WEB_DIR, 'node_modules'), join(root, 'node_modules'), 'dir');
  const result = spawnSync(process.execPath, [join(WEB_DIR, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], {
    cwd: root,
    env: { ...process.env, TZ: timeZone },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`the build in ${root} failed:\n${result.stdout}\n${result.stderr}`);
  return join(root, 'dist');
}

const parent = await mkdtemp(join(tmpdir(), 'conclave-repro-'));
try {
  const first = await buildIn(parent, 'a', 'UTC');
  const second = await buildIn(parent, 'second-checkout', 'Pacific/Chatham');
  const [a, b] = [await files(first), await files(second)];
  const problems = [];
  for (const path of new Set([...a, ...b])) {
    if (!a.includes(path) || !b.includes(path)) {
      problems.push(`${path}: only in the ${a.includes(path) ? 'first' : 'second'} build`);
    } else if (!(await readFile(join(first, path))).equals(await readFile(join(second, path)))) {
      problems.push(`${path}: differs`);
    }
  }
  if (problems.length > 0) {
    console.error(`check-reproducible: two builds of the same source differ:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    const manifest = JSON.parse(await readFile(join(first, 'client-manifest.json'), 'utf8'));
    console.log(`check-reproducible: ${a.length} files identical; client hash ${manifest.clientHash}`);
  }
} finally {
  await rm(parent, { recursive: true, force: true });
}
