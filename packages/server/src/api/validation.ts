import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats ships CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv,
) => Ajv;

const common: Options = { allErrors: true, useDefaults: true, removeAdditional: false, keywords: ['x-hookwarden'] };

/**
 * Query strings and path parameters arrive as text, so they are coerced to the schema's types;
 * JSON bodies are not: `{"rateLimit": "5"}` is a client bug and gets a 422, as the Svix API does.
 */
/**
 * ajv's `date-time` also accepts a leap second (`2016-12-31T23:59:60Z`), which `Date` cannot hold:
 * parsed, it gave NaN bounds, empty lists and a 500. A time must parse to an instant.
 */
function withFormats(ajv: Ajv): Ajv {
  addFormats(ajv);
  const rfc3339 = ajv.formats['date-time'] as { validate: (s: string) => boolean };
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) => rfc3339.validate(s) && Number.isFinite(Date.parse(s)),
  });
  return ajv;
}

export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = withFormats(new Ajv({ ...common, coerceTypes: false }));
  const coercing = withFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object);
}
