'use strict';
// The module pg-pool's own tests load with `require('../')` (upstream/*.js are
// brianc/node-postgres packages/pg-pool/test, unchanged). PG_POOL_IMPL picks what
// they test: 'pg-pool' (the real pg-pool, the reference) or 'cistern' (the pg.Pool
// face of cistern/pg, preloaded by load-face.mjs because it is ESM).
const impl = process.env.PG_POOL_IMPL || 'pg-pool';
if (impl === 'cistern') {
  const Pool = globalThis.__cisternPgFacePool;
  if (typeof Pool !== 'function') {
    throw new Error(
      'PG_POOL_IMPL=cistern needs NODE_OPTIONS="--import <abs path>/test/peer/pg-pool/mocha/load-face.mjs" (see ../pg-pool-suite.test.ts)',
    );
  }
  module.exports = Pool;
} else if (impl === 'pg-pool') {
  module.exports = require('pg-pool');
} else {
  throw new Error(`PG_POOL_IMPL must be 'pg-pool' or 'cistern', got '${impl}'`);
}
