import type { Contender, ContenderSpec } from './contenders.js';

/**
 * Open the contender named `name` (one per measurement process). One whose code is not
 * there yet (the cistern core before it lands: ERR_MODULE_NOT_FOUND, or a missing export)
 * fails with an error that says so; any other failure to open is rethrown as it is.
 */
export async function openContender(
  specs: readonly ContenderSpec[],
  name: string,
  size: number,
): Promise<Contender> {
  const spec = specs.find((s) => s.name === name);
  if (spec === undefined) {
    throw new RangeError(`no contender '${name}' (contenders: ${specs.map((s) => s.name).join(', ')})`);
  }
  try {
    return await spec.open(size);
  } catch (error) {
    if (!isMissingCode(error)) throw error;
    throw new Error(`${name}: its code is not there: ${(error as Error).message.split('\n')[0]}`, {
      cause: error,
    });
  }
}

function isMissingCode(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND') return true;
  // `createPool is not a function`: src/index.ts exists but does not export it yet.
  return error instanceof TypeError && /is not a function|does not provide an export/.test(error.message);
}
