/** Start a bench child process (bench/lib/child.ts) and collect what it sends. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage } from './child.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url)).replace(/\.js$/, '.ts');

export interface ChildRequest {
  file: string;
  mode: 'run' | 'measure';
  caseIndex?: number;
  subject?: string;
  quick: boolean;
  data?: unknown;
  repetition?: number;
  timeoutMs: number;
  onProgress(message: string): void;
}

export class ChildFailed extends Error {
  override name = 'ChildFailed';
}

/**
 * Runs one child with this process's Node flags (`--expose-gc --import tsx`); resolves
 * the `results` or `sample` it sends, rejects with its error, its exit without an
 * answer, or a timeout (the child is then killed by its pid).
 */
export function runChild(req: ChildRequest): Promise<unknown> {
  const args = [req.file, req.mode];
  if (req.mode === 'measure') args.push(String(req.caseIndex), req.subject ?? '');
  const child = fork(CHILD, args, {
    execArgv: process.execArgv,
    env: {
      ...process.env,
      BENCH_QUICK: req.quick ? '1' : '0',
      BENCH_DATA: req.data === undefined ? '' : JSON.stringify(req.data),
      BENCH_REPETITION: String(req.repetition ?? 0),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let answer: { ok: true; value: unknown } | { ok: false; error: Error } | undefined;
    const timer = setTimeout(() => {
      answer ??= { ok: false, error: new ChildFailed(`ran longer than ${req.timeoutMs} ms`) };
      child.kill('SIGKILL');
    }, req.timeoutMs);
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'progress') req.onProgress(m.message);
      else if (m.type === 'results') answer ??= { ok: true, value: m.results };
      else if (m.type === 'sample') answer ??= { ok: true, value: m.sample };
      else if (m.type === 'error') {
        const error = new ChildFailed(m.message);
        if (m.stack) error.stack = m.stack;
        answer ??= { ok: false, error };
      }
    });
    child.on('error', (error) => {
      answer ??= { ok: false, error };
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (answer?.ok) resolve(answer.value);
      else reject(answer?.error ?? new ChildFailed(`exited (${signal ?? `code ${code}`}) without an answer`));
    });
  });
}
