import { describe, expect, test } from 'vitest';
import { MIN_SECRET_LENGTH, SecretMask } from '../../src/reporters/mask.js';
import { printable } from '../../src/reporters/printable.js';

describe('SecretMask', () => {
  test('masks every occurrence, a secret that contains another whole, and 3-character secrets', () => {
    const mask = new SecretMask();
    mask.add('abc');
    mask.add('xabcx');
    mask.add(undefined);
    mask.add('');
    expect(mask.redact('abc xabcx abcabc')).toBe('*** *** ******');
    expect(mask.size).toBe(2);
  });

  test('1- and 2-character values are not masked: that would mangle every line', () => {
    const mask = new SecretMask();
    mask.add('a');
    mask.add('42');
    expect(MIN_SECRET_LENGTH).toBe(3);
    expect(mask.size).toBe(0);
    expect(mask.redact('a step took 42 ms')).toBe('a step took 42 ms');
  });
});

describe('printable', () => {
  test('escapes terminal control characters, C1 controls and bidirectional overrides', () => {
    expect(printable('\u001b[31mred\u001b[0m\r\n\t\u0007\u009b\u202e')).toBe('\\x1b[31mred\\x1b[0m\\r\\n\\t\\x07\\x9b\\u202e');
  });

  test('keeps newlines when asked (stack traces), and plain text as it is', () => {
    expect(printable('a\nb\u001b', { keepNewlines: true })).toBe('a\nb\\x1b');
    expect(printable('héllo — "quoted" {{ params.x }}')).toBe('héllo — "quoted" {{ params.x }}');
  });
});
