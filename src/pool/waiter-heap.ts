/**
 * A min-heap of waiters by deadline, for callers with their own `timeoutMs`; used by
 * the wait queue (wait-queue.ts) under its one head timer.
 */
/** What the heap needs of a waiter: its deadline and a slot for its index. */
interface Timed {
  readonly deadline: number;
  heapIndex: number;
}

/**
 * A binary min-heap of waiters by deadline, for callers that pass their own
 * `timeoutMs` (whose deadlines are not in arrival order). Removal by index.
 */
export class WaiterHeap<C, W extends Timed = Timed & { settled: boolean; resolve(conn: C): void }> {
  #items: W[] = [];

  get length(): number {
    return this.#items.length;
  }

  peek(): W | undefined {
    return this.#items[0];
  }

  push(item: W): void {
    item.heapIndex = this.#items.length;
    this.#items.push(item);
    this.#up(item.heapIndex);
  }

  remove(item: W): void {
    const i = item.heapIndex;
    if (i < 0) return;
    const items = this.#items;
    const last = items.pop()!;
    item.heapIndex = -1;
    if (last !== item) {
      items[i] = last;
      last.heapIndex = i;
      this.#down(i);
      this.#up(last.heapIndex);
    }
  }

  #up(i: number): void {
    const items = this.#items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent].deadline <= items[i].deadline) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const items = this.#items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && items[l].deadline < items[m].deadline) m = l;
      if (r < items.length && items[r].deadline < items[m].deadline) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #swap(a: number, b: number): void {
    const items = this.#items;
    const x = items[a];
    items[a] = items[b];
    items[b] = x;
    items[a].heapIndex = a;
    items[b].heapIndex = b;
  }
}
