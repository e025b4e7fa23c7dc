import { describe, expect, test } from 'vitest';
import { Unsafe } from '../../../src/loader/unsafe.js';
import { createTemplar, lazyVars, trackUnsafe } from '../../../src/template/index.js';

const t = createTemplar();

describe('trackUnsafe: a value rendered from an unsafe one is flagged', () => {
  const layers = () => ({
    r: { stdout: new Unsafe('{{ x }}'), rc: 0 },
    u: new Unsafe('{{ x }}'),
    x: 'SUBST',
    viaVar: '{{ r.stdout }}',
    safe: 'plain {{ x }}',
  });

  test('reading an unsafe value gives it back verbatim and flags the render', () => {
    const v = lazyVars(layers(), t);
    const a = trackUnsafe(() => t.render('a-{{ r.stdout }}-b', v));
    expect(a).toEqual({ value: 'a-{{ x }}-b', unsafe: true });
    expect(trackUnsafe(() => t.render('{{ u | upper }}', v))).toEqual({ value: '{{ X }}', unsafe: true });
    expect(trackUnsafe(() => t.render('{{ r.stdout | to_json }}', v))).toEqual({ value: '"{{ x }}"', unsafe: true });
  });

  test('safe variables are not flagged', () => {
    const v = lazyVars(layers(), t);
    expect(trackUnsafe(() => t.render('{{ safe }}', v))).toEqual({ value: 'plain SUBST', unsafe: false });
    expect(trackUnsafe(() => t.render("{{ '{{' }} x }}", v))).toEqual({ value: '{{ x }}', unsafe: false });
  });

  test('a variable whose template read an unsafe value is flagged, also once cached', () => {
    const v = lazyVars(layers(), t);
    expect(t.render('{{ viaVar }}', v)).toBe('{{ x }}');
    expect(trackUnsafe(() => t.render('{{ viaVar }}', v)).unsafe).toBe(true);
  });

  test('nested tracking passes a hit to the outer call only', () => {
    const v = lazyVars(layers(), t);
    const outer = trackUnsafe(() => {
      const inner = trackUnsafe(() => t.render('{{ x }}', v));
      expect(inner.unsafe).toBe(false);
      return trackUnsafe(() => t.render('{{ u }}', v)).unsafe;
    });
    expect(outer).toEqual({ value: true, unsafe: true });
  });
});
