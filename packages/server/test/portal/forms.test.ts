import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FormRefused, fieldOf, parseForm } from '../../src/portal/forms.ts';
import { escapeHtml, html, raw } from '../../src/portal/html.ts';
import {
  ENDPOINT_FIELDS,
  ENDPOINT_FORM_FIELDS,
  endpointBodyOf,
  valuesOfForm,
} from '../../src/portal/pages/endpoint-form.ts';

const FIELDS = ENDPOINT_FORM_FIELDS;

test('property: any form body parses, and becomes an endpoint body or a refusal naming fields of the form, never another error', () => {
  const anyForm = fc.oneof(
    fc.string(),
    fc
      .array(
        fc.tuple(
          fc.constantFrom(...FIELDS, 'other', '_csrf'),
          fc.oneof(fc.string(), fc.constantFrom('https://r.example/hook', '5', 'v1a', 'on')),
        ),
      )
      .map((pairs) => new URLSearchParams(pairs).toString()),
  );
  fc.assert(
    fc.property(anyForm, fc.constantFrom('create', 'edit'), (body, mode) => {
      const form = parseForm(body);
      try {
        const out = endpointBodyOf(valuesOfForm(form), mode as 'create' | 'edit');
        return typeof out.url === 'string';
      } catch (err) {
        if (!(err instanceof FormRefused)) throw err;
        const known = new Set([...FIELDS, 'form']);
        return Object.keys(err.errors).every((f) => known.has(f));
      }
    }),
    { numRuns: 300 },
  );
});

test('a refused field is named as the form names it', () => {
  assert.equal(fieldOf(['body', 'url']), 'url');
  assert.equal(fieldOf(['body', 'clientIdentity', 'keyPem'], ENDPOINT_FIELDS), 'clientKeyPem');
  assert.equal(fieldOf(['filterTypes', '0'], ENDPOINT_FIELDS), 'eventTypes');
  assert.equal(fieldOf(['body', 'headers', 'x-a'], ENDPOINT_FIELDS), 'headers');
  assert.throws(
    () => endpointBodyOf(valuesOfForm(parseForm('url=https://r.example/&throttleRate=1e3')), 'create'),
    (e: unknown) => e instanceof FormRefused && 'throttleRate' in e.errors,
  );
  assert.throws(
    () => endpointBodyOf(valuesOfForm(parseForm('url=https://r.example/&clientKeyPem=x')), 'create'),
    (e: unknown) => e instanceof FormRefused && 'clientCertPem' in e.errors,
  );
  assert.deepEqual(
    endpointBodyOf(
      valuesOfForm(parseForm('url=https://r.example/&eventTypes=a&eventTypes=a&channels=x,%20y')),
      'create',
    ),
    {
      url: 'https://r.example/',
      description: '',
      eventTypes: ['a'],
      channels: ['x', 'y'],
      throttleRate: null,
      signatureScheme: 'v1',
      allowHttp: false,
      serverCa: null,
    },
  );
});

test('property: text put in a page is inert, whatever it holds', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const out = html`<p title="${s}">${s}</p>`.value;
      const inner = out.slice('<p title="'.length, -'</p>'.length);
      return (
        !/[<>]/.test(inner.replace('">', '')) && !/"/.test(escapeHtml(s)) && !/[\u202a-\u202e\u2066-\u2069]/.test(out)
      );
    }),
  );
  assert.equal(html`${raw('<b>')}${'<b>'}`.value, '<b>&lt;b&gt;');
  assert.equal(html`${['a', 1, null, undefined, false]}`.value, 'a1');
});
