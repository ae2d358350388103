import { describe, expect, test } from 'vitest';
import { isPlaceholder } from '../../src/actions/types.js';
import {
  evaluateWhen,
  referencesIn,
  render,
  SKIPPED,
  SkippedDependency,
  TemplateSyntaxError,
  type TemplateScope,
} from '../../src/playbook/templates.js';

const outputs: Record<string, Record<string, unknown> | typeof SKIPPED> = {
  'stop-old': { lsn: '0/3000028' },
  promote: { lsn: '0/4000000', count: 7 },
  'fence-ip': SKIPPED,
};

const scope: TemplateScope = {
  params: { to: 'web2', from: null, mode: 'promote', lag: 1024, dry: false },
  inventory: { database: { port: 5432, hosts: ['web1', 'web2'] }, site: 'wiki' },
  stepOutput(id, name) {
    const found = outputs[id];
    if (found === SKIPPED) return SKIPPED;
    return found?.[name];
  },
};

describe('render', () => {
  test('a string that is exactly one template keeps the value type', () => {
    expect(render('{{ params.lag }}', scope)).toBe(1024);
    expect(render('{{params.dry}}', scope)).toBe(false);
    expect(render('{{ inventory.database.port }}', scope)).toBe(5432);
    expect(render('{{ inventory.database.hosts }}', scope)).toEqual(['web1', 'web2']);
    expect(render('{{ steps.promote.count }}', scope)).toBe(7);
  });

  test('mixed text becomes a string', () => {
    expect(render('port {{ inventory.database.port }} on {{ inventory.database.hosts[1] }}', scope)).toBe('port 5432 on web2');
    expect(render('from={{ params.from }}.', scope)).toBe('from=.');
  });

  test('walks arrays and objects, leaves other values alone', () => {
    expect(render({ to: '{{ params.to }}', list: ['{{ steps.stop-old.lsn }}', 3], keep: true, none: null }, scope)).toEqual({
      to: 'web2',
      list: ['0/3000028', 3],
      keep: true,
      none: null,
    });
  });

  test('an output not produced yet renders as a placeholder', () => {
    const value = render('{{ steps.wait.lsn }}', scope);
    expect(value).toBe('<steps.wait.lsn>');
    expect(isPlaceholder(value)).toBe(true);
  });

  test('an output of a skipped step throws SkippedDependency', () => {
    expect(() => render({ a: ['x {{ steps.fence-ip.done }}'] }, scope)).toThrow(SkippedDependency);
    try {
      render('{{ steps.fence-ip.done }}', scope);
    } catch (error) {
      expect((error as SkippedDependency).stepId).toBe('fence-ip');
    }
  });

  test('malformed templates throw TemplateSyntaxError', () => {
    expect(() => render('{{ params.to', scope)).toThrow(TemplateSyntaxError);
    expect(() => render('params.to }}', scope)).toThrow(TemplateSyntaxError);
    expect(() => render('{{ env.HOME }}', scope)).toThrow(TemplateSyntaxError);
    expect(() => render('{{ }}', scope)).toThrow(TemplateSyntaxError);
  });

  test('single braces are plain text', () => {
    expect(render("awk '{print $1}' ${HOME}", scope)).toBe("awk '{print $1}' ${HOME}");
  });
});

describe('referencesIn', () => {
  test('lists references in order, once each', () => {
    expect(
      referencesIn({ host: '{{ params.to }}', with: ['{{ steps.stop-old.lsn }} {{ params.to }}', 5], when: null }),
    ).toEqual(['params.to', 'steps.stop-old.lsn']);
    expect(referencesIn('no templates')).toEqual([]);
  });
});

describe('evaluateWhen', () => {
  test('every reference must equal its value, compared as strings', () => {
    expect(evaluateWhen({}, scope)).toBe(true);
    expect(evaluateWhen({ 'params.mode': 'promote' }, scope)).toBe(true);
    expect(evaluateWhen({ 'params.mode': 'promote', 'params.to': 'web1' }, scope)).toBe(false);
    expect(evaluateWhen({ 'params.lag': '1024', 'params.dry': false }, scope)).toBe(true);
    expect(evaluateWhen({ 'inventory.database.port': 5432 }, scope)).toBe(true);
    expect(evaluateWhen({ 'params.from': '' }, scope)).toBe(true);
  });

  test('a reference to a skipped step output throws SkippedDependency', () => {
    expect(() => evaluateWhen({ 'steps.fence-ip.done': 'yes' }, scope)).toThrow(SkippedDependency);
  });
});
