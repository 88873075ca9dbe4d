import { isPoolError } from '../pool/errors.js';
import type { Pool as CorePool } from '../pool/pool.js';
import { TimeoutError } from './timeout-error.js';

/** One caller of `acquire(priority)`, waiting. */
interface Request<T> {
  settled: boolean;
  resolve: (resource: T) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

/** One outstanding `acquire` on the core, on behalf of whichever request is best when it is served. */
interface Ticket {
  cancelled: boolean;
  abort: AbortController;
}

const CANCELLED = new Error('priority ticket cancelled');

/**
 * Priorities on top of a first-come-first-served core. The broker keeps exactly as
 * many core acquires ("tickets") outstanding as it has waiting requests; whichever
 * ticket is served, the resource goes to the best waiting request (lowest priority
 * number, then arrival order). A request keeps its own deadline; when it expires,
 * one ticket is withdrawn. Used only when `priorityRange > 1`.
 */
export class PriorityBroker<T> {
  readonly #slots: Request<T>[][];
  readonly #heads: number[];
  readonly #tickets: Ticket[] = [];
  #waiting = 0;

  constructor(
    private readonly core: CorePool<T>,
    range: number,
    private readonly timeoutMs: number,
    private readonly lend: (resource: T) => void,
    private readonly settled: () => void,
    private readonly lastCreateError: () => unknown,
  ) {
    this.#slots = Array.from({ length: range }, () => []);
    this.#heads = new Array(range).fill(0);
  }

  /** Requests still waiting. */
  get waiting(): number {
    return this.#waiting;
  }

  request(priority: number | undefined): Promise<T> {
    const slot = this.#slotOf(priority);
    return new Promise<T>((resolve, reject) => {
      const req: Request<T> = { settled: false, resolve, reject, timer: undefined };
      this.#slots[slot].push(req);
      this.#waiting++;
      if (this.timeoutMs !== Number.POSITIVE_INFINITY) {
        req.timer = setTimeout(() => this.#expire(req), this.timeoutMs);
      }
      this.#issue();
    });
  }

  /** generic-pool's rule: a non-integer counts as 0, one out of range joins the lowest priority. */
  #slotOf(priority: number | undefined): number {
    const p = (priority && +priority | 0) || 0;
    return p < 0 || p >= this.#slots.length ? this.#slots.length - 1 : p;
  }

  #issue(): void {
    const ticket: Ticket = { cancelled: false, abort: new AbortController() };
    this.#tickets.push(ticket);
    this.core.acquire({ signal: ticket.abort.signal, timeoutMs: Number.POSITIVE_INFINITY }).then(
      (resource) => this.#served(ticket, resource),
      (error: unknown) => this.#failed(ticket, error),
    );
  }

  #drop(ticket: Ticket): void {
    const i = this.#tickets.indexOf(ticket);
    if (i >= 0) this.#tickets.splice(i, 1);
  }

  #served(ticket: Ticket, resource: T): void {
    if (!ticket.cancelled) this.#drop(ticket);
    const req = this.#next();
    if (req === undefined) {
      this.core.release(resource);
      return;
    }
    // a ticket withdrawn too late still served someone: withdraw another to stay one per request
    if (ticket.cancelled) this.#withdraw();
    this.#settle(req);
    this.lend(resource);
    req.resolve(resource);
    this.settled();
  }

  #failed(ticket: Ticket, error: unknown): void {
    if (ticket.cancelled) return;
    this.#drop(ticket);
    // generic-pool semantics: a failed create does not fail the caller, who keeps waiting
    if (isPoolError(error) && error.code === 'CONNECT_FAILED' && !this.core.closed) {
      this.#issue();
      return;
    }
    const req = this.#next();
    if (req === undefined) return;
    this.#settle(req);
    req.reject(error);
    this.settled();
  }

  #expire(req: Request<T>): void {
    if (req.settled) return;
    req.timer = undefined;
    this.#settle(req);
    this.#withdraw();
    const cause = this.lastCreateError();
    req.reject(new TimeoutError(this.timeoutMs, this.core.name, cause));
    this.settled();
  }

  /** Withdraw the newest outstanding core acquire (the older ones keep their place in line). */
  #withdraw(): void {
    const ticket = this.#tickets.pop();
    if (ticket === undefined) return;
    ticket.cancelled = true;
    ticket.abort.abort(CANCELLED);
  }

  #settle(req: Request<T>): void {
    req.settled = true;
    this.#waiting--;
    if (req.timer !== undefined) clearTimeout(req.timer);
  }

  /** The best live request, removed from its slot (settled ones are skipped lazily). */
  #next(): Request<T> | undefined {
    for (let s = 0; s < this.#slots.length; s++) {
      const slot = this.#slots[s];
      let head = this.#heads[s];
      while (head < slot.length) {
        const req = slot[head++];
        if (!req.settled) {
          this.#compact(s, head);
          return req;
        }
      }
      this.#compact(s, head);
    }
    return undefined;
  }

  #compact(s: number, head: number): void {
    const slot = this.#slots[s];
    if (head >= slot.length) {
      slot.length = 0;
      this.#heads[s] = 0;
    } else if (head > 1024 && head * 2 > slot.length) {
      slot.splice(0, head);
      this.#heads[s] = 0;
    } else {
      this.#heads[s] = head;
    }
  }
}
