/**
 * Loads the `pg` the user installed (an optional peer dependency), synchronously
 * and only once: `cistern/pg` needs its `Client` class and, for the face, its
 * `Pool` class (so that `instanceof pg.Pool` holds). ESM with no top-level await:
 * `createRequire` resolves the same CommonJS module `import pg from 'pg'` gives.
 */
import { createRequire } from 'node:module';
import type { PgModule } from './pg-types.js';

let loaded: PgModule | null | undefined;
let loadError: unknown;

/** The user's `pg`, or undefined when it is not installed. */
export function tryLoadPg(): PgModule | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('pg') as PgModule;
    } catch (error) {
      loaded = null;
      loadError = error;
    }
  }
  return loaded ?? undefined;
}

/** The user's `pg`; throws a clear error when it is not installed. */
export function loadPg(): PgModule {
  const pg = tryLoadPg();
  if (pg !== undefined) return pg;
  throw new Error(
    "cistern/pg needs the 'pg' package (node-postgres), an optional peer dependency: npm install pg",
    { cause: loadError },
  );
}
