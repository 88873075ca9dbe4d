/**
 * The QueryObserver handed to drivers: one CLIENT span per query, started in the
 * caller's async context (so its parent is whoever called `use`/`transaction`,
 * never whoever released the connection), plus `db.client.operation.duration`.
 */
import { type Attributes, context, type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { NOOP_SCOPE } from '../diagnostics/noop-scope.js';
import type { ConnectionMeta, QueryInfo, QueryObserver, QueryScope } from '../pool/driver.js';
import { errorAttributes } from './attributes.js';
import type { DescriptionCache } from './description-cache.js';
import type { Instruments } from './instruments.js';
import { nothingRegistered, type TracerSource } from './providers.js';
import { type TransactionState, txControlOf } from './transaction-state.js';

export interface ObserverDeps {
  tracer: TracerSource;
  /**
   * Both providers are the global ones (none given in `telemetry`): while nothing was ever
   * registered with the OpenTelemetry API, one read answers "nothing records" for both.
   */
  globalOnly: boolean;
  /** The pool's metric instruments now, or undefined when metrics are off. */
  instruments(): Instruments | undefined;
  descriptions: DescriptionCache;
  /** This pool's transaction context key. */
  txKey: symbol;
  /** This pool's transactions now running: while none is, no query looks one up in the context. */
  transactions: { open: number };
}

class ObservedQuery implements QueryScope {
  private ended = false;

  constructor(
    private readonly span: Span | undefined,
    private readonly instruments: Instruments | undefined,
    private readonly metricAttributes: Attributes,
    private readonly startedAt: number,
    private readonly system: string,
    private readonly tx: TransactionState | undefined,
    private readonly txControl: ReturnType<typeof txControlOf>,
  ) {}

  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const failed = error !== undefined && error !== null;
    const errorAttrs = failed ? errorAttributes(error, this.system) : undefined;
    if (this.tx !== undefined) this.tx.observed(this.txControl, failed);
    const span = this.span;
    if (span !== undefined) {
      if (errorAttrs !== undefined) {
        span.setAttributes(errorAttrs);
        // No status message: server messages can quote parameter values.
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }
    const instruments = this.instruments;
    if (instruments !== undefined) {
      // The SDK's span knows its own duration: the metric then equals the span's duration
      // (as the conventions ask) and costs no clock read.
      const d = span === undefined ? undefined : (span as { duration?: [number, number] }).duration;
      const seconds =
        d !== undefined && d[0] >= 0 ? d[0] + d[1] / 1e9 : (performance.now() - this.startedAt) / 1000;
      instruments.operationDuration.record(
        seconds,
        errorAttrs === undefined ? this.metricAttributes : { ...this.metricAttributes, ...errorAttrs },
      );
    }
  }
}

/**
 * A QueryObserver with one extra, optional capability: `active()` says whether
 * anything would be recorded right now (an SDK is registered). A driver may check
 * it per query and skip its own per-query observation work when it is false.
 */
export interface CisternQueryObserver extends QueryObserver {
  active(): boolean;
}

export function createQueryObserver(deps: ObserverDeps): CisternQueryObserver {
  return {
    active(): boolean {
      if (deps.globalOnly && nothingRegistered()) return false;
      return deps.tracer.get() !== undefined || deps.instruments() !== undefined;
    },
    start(info: QueryInfo, meta: ConnectionMeta): QueryScope {
      if (deps.globalOnly && nothingRegistered()) return NOOP_SCOPE;
      const tracer = deps.tracer.get();
      const instruments = deps.instruments();
      if (tracer === undefined && instruments === undefined) return NOOP_SCOPE;
      const description = deps.descriptions.describe(info, meta.target);
      const active = context.active();
      let span: Span | undefined;
      if (tracer !== undefined) {
        span = tracer.startSpan(
          description.spanName,
          { kind: SpanKind.CLIENT, attributes: description.spanAttributes },
          active,
        );
      }
      let tx: TransactionState | undefined;
      let control: ReturnType<typeof txControlOf>;
      if (tracer !== undefined && deps.transactions.open > 0) {
        tx = active.getValue(deps.txKey) as TransactionState | undefined;
        if (tx !== undefined) control = txControlOf(info.operation);
      }
      return new ObservedQuery(
        span,
        instruments,
        description.metricAttributes,
        instruments === undefined || (span !== undefined && 'duration' in span) ? 0 : performance.now(),
        meta.target.system,
        tx,
        control,
      );
    },
  };
}
