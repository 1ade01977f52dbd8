import type { ErrorObject } from 'ajv';
import { FieldError } from '../errors.ts';

/** A submitted form: every value of every field, as the browser sent them. */
export type Form = URLSearchParams;

/** Parses `application/x-www-form-urlencoded`; any text is a form (URLSearchParams never throws). */
export const parseForm = (body: string): Form => new URLSearchParams(body);

/** A field's value, trimmed; '' when absent. */
export const text = (form: Form, name: string): string => (form.get(name) ?? '').trim();

/** Whether a checkbox was ticked. */
export const ticked = (form: Form, name: string): boolean => form.has(name);

/** What went wrong with the fields of a form, by field name: shown next to each. */
export type FieldErrors = Record<string, string>;

/** A form refused: the errors by field, to render the form again with what was typed. */
export class FormRefused extends Error {
  constructor(readonly errors: FieldErrors) {
    super('the form has errors');
  }
}

/**
 * The form field behind a location the services or the schema name (`["body", "url"]`,
 * `/clientIdentity/certPem`). `names` maps the locations whose field is named otherwise.
 */
export function fieldOf(loc: readonly string[], names: Record<string, string> = {}): string {
  const path = (loc[0] === 'body' ? loc.slice(1) : loc).join('.');
  for (const [prefix, field] of Object.entries(names)) {
    if (path === prefix || path.startsWith(`${prefix}.`)) return field;
  }
  return path.split('.')[0] || 'form';
}

/** A service's refusal of one field, as the form's errors; other errors pass through. */
export function refusalOf(err: unknown, names: Record<string, string> = {}): FormRefused | unknown {
  if (err instanceof FieldError) return new FormRefused({ [fieldOf(err.loc, names)]: sentence(err.reason) });
  return err;
}

/** Schema validation's findings, as the form's errors (the first per field). */
export function schemaRefusal(errors: readonly ErrorObject[], names: Record<string, string> = {}): FormRefused {
  const out: FieldErrors = {};
  for (const e of errors) {
    const missing = (e.params as { missingProperty?: string }).missingProperty;
    const loc = [...e.instancePath.split('/').filter(Boolean), ...(missing ? [missing] : [])];
    const field = fieldOf(loc, names);
    out[field] ??= sentence(e.message ?? 'is invalid');
  }
  return new FormRefused(out);
}

/** "must be an https:// URL" → "Must be an https:// URL." */
function sentence(reason: string): string {
  const s = reason.trim();
  return s.length === 0 ? 'Invalid.' : `${s[0]?.toUpperCase()}${s.slice(1)}${/[.!?]$/.test(s) ? '' : '.'}`;
}
