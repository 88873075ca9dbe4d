/** generic-pool's own factory check, with its exact TypeError messages. */
export function checkFactory(factory: unknown): void {
  const f = (typeof factory === 'object' && factory !== null ? factory : {}) as Record<string, unknown>;
  if (typeof f.create !== 'function') throw new TypeError('factory.create must be a function');
  if (typeof f.destroy !== 'function') throw new TypeError('factory.destroy must be a function');
  if (f.validate !== undefined && typeof f.validate !== 'function') {
    throw new TypeError('factory.validate must be a function');
  }
}
