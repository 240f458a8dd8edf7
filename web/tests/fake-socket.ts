import type { SocketFactory, SocketLike } from '../src/protocol/client';
import { validateClientMessage } from '../src/protocol/validate';

/** An in-memory WebSocket stand-in: records what the client sends, lets the test play the server. */
export class FakeSocket implements SocketLike {
  readonly url: string;
  readonly sent: string[] = [];
  closed: { code: number | undefined; reason: string | undefined } | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  /** With `checkSent`, a message the server would refuse (tests/contract/protocol) fails the test. */
  constructor(
    url: string,
    private readonly checkSent = true,
  ) {
    this.url = url;
  }

  send(data: string): void {
    if (this.closed) throw new Error('send on a closed socket');
    const problem = this.checkSent ? validateClientMessage(JSON.parse(data)) : null;
    if (problem !== null) throw new Error(`the server would refuse this message: ${problem}`);
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
  }

  /** Messages the client sent, parsed. */
  get sentMessages(): Record<string, unknown>[] {
    return this.sent.map((text) => JSON.parse(text) as Record<string, unknown>);
  }

  lastSent(): Record<string, unknown> {
    const last = this.sentMessages.at(-1);
    if (!last) throw new Error('nothing sent');
    return last;
  }

  open(): void {
    this.onopen?.({});
  }

  receive(message: unknown): void {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
  }

  serverClose(code: number, reason = ''): void {
    this.onclose?.({ code, reason });
  }
}

/** Sockets that check every message the client sends, unless `checkSent` is false (raw frames). */
export function fakeFactory(checkSent = true): { factory: SocketFactory; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  return {
    sockets,
    factory: (url) => {
      const socket = new FakeSocket(url, checkSent);
      sockets.push(socket);
      return socket;
    },
  };
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

export const ROOM_ID = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
export const SELF_ID = 'selfselfselfselfselfse';
export const ALICE_ID = 'aliceAliceAliceAlice_-';
export const BOB_ID = 'bobBobBobBobBobBobBob0';
