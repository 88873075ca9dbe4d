/**
 * cistern/generic-pool: generic-pool 3's API on top of the cistern core. Switch by
 * changing one import; see docs/generic-pool.md for every deliberate difference.
 */
import { Pool } from './pool.js';
import type { Factory, Options } from './types.js';

/** Create a pool of the resources `factory` makes, with generic-pool's options (and cistern's extras). */
export function createPool<T>(factory: Factory<T>, opts?: Options): Pool<T> {
  return new Pool(factory, opts);
}

/** For `import genericPool from 'cistern/generic-pool'`, as with `import genericPool from 'generic-pool'`. */
const genericPool = { createPool, Pool };
export default genericPool;

export {
  isPoolError,
  PoolClosedError,
  PoolConfigError,
  PoolError,
  PoolMisuseError,
  PoolQueueFullError,
  PoolTimeoutError,
} from '../pool/errors.js';
export { Pool } from './pool.js';
export { TimeoutError } from './timeout-error.js';
export type { CisternExtras, Factory, GenericPoolOptions, Options } from './types.js';
