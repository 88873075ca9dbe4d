/** A cistern pool over the real PostgreSQL leaves postgres.js's `Query` class optimizable (issue 11). */
import { describe, expect, it } from 'vitest';
import { queryClassState } from '../support/query-class.js';
import { PG_URL, serverAvailable } from '../support/servers.js';

const up = await serverAvailable('PostgreSQL', PG_URL, 'PG_URL');

describe.skipIf(!up)("postgres.js's Query class under a pool", () => {
  it('opening a connection gives the class fast properties; V8 optimizes its constructor', () => {
    const state = queryClassState('pool', PG_URL);
    expect(state.fastAfter).toBe(true);
    expect(state.optimized, `optimization status ${state.status}`).toBe(true);
  }, 60_000);
});
