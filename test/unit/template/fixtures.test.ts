import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createTemplar } from '../../../src/template/index.js';

interface Fixture {
  expr: string;
  vars: Record<string, unknown>;
  expected: unknown;
}

const fixtures: Fixture[] = JSON.parse(readFileSync(new URL('../../fixtures/template/fixtures.json', import.meta.url), 'utf8'));
const templar = createTemplar();

describe('template fixtures produced by ansible-core', () => {
  test('there are at least 220 fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(220);
  });
  test.each(fixtures.map((f, i) => [i, f.expr, f] as const))('#%i %s', (_i, _e, f) => {
    const vars = structuredClone(f.vars);
    let got = templar.render(f.expr, vars);
    // the generator captures values through set_fact, which turns the strings
    // yes/no/true/false into booleans: apply the same step to our result
    if (typeof got === 'string' && typeof f.expected === 'boolean' && /^(yes|no|true|false)$/i.test(got)) {
      got = /^(yes|true)$/i.test(got);
    }
    expect(JSON.parse(JSON.stringify(got))).toEqual(f.expected);
  });
});
