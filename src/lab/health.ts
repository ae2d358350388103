import { setTimeout as sleep } from 'node:timers/promises';

// Asking the lab's web app for /health from the control machine.

export interface AppHealth {
  host: string;
  db_role: string;
  session_mode: string;
}

/** The app's /health answer at `address`, or null when it does not answer 200 within `timeoutMs`. */
export async function fetchHealth(address: string, timeoutMs = 2000): Promise<AppHealth | null> {
  try {
    const response = await fetch(`http://${address}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200) return null;
    return (await response.json()) as AppHealth;
  } catch {
    return null;
  }
}

/** Waits until the app at `address` answers and `accept` likes the answer (bounded). */
export async function waitHealth(address: string, accept: (health: AppHealth) => boolean, timeoutMs = 20_000): Promise<AppHealth | null> {
  const deadline = Date.now() + timeoutMs;
  let last: AppHealth | null = null;
  while (Date.now() < deadline) {
    last = await fetchHealth(address, 1000);
    if (last && accept(last)) return last;
    await sleep(150);
  }
  return last;
}
