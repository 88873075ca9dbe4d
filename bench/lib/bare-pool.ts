/**
 * The floor of the acquire-release benchmark: the least a pool can do.
 * A free list (an array used as a stack) and waiters in an O(1) ring buffer;
 * no clock, no events, no checks. Any real pool pays this plus its features.
 */
export class BarePool<T> {
  private readonly free: T[];
  private waiters: Array<((conn: T) => void) | undefined> = new Array(16);
  private head = 0;
  private count = 0;

  constructor(resources: readonly T[]) {
    this.free = resources.slice();
  }

  acquire(): Promise<T> {
    if (this.free.length > 0) return Promise.resolve(this.free.pop()!);
    return new Promise<T>((resolve) => this.enqueue(resolve));
  }

  release(conn: T): void {
    if (this.count === 0) {
      this.free.push(conn);
      return;
    }
    const resolve = this.waiters[this.head]!;
    this.waiters[this.head] = undefined;
    this.head = (this.head + 1) & (this.waiters.length - 1);
    this.count--;
    resolve(conn);
  }

  get waiting(): number {
    return this.count;
  }

  private enqueue(resolve: (conn: T) => void): void {
    const capacity = this.waiters.length;
    if (this.count === capacity) {
      // Grow by doubling, unrolling the ring so the head sits at index 0.
      const grown: Array<((conn: T) => void) | undefined> = new Array(capacity * 2);
      for (let i = 0; i < capacity; i++) grown[i] = this.waiters[(this.head + i) & (capacity - 1)];
      this.waiters = grown;
      this.head = 0;
    }
    this.waiters[(this.head + this.count) & (this.waiters.length - 1)] = resolve;
    this.count++;
  }
}
