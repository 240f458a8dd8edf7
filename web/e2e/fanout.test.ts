// Issue 13, one meeting's fan-out across media workers (docs/fanout.md): the server runs two
// workers with fanout_threshold 1, so once the meeting's worker carries more than one subscribed
// stream, the next participant's receiving connection is placed on the other worker (whose port
// its subscribe offer names) and the meeting's worker hands that participant's packets over in
// memory. Three Chromium pages all decode each other's camera and hear each other, end-to-end
// encrypted (every frame SFrame-decrypted by the page); the server's log shows a subscribe
// transport on worker 1 and its /metrics the records that crossed, none refused.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contexts, joinAs, launchBrowser, selfId, startMeeting, waitForRoster, waitUntil } from './browser';
import { cryptoStats, findTrack, pageStats, selectedCandidates, type CryptoStats, type TrackStats } from './hook';
import { freePort, serverHasMedia, serverHelp, startServer, stopAndRemove, type RunningServer } from './server';

const NAMES = ['Alice', 'Bob', 'Carol'] as const;

/** The samples of /metrics, by their whole name with labels ("name{worker="0"}"). */
async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+]+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/**
 * Waits until every page decodes the others' cameras and their microphones' audio, and its frame
 * transforms decrypted what arrived (30 video frames and 100 audio frames from each); returns
 * the figures.
 */
async function everyoneDecodes(pages: Page[], ids: string[]): Promise<string[]> {
  const decodes = (m: { received: TrackStats[]; crypto: CryptoStats }, from: string[]): boolean =>
    from.every((id) => {
      const video = findTrack(m.received, id, 'camera');
      const audio = findTrack(m.received, id, 'microphone');
      const cv = findTrack(m.crypto.tracks, id, 'camera');
      const ca = findTrack(m.crypto.tracks, id, 'microphone');
      return (
        (video?.framesDecoded ?? 0) > 30 &&
        (audio?.packetsReceived ?? 0) > 100 &&
        (cv?.ok ?? 0) > 30 &&
        (ca?.ok ?? 0) > 100 &&
        cv?.state === 'ok'
      );
    });
  const figures: string[] = [];
  for (const [i, p] of pages.entries()) {
    const from = ids.filter((_, k) => k !== i);
    const now = await waitUntil(
      `${NAMES[i]} decodes the others`,
      async () => ({ received: (await pageStats(p)).received, crypto: await cryptoStats(p) }),
      (m) => decodes(m, from),
    );
    expect(now.crypto.mode).toBe('script');
    for (const id of from) {
      const v = findTrack(now.received, id, 'camera');
      const cv = findTrack(now.crypto.tracks, id, 'camera');
      figures.push(
        `${NAMES[i]} <- ${NAMES[ids.indexOf(id)]}: framesDecoded ${v?.framesDecoded}, ` +
          `video decrypted ${cv?.ok} failed ${cv?.failed}`,
      );
    }
  }
  return figures;
}

describe.skipIf(!serverHasMedia() || !serverHelp().includes('--fanout-threshold'))(
  'one meeting across two media workers',
  () => {
    let browser: Browser;
    let server: RunningServer;
    let metricsPort: number;
    const contexts = new Contexts();

    beforeAll(async () => {
      browser = await launchBrowser();
      metricsPort = await freePort();
      server = await startServer({
        // Info: the server says where it places subscribe transports.
        logLevel: 'info',
        extraArgs: ['--media-workers', '2', '--fanout-threshold', '1', '--metrics-listen', `127.0.0.1:${metricsPort}`],
      });
    });

    afterAll(async () => {
      await contexts.closeAll();
      await browser?.close();
      await stopAndRemove(server);
    });

    it('three people decode each other, end-to-end encrypted, with subscribers on both workers', async () => {
      const pages: Page[] = [];
      for (let i = 0; i < NAMES.length; ++i) pages.push(await contexts.page(browser));
      const link = await startMeeting(pages[0]!, server.origin);
      // One after the other: each newcomer's subscribe transport is placed with the counts the
      // earlier ones left.
      for (const [i, p] of pages.entries()) await joinAs(p, NAMES[i]!, { link, preview: true });
      for (const [i, p] of pages.entries())
        await waitForRoster(
          p,
          NAMES.map((n, k) => (k === i ? `${n} (you)` : n)),
        );
      const ids = await Promise.all(pages.map((p) => selfId(p)));

      const figures = await everyoneDecodes(pages, ids);
      // Where the server placed the subscribe transports: at least one on the other worker, and
      // the browsers' selected pairs say so. Publish connections all go to the meeting's worker.
      const log = server.output();
      const placed = log.split('\n').filter((line) => line.includes('a subscribe transport on worker'));
      expect(placed.some((line) => line.includes('on worker 1 (home worker 0)'))).toBe(true);
      const workerPort = (index: number): number =>
        Number(new RegExp(`media worker ${index} on UDP port (\\d+)`).exec(log)?.[1] ?? -1);
      const ports = [workerPort(0), workerPort(1)];
      const pairs = await Promise.all(pages.map((p) => selectedCandidates(p)));
      expect(pairs.map((pair) => pair.publish?.remotePort)).toEqual([ports[0], ports[0], ports[0]]);
      const subscribePorts = pairs.map((pair) => pair.subscribe?.remotePort);
      expect(subscribePorts.filter((port) => port === ports[1]).length).toBe(placed.length);
      expect(subscribePorts.filter((port) => port === ports[0]).length).toBe(NAMES.length - placed.length);
      // What crossed between the workers: records written and sent on, none refused or stale.
      const m = await scrape(metricsPort);
      const sample = (name: string, worker: number, direction: string): number =>
        m.get(`${name}{worker="${worker}",direction="${direction}"}`) ?? -1;
      const written = sample('conclave_worker_fanout_records_total', 0, 'to_transport');
      const sent = sample('conclave_worker_fanout_sent_total', 1, 'to_transport');
      const back = sample('conclave_worker_fanout_records_total', 1, 'to_home');
      // The subscriber on worker 1 decoded 30 frames and got 100 audio packets from each of two
      // others: at least 260 records crossed.
      expect(written).toBeGreaterThan(260);
      expect(sent).toBeGreaterThan(260);
      expect(back).toBeGreaterThan(10);
      expect(sample('conclave_worker_fanout_refused_total', 0, 'to_transport')).toBe(0);
      const streams = [0, 1].map((w) => m.get(`conclave_worker_subscribed_streams{worker="${w}"}`));
      console.log(
        `fan-out: ${placed.length} subscribe transport(s) placed away from home (subscribe ports ` +
          `${JSON.stringify(subscribePorts)}, workers ${JSON.stringify(ports)}); streams per worker ${JSON.stringify(streams)}; ` +
          `records to worker 1 ${written}, sent there ${sent}, RTCP back ${back}\n${figures.join('\n')}`,
      );

      // The participant subscribed through worker 1 leaves: that worker's transport goes with
      // the streams counted there. Rejoining, a new participant is placed there again (the
      // meeting's worker still carries the others' streams) and everyone decodes everyone.
      const away = subscribePorts.indexOf(ports[1]);
      const leaver = pages[away]!;
      await leaver.getByTestId('leave-button').click();
      await leaver.getByTestId('left-message').waitFor();
      await waitUntil(
        'the streams of the one who left no longer counted',
        () => scrape(metricsPort),
        (after) => after.get('conclave_worker_subscribed_streams{worker="1"}') === 0,
      );
      await leaver.getByTestId('rejoin-button').click();
      await waitForRoster(
        leaver,
        NAMES.map((n, k) => (k === away ? `${n} (you)` : n)),
      );
      ids[away] = await selfId(leaver);
      const again = await everyoneDecodes(pages, ids);
      const rejoined = await selectedCandidates(leaver);
      expect(rejoined.subscribe?.remotePort).toBe(ports[1]);
      const later = await scrape(metricsPort);
      expect(later.get('conclave_worker_fanout_sent_total{worker="1",direction="to_transport"}') ?? 0).toBeGreaterThan(
        sent + 260,
      );
      console.log(`after ${NAMES[away]} left and rejoined through worker 1:\n${again.join('\n')}`);
    });
  },
);
