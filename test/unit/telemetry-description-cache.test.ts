import { describe, expect, it } from 'vitest';
import { DescriptionCache } from '../../src/telemetry/description-cache.js';

const A = { system: 'postgresql', host: 'h', port: 1, database: 'a' };
const B = { system: 'postgresql', host: 'h', port: 1, database: 'b' };

describe('DescriptionCache', () => {
  it('a repeated text (even a fresh string of it) gets the same description', () => {
    const cache = new DescriptionCache('p', true);
    const first = cache.describe({ text: 'select $1' }, A);
    expect(cache.describe({ text: ['select', '$1'].join(' ') }, A)).toBe(first);
    expect(first.spanAttributes['db.query.text']).toBe('select $1');
  });

  it('the last-hit shortcut never mixes targets, texts or sanitizing', () => {
    const cache = new DescriptionCache('p', true);
    const param = cache.describe({ text: "select 'x'" }, A);
    const raw = cache.describe({ text: "select 'x'", unparameterized: true }, A);
    expect(param.spanAttributes['db.query.text']).toBe("select 'x'");
    expect(raw.spanAttributes['db.query.text']).toBe('select ?');
    expect(cache.describe({ text: "select 'x'" }, B).spanAttributes['db.namespace']).toBe('b');
    expect(cache.describe({ text: "select 'x'" }, A)).toBe(param);
    expect(cache.describe({ text: 'select 2' }, A).spanAttributes['db.query.text']).toBe('select 2');
    expect(cache.describe({ text: "select 'x'", unparameterized: true }, A)).toBe(raw);
  });
});
