/**
 * The floor of a database scenario: N driver objects of one connection each behind
 * a bare free list and a FIFO of waiters; no timeouts, no checks, no events. What
 * any pool over the same driver objects can at best reach.
 */
export function freeListUse<T>(items: readonly T[]): <R>(fn: (item: T) => PromiseLike<R>) => Promise<R> {
  const free = [...items];
  const waiters: (((item: T) => void) | undefined)[] = [];
  let head = 0;
  const release = (item: T): void => {
    if (head < waiters.length) {
      const w = waiters[head]!;
      waiters[head++] = undefined;
      if (head > 1024 && head * 2 > waiters.length) {
        waiters.splice(0, head);
        head = 0;
      }
      w(item);
    } else free.push(item);
  };
  return async (fn) => {
    const item = free.pop() ?? (await new Promise<T>((resolve) => waiters.push(resolve)));
    try {
      return await fn(item);
    } finally {
      release(item);
    }
  };
}
