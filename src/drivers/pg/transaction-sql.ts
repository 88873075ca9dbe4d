/** The statements of transaction control. Only fixed keywords: nothing from the caller is interpolated. */
import type { BeginOptions } from '../../pool/driver.js';
import { isolationSql } from '../../pool/isolation.js';

/** `begin [isolation level ...] [read only]`; throws a TypeError on an unknown isolation level. */
export function beginStatement(options: BeginOptions | undefined): string {
  let text = 'begin';
  const isolation = options?.isolation;
  // the core's table: a TypeError on an unknown level, only fixed words reach the SQL
  if (isolation !== undefined) text += ` isolation level ${isolationSql(isolation)}`;
  if (options?.readOnly) text += ' read only';
  return text;
}

export const COMMIT = 'commit';
export const ROLLBACK = 'rollback';
