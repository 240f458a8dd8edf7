// The frame-transform worker (a module worker built by Vite): pipes every encoded frame of every
// sender and receiver through FrameCryptoEngine (src/media/frame_engine.ts). Frames arrive through
// RTCRtpScriptTransform (`rtctransform` events) or, where only the older API exists, as the
// createEncodedStreams() streams the main thread transfers. Keys arrive as messages; the per-track
// counters go back twice a second.

import {
  FrameCryptoEngine,
  type EncodedFrameLike,
  type FrameCryptoMessage,
  type FrameCryptoRequest,
  type TransformHooks,
  type TransformOptions,
} from './frame_engine';

/** The worker-side RTCRtpScriptTransformer (not in TypeScript's DOM library). */
interface ScriptTransformer {
  readonly readable: ReadableStream<EncodedFrameLike>;
  readonly writable: WritableStream<EncodedFrameLike>;
  readonly options: unknown;
  generateKeyFrame?: (rid?: string) => Promise<unknown>;
  sendKeyFrameRequest?: () => Promise<void>;
}

interface WorkerScope {
  onmessage: ((event: MessageEvent<FrameCryptoRequest>) => void) | null;
  onrtctransform: ((event: { transformer: ScriptTransformer }) => void) | null;
  postMessage(message: FrameCryptoMessage): void;
}

const scope = globalThis as unknown as WorkerScope;
const engine = new FrameCryptoEngine();
const STATS_INTERVAL_MS = 500;

function isTransformOptions(value: unknown): value is TransformOptions {
  if (typeof value !== 'object' || value === null) return false;
  const o = value as Record<string, unknown>;
  return (o['role'] === 'send' || o['role'] === 'receive') && (o['kind'] === 'audio' || o['kind'] === 'video');
}

type FrameReadable = ReadableStream<EncodedFrameLike>;
type FrameWritable = WritableStream<EncodedFrameLike>;

function pipe(
  options: TransformOptions,
  readable: FrameReadable,
  writable: FrameWritable,
  hooks: TransformHooks,
): void {
  const processor = engine.createTransform(options, hooks);
  readable
    .pipeThrough(
      new TransformStream<EncodedFrameLike, EncodedFrameLike>({
        async transform(frame, controller) {
          if (await processor.process(frame)) controller.enqueue(frame);
        },
      }),
    )
    .pipeTo(writable)
    .catch(() => undefined)
    .finally(() => processor.close());
}

scope.onrtctransform = (event) => {
  const transformer = event.transformer;
  if (!isTransformOptions(transformer.options)) return;
  const hooks: TransformHooks = {};
  if (typeof transformer.generateKeyFrame === 'function') {
    hooks.generateKeyFrame = () => void transformer.generateKeyFrame?.().catch(() => undefined);
  }
  if (typeof transformer.sendKeyFrameRequest === 'function') {
    hooks.requestKeyFrame = () => void transformer.sendKeyFrameRequest?.().catch(() => undefined);
  }
  pipe(transformer.options, transformer.readable, transformer.writable, hooks);
};

scope.onmessage = (event) => {
  const request = event.data;
  if (request.type === 'streams') {
    if (isTransformOptions(request.options)) {
      const readable = request.readable as FrameReadable;
      pipe(request.options, readable, request.writable as FrameWritable, {});
    }
    return;
  }
  engine.handle(request);
};

setInterval(() => scope.postMessage({ type: 'stats', tracks: engine.stats() }), STATS_INTERVAL_MS);
