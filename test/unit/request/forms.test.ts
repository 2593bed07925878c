import { describe, expect, it } from 'vitest';
import { extract, formOf } from '../../../lib/request/forms.js';
import { lastSegment, pointer } from '../../../lib/request/pointer.js';

describe('the form layout table', () => {
  it.each([
    [{ SellerId: 1 }, 'flat'],
    [{ param: {} }, 'envelope'],
    [{ param: 'not an object' }, 'envelope'],
    ['text', 'flat'],
  ])('reads %j as %s', (value, form) => {
    expect(formOf(value)).toBe(form);
  });

  it.each([
    ['flat', { SellerId: 1, RequestId: 'r', userAmountModelList: [] }, ''],
    ['envelope', { requestId: 'r', param: { sellerId: 1, userAmountModelList: [] } }, '/3'],
  ] as const)('takes every field of the %s form from its place, with its pointer', (form, value, base) => {
    const { fields } = extract(value, form, base);
    const seen = (name: keyof typeof fields) => ({ value: fields[name].value, path: fields[name].path });
    expect(seen('sellerId')).toEqual({ value: 1, path: form === 'flat' ? '/SellerId' : '/3/param/sellerId' });
    expect(seen('requestId')).toEqual({ value: 'r', path: form === 'flat' ? '/RequestId' : '/3/requestId' });
    expect(fields.recipients.value).toEqual([]);
    expect(seen('bid')).toEqual({ value: undefined, path: form === 'flat' ? '/Bid' : '/3/param/bid' });
  });
});

describe('JSON pointers', () => {
  it.each([
    [['a', 0, 'b'], '/a/0/b'],
    [['a/b', 'c~d'], '/a~1b/c~0d'],
    [[], ''],
  ] as const)('%j → %s', (segments, path) => {
    expect(pointer('', ...segments)).toBe(path);
  });

  it('gives the last segment back unescaped', () => {
    expect(lastSegment('/x/a~1b~0c')).toBe('a/b~c');
  });
});
