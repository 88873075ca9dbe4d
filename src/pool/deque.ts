/**
 * A growable ring buffer: O(1) push, pop, shift and peek at both ends, no
 * `Array.shift()` (postgres.js src/queue.js and undici fixed-queue.js do the same).
 */
export class Deque<T> {
  #items: (T | undefined)[];
  #mask: number;
  #head = 0;
  #length = 0;

  constructor(capacity = 16) {
    let size = 16;
    while (size < capacity) size *= 2;
    this.#items = slots(size);
    this.#mask = size - 1;
  }

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & this.#mask] = item;
    this.#length++;
  }

  unshift(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & this.#mask;
    this.#items[this.#head] = item;
    this.#length++;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    return item;
  }

  pop(): T | undefined {
    if (this.#length === 0) return undefined;
    this.#length--;
    const index = (this.#head + this.#length) & this.#mask;
    const item = this.#items[index];
    this.#items[index] = undefined;
    return item;
  }

  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  peekLast(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[(this.#head + this.#length - 1) & this.#mask];
  }

  at(index: number): T | undefined {
    return index < 0 || index >= this.#length ? undefined : this.#items[(this.#head + index) & this.#mask];
  }

  /** Keep only the items for which `keep` is true, in order. O(n). */
  filter(keep: (item: T) => boolean): void {
    const kept: T[] = [];
    for (let i = 0; i < this.#length; i++) {
      const item = this.#items[(this.#head + i) & this.#mask] as T;
      if (keep(item)) kept.push(item);
    }
    this.clear();
    for (const item of kept) this.push(item);
  }

  /** Remove one item (by identity). O(n); for rare paths only. */
  remove(item: T): boolean {
    for (let i = 0; i < this.#length; i++) {
      if (this.#items[(this.#head + i) & this.#mask] === item) {
        this.filter((x) => x !== item);
        return true;
      }
    }
    return false;
  }

  clear(): void {
    this.#items.fill(undefined);
    this.#head = 0;
    this.#length = 0;
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#length; i++) out.push(this.#items[(this.#head + i) & this.#mask] as T);
    return out;
  }

  #grow(): void {
    const old = this.#items;
    const size = old.length * 2;
    // twice the old array, allocated at its exact length in the old one's elements kind
    const items = old.concat(old);
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & this.#mask];
    for (let i = this.#length; i < size; i++) items[i] = undefined;
    this.#items = items;
    this.#mask = size - 1;
    this.#head = 0;
  }
}

/**
 * An array of `size` undefined slots, born in the elements kind it keeps for life
 * (PACKED_ELEMENTS). `new Array(size)` is born HOLEY_SMI_ELEMENTS and changes kind at
 * its first store, so the deques of a second pool in a process started in another
 * kind than the first pool's, and every hot path that had seen only the first pool's
 * arrays deoptimized and went polymorphic (the second-pool slowdown; `npm run bench -- multi-pool` measures it, test/fixtures/pool-shapes.ts checks it).
 */
function slots<T>(size: number): (T | undefined)[] {
  let items: (T | undefined)[] = [];
  for (let i = 0; i < 16; i++) items.push(undefined);
  // doubled by concat, which allocates the exact length (push would leave up to half spare)
  while (items.length < size) items = items.concat(items);
  return items;
}
