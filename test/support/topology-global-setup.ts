/**
 * vitest globalSetup for the topology harness: names ONE PostgreSQL template dir for
 * the whole run (env CISTERN_PG_TEMPLATE, inherited by every test worker), so initdb
 * runs once per run — lazily, by the first test file that starts a node (see
 * pg-cluster.ts), never for a run that starts none. The teardown removes it.
 * The dir is named `cistern-topo-<pid>-*`, so a later run reaps it if this one was killed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = path.join(os.tmpdir(), `cistern-topo-${process.pid}-pgtemplate`);
  process.env.CISTERN_PG_TEMPLATE = path.join(dir, 't');
  return () => {
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
