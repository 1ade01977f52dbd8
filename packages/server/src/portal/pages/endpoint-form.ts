import type { FastifyRequest } from 'fastify';
import { endpointIn, endpointPatch } from '../../api/schemas.ts';
import { validatorCompiler } from '../../api/validation.ts';
import type { EndpointBody } from '../../services/endpoint-input.ts';
import type { EndpointRow, EventTypeRow } from '../../store/types.ts';
import { type FieldErrors, type Form, FormRefused, schemaRefusal, text, ticked } from '../forms.ts';
import { fieldId, type Html, html } from '../html.ts';
import { csrfField, field, formErrors } from './common.ts';

/** What the endpoint form shows: what was typed (or is stored), as text. */
export interface EndpointFormValues {
  url: string;
  description: string;
  eventTypes: string[];
  channels: string;
  throttleRate: string;
  signatureScheme: 'v1' | 'v1a';
  allowHttp: boolean;
  serverCa: string;
  clientCertPem: string;
  clientKeyPem: string;
  clientChainPem: string;
  removeClientIdentity: boolean;
}

/** The form's field behind each location the schema and the services name. */
export const ENDPOINT_FIELDS: Record<string, string> = {
  'clientIdentity.certPem': 'clientCertPem',
  'clientIdentity.keyPem': 'clientKeyPem',
  'clientIdentity.chainPem': 'clientChainPem',
  clientIdentity: 'clientCertPem',
  filterTypes: 'eventTypes',
  rateLimit: 'throttleRate',
  tlsPolicy: 'form',
};

/** The form's fields, in order. */
export const ENDPOINT_FORM_FIELDS = [
  'url',
  'description',
  'eventTypes',
  'channels',
  'throttleRate',
  'signatureScheme',
  'allowHttp',
  'serverCa',
  'clientCertPem',
  'clientKeyPem',
  'clientChainPem',
  'removeClientIdentity',
];

/** One schema for both adapters: the API's, compiled the way the API compiles it. */
const compile = validatorCompiler();
const validators = {
  create: compile({ schema: endpointIn, method: 'POST', url: '', httpPart: 'body' }),
  edit: compile({ schema: endpointPatch, method: 'PATCH', url: '', httpPart: 'body' }),
} as const;

export const valuesOfEndpoint = (e: EndpointRow): EndpointFormValues => ({
  url: e.url,
  description: e.description,
  eventTypes: e.filterTypes ?? [],
  channels: (e.channels ?? []).join(', '),
  throttleRate: e.rateLimit === null ? '' : String(e.rateLimit),
  signatureScheme: e.signing === 'ed25519' ? 'v1a' : 'v1',
  allowHttp: e.allowHttp,
  serverCa: e.serverCaPem ?? '',
  clientCertPem: '',
  clientKeyPem: '',
  clientChainPem: '',
  removeClientIdentity: false,
});

export const blankEndpoint = (): EndpointFormValues => ({
  url: '',
  description: '',
  eventTypes: [],
  channels: '',
  throttleRate: '',
  signatureScheme: 'v1',
  allowHttp: false,
  serverCa: '',
  clientCertPem: '',
  clientKeyPem: '',
  clientChainPem: '',
  removeClientIdentity: false,
});

export function valuesOfForm(form: Form): EndpointFormValues {
  return {
    url: text(form, 'url'),
    description: text(form, 'description'),
    eventTypes: form.getAll('eventTypes').filter((t) => t.length > 0),
    channels: text(form, 'channels'),
    throttleRate: text(form, 'throttleRate'),
    signatureScheme: text(form, 'signatureScheme') === 'v1a' ? 'v1a' : 'v1',
    allowHttp: ticked(form, 'allowHttp'),
    serverCa: text(form, 'serverCa'),
    clientCertPem: text(form, 'clientCertPem'),
    clientKeyPem: text(form, 'clientKeyPem'),
    clientChainPem: text(form, 'clientChainPem'),
    removeClientIdentity: ticked(form, 'removeClientIdentity'),
  };
}

/**
 * The API body the form stands for (a create, or a patch of what the form shows), checked against
 * the API's own schema; throws FormRefused naming the fields. The services check the rest.
 */
export function endpointBodyOf(v: EndpointFormValues, mode: 'create' | 'edit'): EndpointBody {
  const errors: FieldErrors = {};
  let throttle: number | null = null;
  if (v.throttleRate !== '') {
    throttle = /^\d{1,5}$/.test(v.throttleRate) ? Number(v.throttleRate) : Number.NaN;
    if (!Number.isFinite(throttle))
      errors.throttleRate = 'Give a whole number of deliveries per second, or leave it empty.';
  }
  const channels = v.channels.split(/[\s,]+/).filter((c) => c.length > 0);
  const identityGiven = v.clientCertPem !== '' || v.clientKeyPem !== '';
  if (identityGiven && (v.clientCertPem === '' || v.clientKeyPem === '')) {
    errors[v.clientCertPem === '' ? 'clientCertPem' : 'clientKeyPem'] = 'Give the certificate and its key together.';
  }
  if (Object.keys(errors).length > 0) throw new FormRefused(errors);
  const body: EndpointBody = {
    url: v.url,
    description: v.description,
    eventTypes: v.eventTypes.length > 0 ? [...new Set(v.eventTypes)] : null,
    channels: channels.length > 0 ? channels : null,
    throttleRate: throttle,
    signatureScheme: v.signatureScheme,
    allowHttp: v.allowHttp,
    serverCa: v.serverCa === '' ? null : v.serverCa,
  };
  if (identityGiven) {
    body.clientIdentity = {
      certPem: v.clientCertPem,
      keyPem: v.clientKeyPem,
      ...(v.clientChainPem ? { chainPem: v.clientChainPem } : {}),
    };
  } else if (mode === 'edit' && v.removeClientIdentity) body.clientIdentity = null;
  const validate = validators[mode];
  if (!validate(body)) throw schemaRefusal((validate as { errors?: never[] }).errors ?? [], ENDPOINT_FIELDS);
  return body;
}

/** The endpoint form, for a new endpoint or one to change. */
export function endpointForm(
  req: FastifyRequest,
  o: {
    action: string;
    values: EndpointFormValues;
    errors?: FieldErrors;
    eventTypes: readonly EventTypeRow[];
    ownIdentity?: string | null;
    submit: string;
    ed25519: boolean;
  },
): Html {
  const v = o.values;
  const errors = o.errors ?? {};
  const known = new Set(o.eventTypes.map((t) => t.name));
  const types = [...o.eventTypes.map((t) => t.name), ...v.eventTypes.filter((t) => !known.has(t))];
  const typeError = errors.eventTypes;
  const radio = (value: 'v1' | 'v1a', label: string, disabled = false) =>
    html`<label class="choice"><input type="radio" name="signatureScheme" value="${value}"${
      v.signatureScheme === value ? html` checked` : ''
    }${disabled ? html` disabled` : ''}> ${label}</label>`;
  return html`${formErrors(o.errors, ENDPOINT_FORM_FIELDS)}
  <form class="stack" method="post" action="${o.action}" novalidate>
    ${csrfField(req)}
    ${field({ name: 'url', label: 'URL', value: v.url, type: 'url', required: true, errors, hint: 'Where callbacks are sent: https://, which mutual TLS protects.' })}
    ${field({ name: 'description', label: 'Description', value: v.description, errors })}
    <fieldset${typeError ? html` aria-describedby="${fieldId('eventTypes')}-error"` : ''}>
      <legend>Event types</legend>
      <p class="hint">None ticked: every event type.</p>
      <div class="choices">${
        types.length === 0
          ? html`<span class="muted">The catalog has no event types yet.</span>`
          : types.map(
              (t, i) =>
                html`<label class="choice" for="et-${i}"><input type="checkbox" id="et-${i}" name="eventTypes" value="${t}"${
                  v.eventTypes.includes(t) ? html` checked` : ''
                }> ${t}</label>`,
            )
      }</div>
      ${typeError ? html`<span class="error" id="${fieldId('eventTypes')}-error">${typeError}</span>` : ''}
    </fieldset>
    ${field({ name: 'channels', label: 'Channels', value: v.channels, errors, hint: 'Only messages on one of these channels, separated by commas; empty: every channel.' })}
    ${field({ name: 'throttleRate', label: 'Throttle (deliveries per second)', value: v.throttleRate, inputmode: 'numeric', errors, hint: 'Empty: no limit of its own.' })}
    <fieldset>
      <legend>Authentication</legend>
      <p>Every https:// delivery presents the platform's client certificate (mutual TLS): your server can
      require it and check it against the CA bundle on the Security page.</p>
      <div class="field">
        <span id="sig-label" class="label">Signature</span>
        <div class="choices" role="radiogroup" aria-labelledby="sig-label">
          ${radio('v1', 'v1: HMAC-SHA256 with this endpoint’s secret')}
          ${radio('v1a', 'v1a: Ed25519 with the platform’s key', !o.ed25519 && v.signatureScheme !== 'v1a')}
        </div>
        ${errors.signatureScheme ? html`<span class="error">${errors.signatureScheme}</span>` : ''}
      </div>
      <label class="choice"><input type="checkbox" name="allowHttp" id="${fieldId('allowHttp')}"${v.allowHttp ? html` checked` : ''}>
        Allow plain http:// (no TLS: no client certificate, and callbacks readable on the way)</label>
      ${errors.allowHttp ? html`<span class="error">${errors.allowHttp}</span>` : ''}
      ${field({ name: 'serverCa', label: 'Private CA of your server certificate (PEM)', value: v.serverCa, textarea: true, errors, hint: 'Only if your server’s certificate is not from a public CA. Empty: the public roots.' })}
      <details${v.clientCertPem || errors.clientCertPem || errors.clientKeyPem ? html` open` : ''}>
        <summary>Use a client certificate of your own instead of the platform's</summary>
        ${
          o.ownIdentity
            ? html`<p>Now: <span class="wrap">${o.ownIdentity}</span></p>
          <label class="choice"><input type="checkbox" name="removeClientIdentity"${v.removeClientIdentity ? html` checked` : ''}> Go back to the platform’s certificate</label>`
            : ''
        }
        ${field({ name: 'clientCertPem', label: 'Certificate (PEM)', value: v.clientCertPem, textarea: true, errors })}
        ${field({ name: 'clientKeyPem', label: 'Private key (PEM)', value: v.clientKeyPem, textarea: true, errors, hint: 'Kept in the platform’s database and never shown again.' })}
        ${field({ name: 'clientChainPem', label: 'Intermediate certificates (PEM, optional)', value: v.clientChainPem, textarea: true, errors })}
      </details>
    </fieldset>
    <div class="actions"><button type="submit">${o.submit}</button></div>
  </form>`;
}
