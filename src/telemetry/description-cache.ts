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

  // the last lookup, kept in fields (no object per miss)
  private lastTarget: DriverTarget | undefined = undefined;
  private lastText = '';
  private lastRaw = false;
  private lastDescription: QueryDescription | undefined = undefined;

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
    // the same text as last time (one query in a loop, a hot statement): a string compare, no hashing
    // (tagged templates render a fresh string per query, which a Map lookup would hash every time)
    const raw = info.unparameterized === true;
    if (this.lastTarget === target && this.lastRaw === raw && this.lastText === text) {
      return this.lastDescription!;
    }
    const description = this.lookup(text, info, target);
    this.lastTarget = target;
    this.lastText = text;
    this.lastRaw = raw;
    this.lastDescription = description;
    return description;
  }

  private lookup(text: string, info: QueryInfo, target: DriverTarget): QueryDescription {
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
