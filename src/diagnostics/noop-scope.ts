/**
 * The one QueryScope every inactive observer returns (the OpenTelemetry observer
 * with no SDK, the channel publisher with no subscriber), so the composed
 * observer (compose.ts) tells it apart by identity: one compare per query, where a
 * mark looked up on two differently shaped objects cost a megamorphic property load.
 */
import type { QueryScope } from '../pool/driver.js';

export const NOOP_SCOPE: QueryScope = Object.freeze({ end() {} });
