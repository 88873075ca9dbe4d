/**
 * The short soak (issue 9): every SQL driver in bench/soak/targets.ts (postgres.js 3 in
 * the CISTERN_TEST_POSTGRES=3 run, the others in the default one), 48 callers
 * for 13 s through the fault proxy (one cut, slow chunks, a backend kill, a stall,
 * an RST cut, a refusal in the first 7 s), then 6 s without faults. Checks what `npm run soak`
 * checks (every call settles, nothing unhandled, the ledger holds, the server never
 * sees more than size + maxOverflow of the run's connections and none of them once the
 * pool is closed, calls succeed again after the last fault at the success rate of
 * DEFAULT_LIMITS (at least 90 %), the heap does not grow beyond its bound) and prints
 * the figures. `npm run soak` is the long version.
 *
 * The fault-free tail is 6 s, not 4: CI runs two Node versions' suites side by side on
 * two cores, and once a soak there saw only 205 calls start after recovery, 24 of which
 * waited out the 2 s acquire timeout behind the reconnects (88 %); a longer tail rates
 * recovery on more calls, and the reconnect transient weighs less.
 */
import { describe, expect, it } from 'vitest';
import { formatReport } from '../../bench/soak/report.js';
import { runSoak } from '../../bench/soak/soak.js';
import { LOADED_POSTGRES_JS_MAJOR, SOAK_TARGETS } from '../../bench/soak/targets.js';
import { serverAvailable } from '../support/servers.js';

for (const target of SOAK_TARGETS) {
  // one postgres.js major per process: `postgres.js 3` runs in the CISTERN_TEST_POSTGRES=3 run
  // (.ci/run), the targets that need no postgres.js only in the default run
  const major = target.postgresJsMajor ?? 4;
  if (major !== LOADED_POSTGRES_JS_MAJOR) {
    describe.skip(`soak: ${target.name} (runs where postgres.js ${major} is loaded: CISTERN_TEST_POSTGRES=${major})`, () => {
      it('every call settles, nothing is unhandled, the ledger and the connection bound hold', () => {});
    });
    continue;
  }
  const available = await serverAvailable(target.server, target.serverUrl, target.urlVariable);
  describe.skipIf(!available)(`soak: ${target.name} through the fault proxy`, () => {
    it('every call settles, nothing is unhandled, the ledger and the connection bound hold', async () => {
      const report = await runSoak(target, { durationMs: 13_000, recoveryMs: 6000 });
      console.log(formatReport(report));
      expect(report.failedChecks, formatReport(report)).toEqual([]);
      // the figures the checks rest on, asserted directly too
      expect(report.calls).toBeGreaterThan(200);
      expect(report.faults.map((f) => f.name)).toContain('backend kill');
      expect(report.ledger.committed).toBeGreaterThan(0);
      expect(report.ledger.sumAfter).toBe(report.ledger.sumBefore);
      expect(report.maxServerConnections).toBeGreaterThan(0);
      expect(report.maxServerConnections).toBeLessThanOrEqual(report.bound);
      expect(report.recoveredSuccessRate).toBeGreaterThanOrEqual(0.9);
      expect(report.limits.minRecoveredSuccessRate).toBeGreaterThanOrEqual(0.9);
      expect(report.serverAfterClose).toBe(0);
      expect(report.heapAfterMB - report.heapBeforeMB).toBeLessThanOrEqual(report.limits.maxHeapGrowthMB);
    }, 60_000);
  });
}
