import { probeRequest, type ProbeRecord, type ProbeRequestOptions } from './request.js';

/** A loop of requests, one at a time, one every `intervalMs` (at once when the last took longer). */
export interface ProbeLoop {
  records: ProbeRecord[];
  /** Resolves once the request in flight (bounded by its timeout) has ended. */
  stop(): Promise<void>;
}

/** Starts requesting `url` now (or `url(n)` for the n-th request, from 0); `onRecord` sees each request as it ends. */
export function startLoop(
  url: string | ((n: number) => string),
  kind: 'read' | 'write',
  intervalMs: number,
  timeoutMs: number,
  options: ProbeRequestOptions & { onRecord?: (record: ProbeRecord) => void } = {},
): ProbeLoop {
  const records: ProbeRecord[] = [];
  let stopped = false;
  let wake: (() => void) | null = null;
  const done = (async () => {
    for (let n = 0; !stopped; n += 1) {
      const started = performance.now();
      const record = await probeRequest(typeof url === 'string' ? url : url(n), kind, timeoutMs, { keepBody: options.keepBody, connect: options.connect });
      records.push(record);
      options.onRecord?.(record);
      const wait = started + intervalMs - performance.now();
      if (wait > 0 && !stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
      }
    }
  })();
  return {
    records,
    async stop() {
      stopped = true;
      (wake as (() => void) | null)?.();
      await done;
    },
  };
}
