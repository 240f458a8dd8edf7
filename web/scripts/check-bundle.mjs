// Builds the production bundle (dist/) and fails if anything only the browser tests need is in it.
// The test hook, the spy rejoin and the media statistics live in src/testing/ and are reached only
// behind `__CONCLAVE_TEST_HOOKS__`, which is false in the production build. Each marker below is a
// name or string that survives minification (a property, a message field, a string literal) and
// that only that code uses. So that a stale marker cannot make this check pass forever, every marker
// must be found in the end-to-end build (dist-e2e/, `--mode e2e`), which has the test code.
//
//   node scripts/check-bundle.mjs              build both bundles, then check
//   node scripts/check-bundle.mjs --dist DIR   check an already built production bundle only
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Test-only names and strings, matched case-insensitively (so `mSpyNextJoin` matches too). */
const MARKERS = [
  // window.__conclaveTest, the test hook the browser tests read (src/testing/hook.ts).
  '__conclaveTest',
  // The forward-secrecy test's spy rejoin: a wrong profile and kept media keys (src/testing/spy.ts).
  'spyNextJoin',
  'replaceNextJoinProfile',
  'keepKeys',
  // The hook's other entries.
  'sendKeyGeneration',
  'subscribeSections',
  // Media statistics from getStats() (src/testing/stats.ts). The product reads only what the
  // connection-quality indicator needs of received streams (src/media/quality.ts: inbound-rtp,
  // framesDecoded), never the sending side's counters or the audio ones.
  'outbound-rtp',
  'concealedSamples',
  'framesEncoded',
];

async function files(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await files(path)));
    else if (/\.(js|mjs|html|css|map|json|txt)$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** marker -> the files of `dir` that contain it. */
async function scan(dir) {
  const found = new Map();
  for (const path of await files(dir)) {
    const text = (await readFile(path, 'utf8')).toLowerCase();
    for (const marker of MARKERS) {
      if (!text.includes(marker.toLowerCase())) continue;
      found.set(marker, [...(found.get(marker) ?? []), relative(WEB_DIR, path)]);
    }
  }
  return found;
}

async function viteBuild(mode) {
  await build({ root: WEB_DIR, mode, logLevel: 'warn' });
}

const args = process.argv.slice(2);
const distArg = args.indexOf('--dist');
let dist = join(WEB_DIR, 'dist');
let failed = false;

if (distArg >= 0) {
  const given = args[distArg + 1];
  if (!given) throw new Error('--dist needs a directory');
  dist = resolve(given);
} else {
  await viteBuild('e2e');
  const inTestBuild = await scan(join(WEB_DIR, 'dist-e2e'));
  for (const marker of MARKERS) {
    if (inTestBuild.has(marker)) continue;
    console.error(`check-bundle: marker "${marker}" is not in the e2e build either: remove or update it`);
    failed = true;
  }
  await viteBuild('production');
}

const inProduct = await scan(dist);
for (const [marker, where] of inProduct) {
  console.error(`check-bundle: test-only "${marker}" is in the production bundle: ${where.join(', ')}`);
  failed = true;
}
if (failed) {
  process.exitCode = 1;
} else {
  console.log(`check-bundle: none of ${MARKERS.length} test-only markers in ${relative(WEB_DIR, dist) || '.'}`);
}
