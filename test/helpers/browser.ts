// A real headless Chromium (Debian's `chromium`) driven over the DevTools protocol with a
// small WebSocket client: open a page, record every request it makes, evaluate in it, and
// take a screenshot. Root needs --no-sandbox; a fresh profile keeps each run apart.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export interface OpenedPage {
  /** Every URL the page asked for (Network.requestWillBeSent), the page itself included. */
  requests: string[];
  evaluate<T>(expression: string): Promise<T>;
  /** A PNG of the whole page. */
  screenshot(): Promise<Buffer>;
  close(): Promise<void>;
}

/** Starts Chromium, opens `url` in a new tab and waits for its load event (bounded). */
export async function openPage(url: string, options: { width?: number; height?: number } = {}): Promise<OpenedPage> {
  const profile = mkdtempSync(join(tmpdir(), 'mirrorctl-chromium-'));
  // Its own process group, so its helpers are stopped with it; its temporary files go in the profile.
  const child = spawn(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank',
  ], { stdio: 'ignore', detached: true, env: { ...process.env, TMPDIR: profile } });
  try {
    const endpoint = await devtoolsEndpoint(profile, child);
    const cdp = await connect(endpoint);
    const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
    const requests: string[] = [];
    cdp.on('Network.requestWillBeSent', sessionId, (params) => requests.push((params as { request: { url: string } }).request.url));
    const loaded = cdp.once('Page.loadEventFired', sessionId, 30_000);
    await cdp.send('Network.enable', {}, sessionId);
    await cdp.send('Page.enable', {}, sessionId);
    await cdp.send('Emulation.setDeviceMetricsOverride', { width: options.width ?? 1200, height: options.height ?? 900, deviceScaleFactor: 1, mobile: false }, sessionId);
    await cdp.send('Page.navigate', { url }, sessionId);
    await loaded;
    return {
      requests,
      async evaluate<T>(expression: string) {
        const result = await cdp.send<{ result: { value: T }; exceptionDetails?: unknown }>('Runtime.evaluate', { expression, returnByValue: true }, sessionId);
        if (result.exceptionDetails) throw new Error(`evaluate failed: ${JSON.stringify(result.exceptionDetails)}`);
        return result.result.value;
      },
      async screenshot() {
        const shot = await cdp.send<{ data: string }>('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }, sessionId);
        return Buffer.from(shot.data, 'base64');
      },
      async close() {
        await cdp.send('Browser.close').catch(() => undefined);
        cdp.close();
        await stop(child);
        removeProfile(profile);
      },
    };
  } catch (error) {
    await stop(child);
    removeProfile(profile);
    throw error;
  }
}

/** Waits for DevToolsActivePort in the profile (port, then the browser's path). */
async function devtoolsEndpoint(profile: string, child: ChildProcess): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`chromium exited with ${child.exitCode} before it listened`);
    try {
      const [port, path] = readFileSync(join(profile, 'DevToolsActivePort'), 'utf8').trim().split('\n');
      if (port && path) return `ws://127.0.0.1:${port}${path}`;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('chromium did not open its DevTools port within 30 s');
}

interface Cdp {
  send<T = unknown>(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<T>;
  on(method: string, sessionId: string, listener: (params: unknown) => void): void;
  once(method: string, sessionId: string, timeoutMs: number): Promise<unknown>;
  close(): void;
}

/** The DevTools protocol over one WebSocket: numbered calls, events by method and session. */
function connect(endpoint: string): Promise<Cdp> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(endpoint, { perMessageDeflate: false });
    let next = 1;
    const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
    const listeners: Array<{ method: string; sessionId: string; listener: (params: unknown) => void }> = [];
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: unknown; sessionId?: string };
      if (message.id !== undefined) {
        const call = calls.get(message.id);
        calls.delete(message.id);
        if (message.error) call?.reject(new Error(message.error.message));
        else call?.resolve(message.result);
        return;
      }
      for (const l of listeners) if (l.method === message.method && l.sessionId === message.sessionId) l.listener(message.params);
    });
    socket.on('error', reject);
    socket.on('open', () => {
      const cdp: Cdp = {
        send<T>(method: string, params: Record<string, unknown> = {}, sessionId?: string) {
          const id = next++;
          socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
          return new Promise<T>((res, rej) => calls.set(id, { resolve: res as (v: unknown) => void, reject: rej }));
        },
        on(method, sessionId, listener) {
          listeners.push({ method, sessionId, listener });
        },
        once(method, sessionId, timeoutMs) {
          return new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no ${method} within ${timeoutMs} ms`)), timeoutMs);
            listeners.push({ method, sessionId, listener: (p) => (clearTimeout(timer), res(p)) });
          });
        },
        close: () => socket.close(),
      };
      resolve(cdp);
    });
  });
}

/** Ends Chromium (this test's own process) and waits for it, bounded. */
async function stop(child: ChildProcess): Promise<void> {
  const group = child.pid;
  if (group === undefined) return;
  // The browser's helper processes (crashpad, utilities) can outlive it and keep writing to
  // the profile: the whole group is stopped, and waited for until none of it runs.
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-group, name);
    } catch {
      // ESRCH: nothing left in the group
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + 10_000;
  let killed = false;
  while (livingIn(group) > 0) {
    if (!killed && Date.now() > deadline - 5000) {
      signal('SIGKILL');
      killed = true;
    }
    if (Date.now() > deadline) throw new Error(`chromium's process group ${group} did not exit within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Processes of the group that are not zombies (a zombie writes nothing; its reaper may be slow). */
function livingIn(group: number): number {
  let living = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      // "pid (comm) state ppid pgrp ...": comm may hold spaces, so read after the last ")".
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === group && state !== 'Z') living += 1;
    } catch {
      // gone meanwhile
    }
  }
  return living;
}

/** The profile, once nothing writes to it any more (retried: a directory can be busy for a moment). */
function removeProfile(profile: string): void {
  rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}
