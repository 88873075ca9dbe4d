import type { DriverTarget, QueryInfo } from '../pool/driver.js';
import { describeQuery, type QueryDescription } from './attributes.js';

const LIMIT = 256;

/**
 * Per-pool cache of query descriptions. The common case (a driver handing over
 * text only, the same few texts again and again) costs one map lookup; anything
 * richer (operation, collection, batch) is described afresh, which is cheap.
 */
export class DescriptionCache {
  private readonly byTarget = new WeakMap<
    DriverTarget,
    { parameterized: Map<string, QueryDescription>; raw: Map<string, QueryDescription> }
  >();

  constructor(
    private readonly poolName: string,
    private readonly captureText: boolean,
  ) {}

  describe(info: QueryInfo, target: DriverTarget): QueryDescription {
    const text = info.text;
    if (
      text === undefined ||
      info.operation !== undefined ||
      info.collection !== undefined ||
      info.namespace !== undefined ||
      info.batchSize !== undefined
    ) {
      return describeQuery(info, target, this.poolName, this.captureText);
    }
    let maps = this.byTarget.get(target);
    if (maps === undefined) {
      maps = { parameterized: new Map(), raw: new Map() };
      this.byTarget.set(target, maps);
    }
    const map = info.unparameterized ? maps.raw : maps.parameterized;
    let description = map.get(text);
    if (description === undefined) {
      description = describeQuery(info, target, this.poolName, this.captureText);
      if (map.size >= LIMIT) map.clear();
      map.set(text, description);
    }
    return description;
  }
}
