import type { Contender, ContenderSpec } from './contenders.js';

/**
 * Open every contender; one whose code is not there yet (the cistern core
 * before it lands: ERR_MODULE_NOT_FOUND, or a missing export) is left out with
 * a warning on stderr. Any other failure to open is a real failure and throws.
 */
export async function openContenders(specs: readonly ContenderSpec[], size: number): Promise<Contender[]> {
  const opened: Contender[] = [];
  for (const spec of specs) {
    try {
      opened.push(await spec.open(size));
    } catch (error) {
      if (!isMissingCode(error)) throw error;
      if (!warned.has(spec.name)) {
        warned.add(spec.name);
        console.error(`warning: ${spec.name} left out: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  }
  return opened;
}

const warned = new Set<string>();

function isMissingCode(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND') return true;
  // `createPool is not a function`: src/index.ts exists but does not export it yet.
  return error instanceof TypeError && /is not a function|does not provide an export/.test(error.message);
}
