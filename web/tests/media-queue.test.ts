import { describe, expect, it } from 'vitest';
import { QueueClosedError, Renegotiator, SerialQueue, type NegotiationRequest } from '../src/media/queue';
import { deferred, settle } from './fake-webrtc';

describe('SerialQueue', () => {
  it('runs tasks one at a time in order, even when an early one is slow', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const slow = deferred<void>();
    const a = queue.run(async () => {
      log.push('a start');
      await slow.promise;
      log.push('a end');
      return 'a';
    });
    const b = queue.run(() => {
      log.push('b');
      return Promise.resolve('b');
    });
    await settle();
    expect(log).toEqual(['a start']);
    expect(queue.pending).toBe(2);
    slow.resolve();
    await expect(a).resolves.toBe('a');
    await expect(b).resolves.toBe('b');
    expect(log).toEqual(['a start', 'a end', 'b']);
    await settle();
    expect(queue.pending).toBe(0);
  });

  it('goes on after a task fails', async () => {
    const queue = new SerialQueue();
    const failing = queue.run(() => Promise.reject(new Error('boom')));
    const next = queue.run(() => Promise.resolve(2));
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe(2);
  });

  it('rejects tasks that had not started when it was closed, and new ones', async () => {
    const queue = new SerialQueue();
    const gate = deferred<void>();
    const log: string[] = [];
    const running = queue.run(async () => {
      await gate.promise;
      log.push('first');
    });
    const waiting = queue.run(() => {
      log.push('second');
      return Promise.resolve();
    });
    await settle();
    queue.close();
    gate.resolve();
    await expect(running).resolves.toBeUndefined();
    await expect(waiting).rejects.toBeInstanceOf(QueueClosedError);
    await expect(queue.run(() => Promise.resolve())).rejects.toBeInstanceOf(QueueClosedError);
    expect(log).toEqual(['first']);
  });
});

describe('Renegotiator', () => {
  function setup() {
    const runs: NegotiationRequest[] = [];
    const gates: ReturnType<typeof deferred<void>>[] = [];
    const errors: unknown[] = [];
    const renegotiator = new Renegotiator(
      async (request) => {
        runs.push(request);
        const gate = deferred<void>();
        gates.push(gate);
        await gate.promise;
      },
      (error) => errors.push(error),
    );
    return { renegotiator, runs, gates, errors };
  }

  it('coalesces requests made while a negotiation runs into exactly one more', async () => {
    const { renegotiator, runs, gates } = setup();
    const first = renegotiator.request();
    await settle();
    expect(runs).toHaveLength(1);
    const second = renegotiator.request();
    const third = renegotiator.request();
    const fourth = renegotiator.request();
    await settle();
    expect(runs).toHaveLength(1);
    expect(renegotiator.busy).toBe(true);
    gates[0]?.resolve();
    await first;
    await settle();
    expect(runs).toHaveLength(2);
    gates[1]?.resolve();
    await Promise.all([second, third, fourth]);
    expect(runs).toHaveLength(2);
    expect(renegotiator.busy).toBe(false);
  });

  it('merges requests made before the run starts into one', async () => {
    const { renegotiator, runs, gates } = setup();
    const a = renegotiator.request();
    const b = renegotiator.request();
    await settle();
    gates[0]?.resolve();
    await Promise.all([a, b]);
    expect(runs).toEqual([{ iceRestart: false }]);
  });

  it('keeps an ICE restart asked for by any of the merged requests', async () => {
    const { renegotiator, runs, gates } = setup();
    const a = renegotiator.request();
    await settle();
    const b = renegotiator.request(true);
    const c = renegotiator.request(false);
    gates[0]?.resolve();
    await a;
    await settle();
    gates[1]?.resolve();
    await Promise.all([b, c]);
    expect(runs).toEqual([{ iceRestart: false }, { iceRestart: true }]);
  });

  it('reports a failed negotiation and still runs the next one', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const renegotiator = new Renegotiator(
      () => {
        calls += 1;
        return calls === 1 ? Promise.reject(new Error('refused')) : Promise.resolve();
      },
      (error) => errors.push(error),
    );
    await renegotiator.request();
    await renegotiator.request();
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
  });

  it('does nothing after close, and its promises still resolve', async () => {
    const { renegotiator, runs, gates, errors } = setup();
    const a = renegotiator.request();
    await settle();
    const b = renegotiator.request();
    renegotiator.close();
    gates[0]?.resolve();
    await expect(a).resolves.toBeUndefined();
    await expect(b).resolves.toBeUndefined();
    await expect(renegotiator.request()).resolves.toBeUndefined();
    expect(runs).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});
