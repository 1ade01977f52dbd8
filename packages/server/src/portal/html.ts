import { sanitizeText } from '../checker/render.ts';

/** Markup that is already safe: built by `html`, or produced here on purpose. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text made inert for HTML (text and quoted attribute values). Invisible characters that reorder or
 * hide text (bidi marks, zero-width characters: a receiver's answer or a certificate may carry them)
 * are shown as `\uXXXX`, as the checker's report shows them on a terminal.
 */
export function escapeHtml(text: string): string {
  return sanitizeText(text).replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false || part === true) return '';
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

/** A template whose every value is escaped, unless it is `Html`; lists are joined; null, undefined and booleans vanish. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] as string);
  return new Html(out);
}

/** Markup from a trusted source, as it is. */
export const raw = (markup: string): Html => new Html(markup);

/** An `id` for a label and its field (letters, digits and dashes only). */
export const fieldId = (name: string): string => `f-${name.replace(/[^A-Za-z0-9]+/g, '-')}`;
