/**
 * One `pool.transaction` call as telemetry sees it: an INTERNAL span that is the
 * active span while the transaction runs (so BEGIN, the queries, COMMIT/ROLLBACK
 * are its children), one span event per attempt, and the outcome inferred from
 * how `run` settled plus the transaction-control statements observed inside it.
 */
import { type Attributes, createContextKey, type Span, SpanStatusCode } from '@opentelemetry/api';
import type { TransactionOutcome, TransactionScope } from '../pool/types.js';
import { errorAttributes } from './attributes.js';
import {
  ATTR_CISTERN_POOL_WAIT_MS,
  ATTR_CISTERN_TX_ATTEMPT,
  ATTR_CISTERN_TX_ATTEMPTS,
  ATTR_CISTERN_TX_OUTCOME,
  EVENT_CISTERN_TX_ATTEMPT,
} from './semconv.js';

/**
 * A context key under which a pool's running transaction travels with the async
 * context. One key per pool: a query of pool B inside a transaction of pool A is
 * not part of A's transaction.
 */
export function transactionKey(poolName: string): symbol {
  return createContextKey(`cistern.transaction ${poolName}`);
}

export type TxControl = 'begin' | 'commit' | 'rollback' | undefined;

/** Classify a driver operation name as transaction control (SQL and MongoDB spellings). */
export function txControlOf(operation: string | undefined): TxControl {
  if (operation === undefined) return undefined;
  switch (operation.toUpperCase()) {
    case 'BEGIN':
    case 'START TRANSACTION':
    case 'STARTTRANSACTION':
      return 'begin';
    case 'COMMIT':
    case 'COMMITTRANSACTION':
      return 'commit';
    case 'ROLLBACK':
    case 'ABORTTRANSACTION':
      return 'rollback';
    default:
      return undefined;
  }
}

/** Pure: the outcome of a transaction from what was observed. */
export function inferOutcome(
  resolved: boolean,
  seen: { began: boolean; committed: boolean; rolledBack: boolean; queries: number },
): TransactionOutcome {
  if (resolved) return 'committed';
  if (seen.rolledBack) return 'rolled_back';
  if (seen.began || seen.queries > 0) return 'rolled_back';
  return 'failed';
}

export class TransactionState implements TransactionScope {
  attempts = 0;
  began = false;
  committed = false;
  rolledBack = false;
  queries = 0;
  waitMs = 0;
  private finished = false;

  constructor(
    readonly span: Span,
    private readonly system: string,
  ) {}

  attempt(n: number, previousError?: unknown): void {
    this.attempts = n;
    if (n > 1) {
      // a new attempt starts from scratch
      this.began = false;
      this.committed = false;
      this.rolledBack = false;
    }
    const attributes: Attributes = { [ATTR_CISTERN_TX_ATTEMPT]: n };
    if (previousError !== undefined) Object.assign(attributes, errorAttributes(previousError, this.system));
    this.span.addEvent(EVENT_CISTERN_TX_ATTEMPT, attributes);
  }

  /** A query ran inside this transaction (called when it ends). */
  observed(control: TxControl, failed: boolean): void {
    this.queries++;
    if (failed) return;
    if (control === 'begin') this.began = true;
    else if (control === 'commit') this.committed = true;
    else if (control === 'rollback') this.rolledBack = true;
  }

  finish(resolved: boolean, error?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    const outcome = inferOutcome(resolved, this);
    const attributes: Attributes = {
      [ATTR_CISTERN_TX_OUTCOME]: outcome,
      [ATTR_CISTERN_TX_ATTEMPTS]: Math.max(this.attempts, 1),
    };
    if (this.waitMs > 0) attributes[ATTR_CISTERN_POOL_WAIT_MS] = this.waitMs;
    if (!resolved) {
      Object.assign(attributes, errorAttributes(error, this.system));
      this.span.setStatus({ code: SpanStatusCode.ERROR });
    }
    this.span.setAttributes(attributes);
    this.span.end();
  }
}
