/**
 * Where a pool's Tracer and Meter come from: the providers given in
 * `telemetry: { tracerProvider, meterProvider }`, or the global ones, resolved
 * lazily so an SDK registered after the pool was created is still used. Each
 * lookup is a couple of identity checks; with no SDK registered both return
 * undefined and the caller does nothing at all. While nothing at all was ever
 * registered with the API (the common no-SDK process), a lookup is one property
 * read: the API's global registry does not exist yet.
 */
import {
  createNoopMeter,
  type Meter,
  type MeterProvider,
  metrics,
  ProxyTracerProvider,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { VERSION } from './version.js';

export const INSTRUMENTATION_NAME = 'cistern';

/** The API's own no-op delegate: what a ProxyTracerProvider returns while no SDK is registered. */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
const NOOP_METER = createNoopMeter();

/**
 * Where `@opentelemetry/api` 1.x keeps every global it registers (tracer and meter
 * providers, context manager, propagator, diag logger): `globalThis[Symbol.for(
 * 'opentelemetry.js.api.1')]`, created by the first registration of any of them
 * (src/internal/global-utils.ts in the API). Until then no SDK can be registered, and
 * both sources answer "none" with this one read instead of the API's lookups (each
 * checks the registry's version; several per query and checkout). telemetry-global.test.ts
 * registers SDKs after a pool was created and sees them at once, so a wrong key fails it.
 */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

export function nothingRegistered(): boolean {
  return (globalThis as Record<symbol, unknown>)[API_GLOBAL] === undefined;
}

interface DelegatingProvider extends TracerProvider {
  getDelegate?(): TracerProvider;
}

function isTracerProvider(value: unknown): value is TracerProvider {
  return typeof (value as TracerProvider | undefined)?.getTracer === 'function';
}

function isMeterProvider(value: unknown): value is MeterProvider {
  return typeof (value as MeterProvider | undefined)?.getMeter === 'function';
}

export class TracerSource {
  private readonly fixed: Tracer | undefined;
  private lastDelegate: TracerProvider | undefined;
  private cached: Tracer | undefined;

  constructor(provider: unknown) {
    if (provider !== undefined && !isTracerProvider(provider)) {
      throw new TypeError(
        'telemetry.tracerProvider must be an OpenTelemetry TracerProvider (with getTracer)',
      );
    }
    this.fixed = provider ? getTracer(provider) : undefined;
  }

  /** The tracer to use now, or undefined when no tracing SDK is registered. */
  get(): Tracer | undefined {
    if (this.fixed) return this.fixed;
    if (nothingRegistered()) return undefined;
    const global = trace.getTracerProvider() as DelegatingProvider;
    const delegate = typeof global.getDelegate === 'function' ? global.getDelegate() : global;
    if (delegate === NOOP_TRACER_PROVIDER) return undefined;
    if (delegate !== this.lastDelegate) {
      this.lastDelegate = delegate;
      this.cached = getTracer(delegate);
    }
    return this.cached;
  }
}

function getTracer(provider: TracerProvider): Tracer {
  return provider.getTracer(INSTRUMENTATION_NAME, VERSION);
}

/**
 * The meter to use. `onChange` runs when the effective meter changes (first use,
 * a global SDK registered later, or replaced), so the pool can move its
 * observable callbacks.
 */
export class MeterSource {
  private readonly fixed: MeterProvider | undefined;
  private lastProvider: MeterProvider | undefined;
  private current: Meter | undefined;

  constructor(
    provider: unknown,
    private readonly onChange: (meter: Meter | undefined, previous: Meter | undefined) => void,
  ) {
    if (provider !== undefined && !isMeterProvider(provider)) {
      throw new TypeError('telemetry.meterProvider must be an OpenTelemetry MeterProvider (with getMeter)');
    }
    this.fixed = provider;
  }

  /** The meter to use now, or undefined when no metrics SDK is registered. */
  get(): Meter | undefined {
    if (this.fixed === undefined && this.current === undefined && nothingRegistered()) return undefined;
    const provider = this.fixed ?? metrics.getMeterProvider();
    if (provider !== this.lastProvider) {
      this.lastProvider = provider;
      const meter = provider.getMeter(INSTRUMENTATION_NAME, VERSION);
      const next = meter === NOOP_METER ? undefined : meter;
      if (next !== this.current) {
        const previous = this.current;
        this.current = next;
        this.onChange(next, previous);
      }
    }
    return this.current;
  }
}
