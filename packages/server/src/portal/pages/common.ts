import type { FastifyRequest } from 'fastify';
import type { Caller } from '../../services/actor.ts';
import type { ApplicationRow } from '../../store/types.ts';
import type { FieldErrors } from '../forms.ts';
import { fieldId, type Html, html } from '../html.ts';
import type { Portal } from '../index.ts';

export type AppParams = { app: string };

/** The session's caller: every portal route but the public ones has one. */
export const callerOf = (req: FastifyRequest): Caller => req.caller;

/** The application the URL names, if the session may act on it (a forged id is refused here). */
export const appOfRequest = (portal: Portal, req: FastifyRequest): Promise<ApplicationRow> =>
  portal.services.applications.resolve(callerOf(req), (req.params as AppParams).app);

/** The form token every form of the page carries. */
export const csrfField = (req: FastifyRequest): Html =>
  html`<input type="hidden" name="_csrf" value="${req.portal.csrf ?? ''}">`;

/** A form that posts to `action`, with its token, and a confirmation asked by the script when given. */
export function postButton(
  req: FastifyRequest,
  action: string,
  label: string,
  o: { fields?: Record<string, string>; confirm?: string; kind?: 'secondary' | 'danger' } = {},
): Html {
  const hidden = Object.entries(o.fields ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);
  return html`<form class="inline" method="post" action="${action}"${o.confirm ? html` data-confirm="${o.confirm}"` : ''}>
    ${csrfField(req)}${hidden}<button type="submit"${o.kind ? html` class="${o.kind}"` : ''}>${label}</button></form>`;
}

/** A labelled form field with its hint and its error, keeping what was typed. */
export function field(o: {
  name: string;
  label: string;
  value?: string;
  type?: 'text' | 'url' | 'datetime-local' | 'password';
  /** The keyboard a phone shows (`numeric`): the server checks what is typed, not the browser. */
  inputmode?: 'numeric';
  textarea?: boolean;
  hint?: string | Html;
  errors?: FieldErrors;
  required?: boolean;
  placeholder?: string;
  autocomplete?: string;
}): Html {
  const id = fieldId(o.name);
  const error = o.errors?.[o.name];
  const described = [o.hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const attrs = html`id="${id}" name="${o.name}"${o.required ? html` required` : ''}${
    described ? html` aria-describedby="${described}"` : ''
  }${error ? html` aria-invalid="true"` : ''}${o.placeholder ? html` placeholder="${o.placeholder}"` : ''}${
    o.autocomplete ? html` autocomplete="${o.autocomplete}" spellcheck="false"` : ''
  }`;
  const input = o.textarea
    ? html`<textarea ${attrs} spellcheck="false">${o.value ?? ''}</textarea>`
    : html`<input type="${o.type ?? 'text'}" ${attrs} value="${o.value ?? ''}"${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}>`;
  return html`<div class="field">
    <label for="${id}">${o.label}</label>
    ${o.hint ? html`<span class="hint" id="${id}-hint">${o.hint}</span>` : ''}
    ${input}
    ${error ? html`<span class="error" id="${id}-error">${error}</span>` : ''}
  </div>`;
}

/** A form's errors that belong to no field of it, above the form. */
export function formErrors(errors: FieldErrors | undefined, fields: readonly string[]): Html {
  const other = Object.entries(errors ?? {}).filter(([name]) => !fields.includes(name));
  const count = Object.keys(errors ?? {}).length;
  if (count === 0) return html``;
  return html`<div class="notice bad" role="alert">
    <p>${count === 1 ? 'One field needs' : `${count} fields need`} a change before this can be saved.</p>
    ${other.length > 0 ? html`<ul>${other.map(([n, m]) => html`<li>${n}: ${m}</li>`)}</ul>` : ''}
  </div>`;
}

/** An instant for people (UTC, to the second), machine-readable too. */
export const when = (ms: number | null | undefined): Html =>
  ms === null || ms === undefined
    ? html`—`
    : html`<time datetime="${new Date(ms).toISOString()}">${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC</time>`;

const STATUS = [
  ['delivered', 'ok'],
  ['pending', 'warn'],
  ['failed', 'bad'],
  ['sending', 'info'],
  ['canceled', 'info'],
] as const;

/** A delivery's or attempt's status (Svix's numbers) as a labelled badge. */
export function statusBadge(status: number): Html {
  const [label, kind] = STATUS[status] ?? ['unknown', 'info'];
  return html`<span class="badge ${kind}">${label}</span>`;
}

/** A `datetime-local` value (UTC) for an instant, and back; undefined for an empty or unreadable one. */
export const toLocalInput = (ms: number): string => new Date(ms).toISOString().slice(0, 16);
export function fromLocalInput(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return undefined;
  const ms = Date.parse(`${value}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Paging links of a list (older and newer pages by iterator). */
export function pager(
  base: string,
  query: URLSearchParams,
  page: { done: boolean; iterator: string | null; prevIterator: string | null },
  first: boolean,
): Html {
  const link = (iterator: string, label: string, rel: string) => {
    const q = new URLSearchParams(query);
    q.set('iterator', iterator);
    return html`<a class="button secondary" rel="${rel}" href="${base}?${q.toString()}">${label}</a>`;
  };
  const newer = !first && page.prevIterator ? link(page.prevIterator, 'Newer', 'prev') : '';
  const older = !page.done && page.iterator ? link(page.iterator, 'Older', 'next') : '';
  return newer || older ? html`<nav class="actions" aria-label="Pages">${newer}${older}</nav>` : html``;
}
