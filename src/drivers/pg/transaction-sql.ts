/** The statements of transaction control. Only fixed keywords: nothing from the caller is interpolated. */
import type { BeginOptions, IsolationLevel } from '../../pool/driver.js';

const ISOLATION: Record<IsolationLevel, string> = {
  'read uncommitted': ' isolation level read uncommitted',
  'read committed': ' isolation level read committed',
  'repeatable read': ' isolation level repeatable read',
  serializable: ' isolation level serializable',
};

/** `begin [isolation level ...] [read only]`; throws a TypeError on an unknown isolation level. */
export function beginStatement(options: BeginOptions | undefined): string {
  let text = 'begin';
  const isolation = options?.isolation;
  if (isolation !== undefined) {
    const clause = Object.hasOwn(ISOLATION, isolation) ? ISOLATION[isolation] : undefined;
    if (clause === undefined) {
      throw new TypeError(
        `unknown isolation level ${JSON.stringify(isolation)}: expected one of ${Object.keys(ISOLATION).join(', ')}`,
      );
    }
    text += clause;
  }
  if (options?.readOnly) text += ' read only';
  return text;
}

export const COMMIT = 'commit';
export const ROLLBACK = 'rollback';
