// Serializes the negotiations of one RTCPeerConnection. Offers and answers on one connection must
// never overlap (glare, or a setRemoteDescription racing a createOffer), so every step that
// touches the signaling state runs as one task of a queue, strictly one after the other.

export class QueueClosedError extends Error {
  constructor() {
    super('queue closed');
    this.name = 'QueueClosedError';
  }
}

/** Runs async tasks one at a time, in the order they were added. */
export class SerialQueue {
  private mTail: Promise<unknown> = Promise.resolve();
  private mClosed = false;
  private mPending = 0;

  /** Tasks added but not finished yet (including the running one). */
  get pending(): number {
    return this.mPending;
  }

  get closed(): boolean {
    return this.mClosed;
  }

  /** Adds `task`; it starts when every earlier task has settled. A closed queue rejects it. */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.mClosed) return Promise.reject(new QueueClosedError());
    this.mPending += 1;
    const result = this.mTail.then(() => {
      if (this.mClosed) throw new QueueClosedError();
      return task();
    });
    const done = (): void => {
      this.mPending -= 1;
    };
    // The chain continues whether the task succeeded or not.
    this.mTail = result.then(done, done);
    return result;
  }

  /** Tasks not started yet are rejected with QueueClosedError; a running one finishes. */
  close(): void {
    this.mClosed = true;
  }
}

export interface NegotiationRequest {
  iceRestart: boolean;
}

/**
 * Coalesces renegotiation requests of an offering connection: while one negotiation runs, any
 * number of further requests lead to exactly one more run afterwards (with an ICE restart if any
 * of them asked for one). `negotiate` is the whole offer/answer exchange.
 */
export class Renegotiator {
  private readonly mQueue = new SerialQueue();
  private readonly mNegotiate: (request: NegotiationRequest) => Promise<void>;
  private readonly mOnError: (error: unknown) => void;
  private mWanted: NegotiationRequest | null = null;
  private mScheduled = false;

  constructor(negotiate: (request: NegotiationRequest) => Promise<void>, onError: (error: unknown) => void) {
    this.mNegotiate = negotiate;
    this.mOnError = onError;
  }

  /** True while a negotiation runs or waits to run. */
  get busy(): boolean {
    return this.mQueue.pending > 0;
  }

  /**
   * Asks for a negotiation; resolves when a negotiation that includes this request has ended
   * (successfully or not: failures go to `onError`) or the renegotiator was closed. Never rejects.
   */
  request(iceRestart = false): Promise<void> {
    if (this.mQueue.closed) return Promise.resolve();
    this.mWanted = { iceRestart: iceRestart || (this.mWanted?.iceRestart ?? false) };
    const ignoreClosed = (): void => undefined;
    if (this.mScheduled) return this.mQueue.run(() => Promise.resolve()).catch(ignoreClosed);
    this.mScheduled = true;
    return this.mQueue
      .run(async () => {
        this.mScheduled = false;
        const wanted = this.mWanted;
        this.mWanted = null;
        if (!wanted) return;
        try {
          await this.mNegotiate(wanted);
        } catch (err) {
          if (!this.mQueue.closed) this.mOnError(err);
        }
      })
      .catch(ignoreClosed);
  }

  close(): void {
    this.mQueue.close();
    this.mWanted = null;
  }
}
