/**
 * libpq's `target_session_attrs`, shared by the PostgreSQL drivers: the allowed
 * values, the session check libpq runs, and which sessions fit which value.
 * A driver opens each host of a multi-host URL in turn while a connection is
 * being opened, reads these attributes, and keeps the first session that fits.
 */

/** The values other than `any` (which needs no check). */
export type TargetSessionAttrs = 'read-write' | 'read-only' | 'primary' | 'standby' | 'prefer-standby';

/** Every value libpq accepts, in its documentation's order. */
export const SESSION_ATTRS: readonly string[] = [
  'any',
  'read-write',
  'read-only',
  'primary',
  'standby',
  'prefer-standby',
];

/** What libpq looks at: a hot standby (in recovery), and the session's read-only setting. */
export interface SessionAttributes {
  standby: boolean;
  readOnly: boolean;
}

/** libpq's checks as one query, for servers that do not report `in_hot_standby` (before 14). */
export const SESSION_ATTRIBUTES_SQL =
  "select pg_catalog.pg_is_in_recovery() as standby, pg_catalog.current_setting('transaction_read_only') as read_only";

/** The passes over the host list: prefer-standby looks for a standby first, then takes any host. */
export function sessionPasses(want: TargetSessionAttrs): Array<TargetSessionAttrs | 'any'> {
  return want === 'prefer-standby' ? ['standby', 'any'] : [want];
}

/** Does a session with these attributes fit `want` (libpq's meanings)? */
export function fits(want: TargetSessionAttrs | 'any', a: SessionAttributes): boolean {
  switch (want) {
    case 'read-write':
      return !a.readOnly;
    case 'read-only':
      return a.readOnly;
    case 'primary':
      return !a.standby;
    case 'standby':
      return a.standby;
    default:
      return true;
  }
}

/** Why a session was passed over, for the "hosts tried" list. */
export function mismatchReason(want: TargetSessionAttrs | 'any', a: SessionAttributes): string {
  return `${a.standby ? 'a hot standby' : a.readOnly ? 'read-only' : 'read-write'}, not ${want}`;
}
