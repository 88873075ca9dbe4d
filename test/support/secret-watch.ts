/**
 * "Never printed" for the password tests: everything the process prints while a failure
 * happens (console.*, process.stdout.write, process.stderr.write, process.emitWarning), an
 * error's whole text (message, stack, inspect, JSON, every `cause` and AggregateError member),
 * and every pool event's payload, so a test can assert that no secret appears in any of them.
 *
 * ```ts
 * const watch = watchOutput();
 * try { ...the failure... } finally { watch.stop(); }
 * expectNoSecret(secrets, { output: watch.text(), error: errorText(error), events: events.text() });
 * ```
 * The watch records and still lets the text through (it is test output, not swallowed).
 */
import { inspect } from 'node:util';
import { expect, type MockInstance, vi } from 'vitest';
import { POOL_EVENT_NAMES } from '../../src/pool/emitter.js';
import type { Pool } from '../../src/pool/pool.js';

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table'] as const;

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return inspect(value, { depth: 10, showHidden: true });
}

export interface OutputWatch {
  /** Everything printed through any watched channel since the watch started. */
  text(): string;
  /** Restore every spied function (idempotent). */
  stop(): void;
}

/** Spy on every way a library prints: console.*, stdout, stderr, process warnings. */
export function watchOutput(): OutputWatch {
  const seen: string[] = [];
  const record = (channel: string, args: unknown[]): void => {
    seen.push(`[${channel}] ${args.map(show).join(' ')}`);
  };
  const spies: MockInstance[] = [];
  for (const method of CONSOLE_METHODS) {
    const original = console[method].bind(console) as (...args: unknown[]) => void;
    spies.push(
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        record(`console.${method}`, args);
        original(...args);
      }),
    );
  }
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = process[name];
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    spies.push(
      vi.spyOn(stream, 'write').mockImplementation(((...args: unknown[]) => {
        record(`process.${name}.write`, [args[0]]);
        return original(...args);
      }) as typeof stream.write),
    );
  }
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  spies.push(
    vi.spyOn(process, 'emitWarning').mockImplementation(((...args: unknown[]) => {
      record('process.emitWarning', args);
      emitWarning(...args);
    }) as typeof process.emitWarning),
  );
  let stopped = false;
  return {
    text: () => seen.join('\n'),
    stop() {
      if (stopped) return;
      stopped = true;
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/** An error's message, stack, inspect and JSON, and the same for every cause and aggregated error. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  const walk = (e: unknown, depth: number): void => {
    if (depth > 10 || seen.has(e)) return;
    seen.add(e);
    parts.push(show(e));
    if (e === null || typeof e !== 'object') return;
    const err = e as { message?: unknown; stack?: unknown; cause?: unknown; errors?: unknown };
    parts.push(String(err.message), String(err.stack));
    try {
      parts.push(JSON.stringify(e) ?? '');
    } catch {}
    for (const value of Object.values(e)) if (typeof value === 'string') parts.push(value);
    if ('cause' in err) walk(err.cause, depth + 1);
    if (Array.isArray(err.errors)) for (const inner of err.errors) walk(inner, depth + 1);
  };
  walk(error, 0);
  return parts.join('\n');
}

/** Every event a pool emits, as text (payloads inspected, errors with their cause chain). */
export function recordPoolEvents<C>(pool: Pool<C>): { text(): string; names(): string[] } {
  const seen: Array<{ name: string; text: string }> = [];
  for (const name of POOL_EVENT_NAMES) {
    pool.on(name, ((payload: Record<string, unknown>) => {
      const error = payload?.error;
      seen.push({ name, text: `${show(payload)}\n${error === undefined ? '' : errorText(error)}` });
    }) as never);
  }
  return {
    text: () => seen.map((e) => `${e.name}: ${e.text}`).join('\n'),
    names: () => seen.map((e) => e.name),
  };
}

/** No secret in what was printed, in the error's text, or in the pool's events. */
export function expectNoSecret(
  secrets: readonly string[],
  where: { output: string; error?: string; events?: string },
): void {
  for (const secret of secrets) {
    expect(secret.length, 'a secret to look for').toBeGreaterThan(5);
    for (const [place, text] of Object.entries(where)) {
      if (text === undefined) continue;
      expect(text.includes(secret), `the secret '${secret}' appeared in ${place}`).toBe(false);
    }
  }
}
