/**
 * `fromFactory`: an adapter from two async functions (create, destroy; optionally
 * validate and reset) to a `Driver`, so any resource can be pooled.
 */
import type { Driver, DriverTarget } from './driver.js';

/** Two async functions (and optionally two more) that make any resource poolable. */
export interface ResourceFactory<R> {
  /** Make one resource. */
  create(): Promise<R> | R;
  /** Dispose of one resource. */
  destroy(resource: R): Promise<void> | void;
  /** Resolve `true` when the resource is alive; `false` or a rejection means dead. What `prePing` runs. */
  validate?(resource: R): Promise<boolean> | boolean;
  /** Restore the resource for its next user, at check-in. */
  reset?(resource: R): Promise<void> | void;
  /** True when an error thrown while using the resource means it is dead. */
  isDisconnect?(error: unknown): boolean;
  /** What the resources are, for the pool name and telemetry. Default `{ system: 'generic' }`. */
  target?: DriverTarget;
}

let sequence = 0;

/** Turn a factory into a {@link Driver}, so `createPool` pools anything. */
export function fromFactory<R>(factory: ResourceFactory<R>): Driver<R> {
  if (typeof factory !== 'object' || factory === null) {
    throw new TypeError('fromFactory(factory): factory must be an object with create and destroy functions');
  }
  const { create, destroy, validate, reset, isDisconnect } = factory;
  if (typeof create !== 'function' || typeof destroy !== 'function') {
    throw new TypeError(
      `fromFactory(factory): factory.create and factory.destroy must be functions (got create: ${typeof create}, destroy: ${typeof destroy})`,
    );
  }
  for (const [key, fn] of [
    ['validate', validate],
    ['reset', reset],
    ['isDisconnect', isDisconnect],
  ] as const) {
    if (fn !== undefined && typeof fn !== 'function') {
      throw new TypeError(
        `fromFactory(factory): factory.${key} must be a function when given (got ${typeof fn})`,
      );
    }
  }
  const target: DriverTarget = factory.target ?? { system: 'generic', host: `generic-${++sequence}` };
  const driver: Driver<R> = {
    name: 'factory',
    target,
    connect: async () => create.call(factory),
    ping: validate === undefined ? async () => true : async (r) => (await validate.call(factory, r)) === true,
    close: async (r) => {
      await destroy.call(factory, r);
    },
    isDisconnect: isDisconnect === undefined ? () => false : (error) => isDisconnect.call(factory, error),
  };
  if (reset !== undefined) driver.reset = (r) => reset.call(factory, r);
  return driver;
}
