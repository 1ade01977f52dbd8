import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { idFloor, newId } from '../src/ids.ts';

const SHAPE = /^atmpt_[0-9A-HJKMNP-TV-Z]{26}$/;

test('ids carry their prefix, 26 Crockford base32 digits and the millisecond they were made in', () => {
  const id = newId('atmpt', Date.UTC(2026, 0, 2));
  assert.match(id, SHAPE);
  const again = newId('msg', Date.UTC(2026, 0, 3));
  assert.match(again, /^msg_[0-9A-HJKMNP-TV-Z]{26}$/);
  // The first ten digits encode the millisecond, so later ids sort after earlier ones across prefixes.
  assert.equal(decode(id.slice(6, 16)), Date.UTC(2026, 0, 2));
  assert.equal(decode(again.slice(4, 14)), Date.UTC(2026, 0, 3));
  assert.ok(again.slice(4, 14) > id.slice(6, 16));
});

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const decode = (digits: string) => [...digits].reduce((n, d) => n * 32 + ALPHABET.indexOf(d), 0);

test('ids made with a non-decreasing clock sort in creation order and never repeat', () => {
  let start = Date.UTC(2030, 0, 1);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 600 }), (steps) => {
      // Each run starts on a later clock, past any an earlier test used.
      start += 10_000;
      let at = start;
      const ids = steps.map((step) => {
        at += step;
        return newId('atmpt', at);
      });
      for (let i = 1; i < ids.length; i++) {
        if (!((ids[i] as string) > (ids[i - 1] as string))) return false;
      }
      return ids.every((id) => SHAPE.test(id));
    }),
  );
});

test('a clock that steps back keeps ids increasing', () => {
  const first = newId('atmpt', Date.UTC(2040, 0, 1));
  const second = newId('atmpt', Date.UTC(2039, 0, 1));
  assert.ok(second > first);
});

test('idFloor bounds a time window: ids made at or after an instant sort at or above its floor, earlier ones below', () => {
  let clock = Date.UTC(2040, 0, 1);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 0, max: 3 }), (gap, extra) => {
      // A clock that only moves forward, past any instant an earlier test used, as newId needs.
      clock += 10_000;
      const before = clock;
      const made = before + gap;
      const early = newId('msg', before);
      assert.ok(early < idFloor('msg', before + 1) && early < idFloor('msg', made), `${early} is below the floor`);
      const ids = Array.from({ length: extra + 1 }, () => newId('msg', made));
      for (const id of ids) {
        assert.ok(id >= idFloor('msg', made), `${id} is at or after its own instant`);
        assert.ok(id < idFloor('msg', made + 1), `${id} is before the next millisecond`);
        assert.ok(id >= idFloor('msg', before + 1) && id.length === idFloor('msg', made).length + 16);
      }
      assert.ok(newId('msg', made) > idFloor('msg', made));
      assert.ok(idFloor('msg', before) < idFloor('msg', made));
    }),
    { numRuns: 200 },
  );
});
