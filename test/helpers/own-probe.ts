// The test's own probe, written apart from src/probe so it can disagree with it: GET and POST
// through the portable IP, one request at a time per loop, a new connection each, every 20 ms,
// each bounded by 500 ms; its longest outage by the same rule (last success before a run of
// failures to the first success after it, counted when the answers arrived).
import { request } from 'node:http';

export const OWN_INTERVAL_MS = 20;
export const OWN_TIMEOUT_MS = 500;

interface Answer {
  ok: boolean;
  answeredAt: number;
}

/** One request on a new connection: true for a 2xx within the timeout. */
function ask(url: string, method: 'GET' | 'POST'): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { method, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
      res.on('error', () => resolve(false));
    });
    const timer = setTimeout(() => req.destroy(new Error('timeout')), OWN_TIMEOUT_MS);
    req.on('error', () => resolve(false));
    req.on('close', () => clearTimeout(timer));
    req.end();
  });
}

/** Runs a GET loop and a POST loop until stopped; the longest outage of either, in ms. */
export function startOwnProbe(readUrl: string, writeUrl: string): { stop(): Promise<{ longestMs: number; answers: number }> } {
  let running = true;
  const started = Date.now();
  const loop = async (url: string, method: 'GET' | 'POST') => {
    const answers: Answer[] = [];
    const deadline = Date.now() + 180_000;
    while (running && Date.now() < deadline) {
      const t = Date.now();
      const ok = await ask(url, method);
      answers.push({ ok, answeredAt: Date.now() });
      const wait = t + OWN_INTERVAL_MS - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    return answers;
  };
  const loops = [loop(readUrl, 'GET'), loop(writeUrl, 'POST')];
  return {
    async stop() {
      running = false;
      const all = await Promise.all(loops);
      const ended = Date.now();
      let longestMs = 0;
      for (const answers of all) {
        let lastOk = started;
        let failing = false;
        for (const a of answers) {
          if (!a.ok) failing = true;
          else {
            if (failing) longestMs = Math.max(longestMs, a.answeredAt - lastOk);
            failing = false;
            lastOk = a.answeredAt;
          }
        }
        if (failing) longestMs = Math.max(longestMs, ended - lastOk);
      }
      return { longestMs, answers: all.reduce((n, a) => n + a.length, 0) };
    },
  };
}
