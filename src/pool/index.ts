export { resetClock } from './clock.js';
export * from './errors.js';
export { fromFactory, type ResourceFactory } from './from-factory.js';
export { DEFAULTS, resolveOptions } from './options.js';
export { Pool } from './pool.js';
export type * from './types.js';
