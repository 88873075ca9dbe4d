// Preloaded (`node --import`) in every process of the pg-pool suite, forked children
// too: puts cistern's pg.Pool face where the CommonJS shim (index.js) finds it.
// CISTERN_PG_FACE_MODULE is the face's module: the compiled build (what
// pg-pool-suite.test.ts makes) or, with `--import tsx` first, src/drivers/pg/index.ts.
import { pathToFileURL } from 'node:url';

if (process.env.PG_POOL_IMPL === 'cistern') {
  const module = process.env.CISTERN_PG_FACE_MODULE;
  if (!module) throw new Error('PG_POOL_IMPL=cistern needs CISTERN_PG_FACE_MODULE (the path of cistern/pg)');
  const { Pool } = await import(pathToFileURL(module).href);
  globalThis.__cisternPgFacePool = Pool;
}
