/**
 * A module resolve hook: `import ... from 'postgres'` loads the `postgres3` devDependency
 * (`npm:postgres@3.x`), in src/ as in the soak, as vitest.config.ts's alias does under
 * CISTERN_TEST_POSTGRES=3. bench/soak/main.ts registers it (module.register) before it
 * loads anything that imports postgres.js, when CISTERN_TEST_POSTGRES=3.
 */
export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier === 'postgres' ? 'postgres3' : specifier, context);
}
