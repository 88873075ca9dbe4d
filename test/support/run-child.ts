/**
 * Run a test's child process (`node --import tsx <script> ...args`) and tell whether it
 * exits by itself: used by the exit-on-idle tests. Async (not spawnSync), so a test server
 * running in the test's own process keeps answering the child.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

export interface ChildOutcome {
  /** 'exited' with its code, or 'running' when still alive `aliveMs` after printing `marker`. */
  state: 'exited' | 'running';
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run `script` (a path from the repository root); once it printed `marker`, wait until it
 * exits or `aliveMs` passed; then kill it by its pid. Throws when it printed nothing
 * within `limitMs`.
 */
export async function runChild(
  script: string,
  args: string[],
  marker: string,
  aliveMs: number,
  limitMs: number,
): Promise<ChildOutcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  let limit: NodeJS.Timeout | undefined;
  let alive: NodeJS.Timeout | undefined;
  try {
    const printed = new Promise<void>((done) => {
      child.stdout.on('data', () => {
        if (stdout.includes(marker)) done();
      });
    });
    const first = await Promise.race([
      printed.then(() => 'printed' as const),
      exited.then(() => 'exited' as const),
      new Promise<'limit'>((done) => {
        limit = setTimeout(() => done('limit'), limitMs);
      }),
    ]);
    if (first === 'limit') throw new Error(`the child printed nothing in ${limitMs} ms: ${stdout} ${stderr}`);
    const after = await Promise.race([
      exited,
      new Promise<'running'>((done) => {
        alive = setTimeout(() => done('running'), aliveMs);
      }),
    ]);
    if (after === 'running') return { state: 'running', code: null, signal: null, stdout, stderr };
    return { state: 'exited', ...after, stdout, stderr };
  } finally {
    clearTimeout(limit);
    clearTimeout(alive);
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {}
    }
  }
}
