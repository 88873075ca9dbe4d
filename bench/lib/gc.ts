import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection, with or without `node --expose-gc`: without the
 * flag, it is turned on at run time and `gc` is taken from a fresh context.
 */
export function getGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Collect until the heap stops shrinking (at most a few rounds), then report heapUsed. */
export function settledHeapUsed(gc: () => void): number {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    gc();
    const used = process.memoryUsage().heapUsed;
    if (used >= last) return last;
    last = used;
  }
  return last;
}
