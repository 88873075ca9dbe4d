/**
 * The watch the "never printed" tests rely on (test/support/secret-watch.ts) sees every
 * channel a library prints through, every level of an error's cause chain and every pool
 * event, so an assertion that a secret is absent from them can fail.
 */
import { describe, expect, it } from 'vitest';
import { createPool } from '../../src/index.js';
import { FakeDriver } from '../support/fake-driver.js';
import { errorText, expectNoSecret, recordPoolEvents, watchOutput } from '../support/secret-watch.js';

describe('secret watch', () => {
  it('sees console.*, stdout, stderr and process warnings, and lets go of them at stop()', () => {
    const channels: Array<[string, (marker: string) => void]> = [
      ['console.log', (m) => console.log(m)],
      ['console.info', (m) => console.info({ nested: { m } })],
      ['console.warn', (m) => console.warn(m)],
      ['console.error', (m) => console.error(new Error(m))],
      ['console.debug', (m) => console.debug(m)],
      ['console.trace', (m) => console.trace(m)],
      ['console.dir', (m) => console.dir({ m })],
      ['process.stdout.write', (m) => process.stdout.write(`${m}\n`)],
      ['process.stderr.write', (m) => process.stderr.write(Buffer.from(`${m}\n`))],
      ['process.emitWarning', (m) => process.emitWarning(m, { code: 'TEST' })],
    ];
    for (const [channel, print] of channels) {
      const marker = `marker-${channel}-${process.pid}`;
      const watch = watchOutput();
      try {
        print(marker);
      } finally {
        watch.stop();
      }
      expect(watch.text(), channel).toContain(marker);
      expect(() => expectNoSecret([marker], { output: watch.text() }), channel).toThrow(/appeared in output/);
      print(`${marker}-after`);
      expect(watch.text(), channel).not.toContain(`${marker}-after`);
    }
  });

  it("finds a secret anywhere in an error's cause chain, in an AggregateError's members and in own fields", () => {
    const secret = 'deep-secret-2b9c';
    const deep = new Error('outer', {
      cause: new Error('middle', { cause: new AggregateError([new Error(`inner ${secret}`)], 'agg') }),
    });
    expect(errorText(deep)).toContain(secret);
    const field = Object.assign(new Error('plain'), { password: secret });
    expect(errorText(field)).toContain(secret);
    expect(errorText(new Error('nothing here'))).not.toContain(secret);
  });

  it("finds a secret in a pool event's payload, its error's cause included", async () => {
    const secret = 'event-secret-91aa';
    const driver = new FakeDriver();
    driver.controls.connectError = new Error('refused', { cause: new Error(secret) });
    const pool = createPool(driver, { size: 1, maxOverflow: 0, telemetry: false });
    const events = recordPoolEvents(pool);
    try {
      await expect(pool.use(() => 1)).rejects.toThrow();
    } finally {
      await pool.close();
    }
    expect(events.names()).toContain('connectFailed');
    expect(events.text()).toContain(secret);
  });
});
