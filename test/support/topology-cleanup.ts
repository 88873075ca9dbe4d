/**
 * Nothing left running: every temporary server of the topology harness
 * (`pg-cluster.ts`, `mariadb-server.ts`) registers a synchronous cleanup here.
 * They run on normal exit, on SIGINT/SIGTERM/SIGHUP (then the signal is re-raised),
 * and — for a process that died by SIGKILL — the next harness process reaps what it
 * left: every temp dir is named `cistern-topo-<ownerPid>-*` and holds a `reap` script
 * run when that owner pid is gone.
 *
 * ```ts
 * const dir = makeTopoDir('pg');                 // /tmp/cistern-topo-<pid>-pg-XXXX, reaped if we die
 * const off = onCleanup(() => stopSync());       // runs once at exit/signal; off() unregisters
 * writeReapScript(dir, 'pg_ctl stop ...');        // shell run by a later process if we were SIGKILLed
 * ```
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
let installed = false;

function runAll(): void {
  for (const fn of [...cleanups].reverse()) {
    cleanups.delete(fn);
    try {
      fn();
    } catch {
      // best effort: the next one still runs
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      runAll();
      process.off(signal, handler);
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
  reapStale();
}

/** Register a synchronous cleanup; returns a function that unregisters it. */
export function onCleanup(fn: Cleanup): () => void {
  install();
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

const PREFIX = 'cistern-topo-';

/** A fresh temp dir named after this process, mode 0755. */
export function makeTopoDir(label: string): string {
  install();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-${label}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** A shell script a later process runs (as root or the current user) if this one dies unclean. */
export function writeReapScript(dir: string, shell: string): void {
  const file = path.join(dir, 'reap.sh');
  const prior = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  fs.writeFileSync(file, `${prior}${shell}\n`, { mode: 0o700 });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `reap.sh` in the dir and in its direct subdirs (one per server node). */
function reapScripts(dir: string): string[] {
  const found: string[] = [];
  const check = (d: string) => {
    const f = path.join(d, 'reap.sh');
    try {
      const st = fs.statSync(f);
      // only scripts this user wrote and nobody else can change: /tmp is shared
      if (st.uid === process.getuid?.() && (st.mode & 0o022) === 0) found.push(f);
    } catch {
      // none here
    }
  };
  check(dir);
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }))
      if (e.isDirectory()) check(path.join(dir, e.name));
  } catch {
    // gone already
  }
  return found;
}

function reapStale(): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of entries) {
    if (!name.startsWith(PREFIX)) continue;
    const owner = Number(name.slice(PREFIX.length).split('-')[0]);
    if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || alive(owner)) continue;
    const dir = path.join(os.tmpdir(), name);
    for (const script of reapScripts(dir)) {
      try {
        execFileSync('sh', [script], { stdio: 'ignore', timeout: 15_000 });
      } catch {
        // still remove the files
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
