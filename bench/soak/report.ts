/** The soak's figures as text: one block per run, one summary line per driver. */
import type { SoakReport } from './soak.js';

const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(x * 100).toFixed(2)} %`);
const mb = (x: number) => `${x.toFixed(1)} MB`;

export function formatReport(r: SoakReport): string {
  const lines = [
    `${r.target}: ${r.failedChecks.length === 0 ? 'HELD' : `FAILED (${r.failedChecks.join('; ')})`}`,
    `  ${r.calls.toLocaleString('en-US')} calls by ${r.callers} callers in ${(r.durationMs / 1000).toFixed(1)} s, ` +
      `${r.faults.length} faults (${[...new Set(r.faults.map((f) => f.name))].join(', ')})`,
    `  settled: ${r.calls - r.unsettled}/${r.calls}; unhandled rejections / uncaught exceptions: ${r.unhandled.length}; wrong results: ${r.wrongResults}`,
    `  ledger: sum ${r.ledger.sumBefore} -> ${r.ledger.sumAfter}; ${r.ledger.committed} transfers committed, ` +
      `${r.ledger.lostTransfers} lost, ${r.ledger.inconsistentAccounts} accounts off the log, ` +
      `${r.ledger.unknownTransfers} unknown, ${r.ledger.committedButRejected} committed but reported failed (connection lost at COMMIT)`,
    `  server connections: max ${r.maxServerConnections} of bound ${r.bound} (size + maxOverflow) in ${r.samples} samples (max first at ${(r.maxServerAtMs / 1000).toFixed(1)} s)`,
    `  recovery: first success ${r.recoveryMs === undefined ? 'never' : `${r.recoveryMs} ms`} after the last fault; ` +
      `success rate after that ${pct(r.recoveredSuccessRate)} of ${r.recoveredCalls} queries and transfers` +
      (Object.keys(r.recoveredFailures).length > 0
        ? ` (failed: ${Object.entries(r.recoveredFailures)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')})`
        : ''),
    `  heap: ${mb(r.heapBeforeMB)} before, ${mb(r.heapAfterMB)} after (settled, after GC)`,
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

/** One line per driver over several runs: the figures of issue 9, min–max. */
export function formatSummary(reports: readonly SoakReport[]): string {
  const byTarget = new Map<string, SoakReport[]>();
  for (const r of reports) byTarget.set(r.target, [...(byTarget.get(r.target) ?? []), r]);
  const range = (xs: number[], unit = '') => {
    if (xs.length === 0) return 'n/a';
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const f = (x: number) => (Number.isInteger(x) ? x.toLocaleString('en-US') : x.toFixed(2));
    return lo === hi ? `${f(lo)}${unit}` : `${f(lo)}–${f(hi)}${unit}`;
  };
  const lines: string[] = [];
  for (const [target, rs] of byTarget) {
    const held = rs.filter((r) => r.failedChecks.length === 0).length;
    lines.push(
      `${target}: ${held}/${rs.length} runs held; calls ${range(rs.map((r) => r.calls))}; ` +
        `max server connections ${range(rs.map((r) => r.maxServerConnections))} (bound ${rs[0].bound}); ` +
        `recovery ${range(
          rs.flatMap((r) => (r.recoveryMs === undefined ? [] : [r.recoveryMs])),
          ' ms',
        )}; ` +
        `success after recovery ${range(
          rs.flatMap((r) => (r.recoveredSuccessRate === undefined ? [] : [r.recoveredSuccessRate * 100])),
          ' %',
        )}; ` +
        `heap ${range(
          rs.map((r) => Math.round(r.heapBeforeMB * 10) / 10),
          ' MB',
        )} -> ${range(
          rs.map((r) => Math.round(r.heapAfterMB * 10) / 10),
          ' MB',
        )}`,
    );
  }
  return lines.join('\n');
}
