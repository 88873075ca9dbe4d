/** The soak's figures as text: one block per run, one summary line per driver. */
import type { SoakReport } from './soak.js';

const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(x * 100).toFixed(2)} %`);
const mb = (x: number) => `${x.toFixed(1)} MB`;

export function formatReport(r: SoakReport): string {
  const lim = r.limits;
  const lines = [
    `${r.target}: ${r.failedChecks.length === 0 ? 'HELD' : `FAILED (${r.failedChecks.join('; ')})`}`,
    `  ${r.driver} on ${r.server}, Node ${process.versions.node}`,
    `  ${r.calls.toLocaleString('en-US')} calls by ${r.callers} callers in ${(r.durationMs / 1000).toFixed(1)} s, ` +
      `${r.faults.length} faults (${[...new Set(r.faults.map((f) => f.name))].join(', ')})`,
    `  settled: ${r.calls - r.unsettled}/${r.calls}; unhandled rejections / uncaught exceptions: ${r.unhandled.length}; wrong results: ${r.wrongResults}`,
    `  ledger: sum ${r.ledger.sumBefore} -> ${r.ledger.sumAfter}; ${r.ledger.committed} transfers committed, ` +
      `${r.ledger.lostTransfers} lost, ${r.ledger.inconsistentAccounts} accounts off the log, ` +
      `${r.ledger.unknownTransfers} unknown, ${r.ledger.committedButRejected} committed but reported failed (connection lost at COMMIT)`,
    `  server connections: max ${r.maxServerConnections} of bound ${r.bound} (size + maxOverflow) in ${r.samples} samples (max first at ${(r.maxServerAtMs / 1000).toFixed(1)} s)` +
      (r.overBoundSamples > 0 ? `; ${r.overBoundSamples} samples above the bound` : '') +
      `; left out: backends the soak terminated, and ${r.cutLingering} sightings of backends the proxy had cut ` +
      `(up to ${r.cutLingerMaxMs} ms after the cut; grace ${lim.cutGraceMs} ms)`,
    ...r.overBound.map(
      (o) =>
        `    above the bound at ${(o.atMs / 1000).toFixed(2)} s, backend (state): ${o.backends.join('; ')}`,
    ),
    `  after pool.close(): ${r.serverAfterClose} of the run's connections on the server after ${r.closeDrainMs} ms ` +
      `(must be 0 within ${lim.closeDrainMs} ms)`,
    ...(r.leftAfterClose.length > 0 ? [`    left: ${r.leftAfterClose.join('; ')}`] : []),
    `  recovery: first success ${r.recoveryMs === undefined ? 'never' : `${r.recoveryMs} ms`} after the last fault; ` +
      `success rate after that ${pct(r.recoveredSuccessRate)} of ${r.recoveredCalls} queries and transfers ` +
      `(least ${pct(lim.minRecoveredSuccessRate)})` +
      (Object.keys(r.recoveredFailures).length > 0
        ? `; failed: ${Object.entries(r.recoveredFailures)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}`
        : ''),
    `  heap (after GC): ${mb(r.heapBeforeMB)} with the pool warm, ${mb(r.heapAfterMB)} with it closed: ` +
      `${r.heapAfterMB >= r.heapBeforeMB ? '+' : ''}${mb(r.heapAfterMB - r.heapBeforeMB)} (bound +${mb(lim.maxHeapGrowthMB)})`,
  ];
  for (const [kind, k] of Object.entries(r.kinds)) {
    const failed = Object.entries(k.failed)
      .sort((a, b) => b[1] - a[1])
      .map(([key, n]) => `${key} ${n}`)
      .join(', ');
    lines.push(
      `    ${kind.padEnd(8)} ${String(k.calls).padStart(7)} calls, ${String(k.ok).padStart(7)} ok${failed ? `; ${failed}` : ''}`,
    );
  }
  for (const u of r.unhandled.slice(0, 3))
    lines.push(`  unhandled: ${u.split('\n').slice(0, 4).join(' | ')}`);
  return lines.join('\n');
}

/**
 * Per driver over several runs, min–max: every figure of the README's "Reliability" table
 * (runs held, calls, faults, server connections and bound, transfers committed and whether
 * any was lost or doubled, first success after the last fault, success rate after it, heap
 * before and after), and what the other checks saw.
 */
export function formatSummary(reports: readonly SoakReport[]): string {
  const byTarget = new Map<string, SoakReport[]>();
  for (const r of reports) byTarget.set(r.target, [...(byTarget.get(r.target) ?? []), r]);
  const range = (xs: number[], unit = '', digits = 2) => {
    if (xs.length === 0) return 'n/a';
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const f = (x: number) => (Number.isInteger(x) ? x.toLocaleString('en-US') : x.toFixed(digits));
    return lo === hi ? `${f(lo)}${unit}` : `${f(lo)}–${f(hi)}${unit}`;
  };
  const tenth = (x: number) => Math.round(x * 10) / 10;
  const lines: string[] = [];
  for (const [target, rs] of byTarget) {
    const held = rs.filter((r) => r.failedChecks.length === 0).length;
    const lim = rs[0].limits;
    const wrong = rs.reduce(
      (n, r) =>
        n +
        r.ledger.lostTransfers +
        r.ledger.inconsistentAccounts +
        r.ledger.unknownTransfers +
        Math.abs(r.ledger.sumAfter - r.ledger.sumBefore),
      0,
    );
    lines.push(
      `${target}: ${held} of ${rs.length} runs held (${rs[0].driver} on ${rs[0].server}, Node ${process.versions.node})`,
      `  calls per run ${range(rs.map((r) => r.calls))}; faults per run ${range(rs.map((r) => r.faults.length))}; ` +
        `unsettled ${range(rs.map((r) => r.unsettled))}; unhandled ${range(rs.map((r) => r.unhandled.length))}; ` +
        `wrong results ${range(rs.map((r) => r.wrongResults))}`,
      `  server connections max ${range(rs.map((r) => r.maxServerConnections))} (bound ${rs[0].bound}); ` +
        `after pool.close() ${range(rs.map((r) => r.serverAfterClose))} left, gone within ${range(
          rs.map((r) => r.closeDrainMs),
          ' ms',
        )} (limit ${lim.closeDrainMs} ms); backends the proxy had cut seen up to ${range(
          rs.map((r) => r.cutLingerMaxMs),
          ' ms',
        )} after the cut (left out for ${lim.cutGraceMs} ms)`,
      `  transfers committed ${range(rs.map((r) => r.ledger.committed))}, ` +
        `${wrong === 0 ? 'none lost or doubled' : `${wrong} lost, doubled or off the log`} ` +
        `(ledger sum ${range(rs.map((r) => r.ledger.sumAfter))}); committed but reported failed ${range(
          rs.map((r) => r.ledger.committedButRejected),
        )}`,
      `  first success after the last fault ${range(
        rs.flatMap((r) => (r.recoveryMs === undefined ? [] : [r.recoveryMs])),
        ' ms',
      )}; success rate after that ${range(
        rs.flatMap((r) => (r.recoveredSuccessRate === undefined ? [] : [r.recoveredSuccessRate * 100])),
        ' %',
      )} (least ${lim.minRecoveredSuccessRate * 100} %)`,
      `  heap ${range(
        rs.map((r) => tenth(r.heapBeforeMB)),
        ' MB',
        1,
      )} -> ${range(
        rs.map((r) => tenth(r.heapAfterMB)),
        ' MB',
        1,
      )}, growth ${range(
        rs.map((r) => tenth(r.heapAfterMB - r.heapBeforeMB)),
        ' MB',
        1,
      )} (bound ${lim.maxHeapGrowthMB} MB)`,
    );
  }
  return lines.join('\n');
}
