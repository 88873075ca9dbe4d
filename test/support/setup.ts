// Fails the run on any unhandled rejection or uncaught exception: leaked
// rejections are the classic pool bug (pg-pool test/setup.js does the same).
const seen: unknown[] = [];

function onUnhandled(reason: unknown): void {
  seen.push(reason);
  // eslint-disable-next-line no-console
  console.error('UNHANDLED REJECTION / EXCEPTION in test run:', reason);
}

if (!(globalThis as Record<string, unknown>).__cisternSetup) {
  (globalThis as Record<string, unknown>).__cisternSetup = true;
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
}

import { afterEach, expect } from 'vitest';

afterEach(() => {
  if (seen.length > 0) {
    const copy = seen.splice(0);
    expect.fail(
      `unhandled rejection or exception during the test: ${String((copy[0] as Error)?.stack ?? copy[0])}`,
    );
  }
});
