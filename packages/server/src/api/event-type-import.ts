import { parse as parseYaml } from 'yaml';
import { invalidField } from './context.ts';

/** An event type as an OpenAPI document's webhooks describe it (Svix's `EventTypeFromOpenApi`). */
export interface EventTypeFromOpenApi {
  name: string;
  description: string;
  deprecated: boolean;
  groupName: string | null;
  /** Svix's versioned form: the payload's JSON Schema under "1", with any examples in it. */
  schemas: { '1': Record<string, unknown> } | null;
}

const NAME = /^[a-zA-Z0-9\-_.]{1,256}$/;
/** Bounds what one import may ask of the server: a larger document is refused, not walked. */
const MAX_EVENT_TYPES = 1000;
const MAX_DEPTH = 64;
/**
 * Values an import may produce in all, `$ref`s inlined: refs that each repeat the next several
 * times would otherwise expand exponentially (a small document, an enormous schema).
 */
const MAX_NODES = 200_000;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The spec as sent: `spec` (already JSON) or `specRaw` (JSON or YAML text), exactly one of them.
 * Every problem is a 422 naming the field.
 */
export function specOf(body: { spec?: unknown; specRaw?: string | null }): Json {
  const given = [body.spec, body.specRaw].filter((v) => v !== undefined && v !== null).length;
  if (given !== 1) throw invalidField(['body', 'spec'], 'give exactly one of spec and specRaw');
  let spec: unknown = body.spec;
  if (typeof body.specRaw === 'string') {
    try {
      // YAML 1.2 is a superset of JSON: one parser reads both. Aliases are bounded by the library.
      spec = parseYaml(body.specRaw, { maxAliasCount: 100 });
    } catch (err) {
      throw invalidField(['body', 'specRaw'], `is neither JSON nor YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (!isObject(spec)) throw invalidField(['body', 'spec'], 'must be an OpenAPI document (an object)');
  return spec;
}

/**
 * The event types a document's `webhooks` (OpenAPI 3.1) or `x-webhooks` (3.0) define: one per
 * entry, named by its key, from its `post` operation: `description` (else `summary`),
 * `deprecated`, `x-svix-group-name`, and the JSON request body's schema with local `$ref`s
 * inlined and the body's examples attached.
 */
export function eventTypesFromOpenApi(spec: Json): EventTypeFromOpenApi[] {
  const field = isObject(spec.webhooks) ? 'webhooks' : 'x-webhooks';
  const webhooks = spec[field];
  if (!isObject(webhooks)) throw invalidField(['body', 'spec', 'webhooks'], 'is missing: nothing to import');
  const entries = Object.entries(webhooks);
  if (entries.length > MAX_EVENT_TYPES) {
    throw invalidField(['body', 'spec', field], `holds more than ${MAX_EVENT_TYPES} webhooks`);
  }
  const budget = { left: MAX_NODES };
  return entries.map(([name, item]) => {
    const loc = ['body', 'spec', field, name.slice(0, 100)];
    if (!NAME.test(name)) throw invalidField(loc, 'is not a valid event type name ([a-zA-Z0-9-_.], up to 256)');
    const op = isObject(item) ? item.post : undefined;
    if (!isObject(op)) throw invalidField(loc, 'has no post operation');
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const description = text(op.description) ?? text(op.summary) ?? '';
    if (description.length > 4096) throw invalidField([...loc, 'description'], 'is longer than 4096 characters');
    const group = op['x-svix-group-name'];
    if (typeof group === 'string' && group.length > 256) {
      throw invalidField([...loc, 'x-svix-group-name'], 'is longer than 256 characters');
    }
    return {
      name,
      description,
      deprecated: op.deprecated === true,
      groupName: typeof group === 'string' && group.length > 0 ? group : null,
      schemas: schemaOf(spec, op, loc, budget),
    };
  });
}

function schemaOf(spec: Json, op: Json, loc: string[], budget: { left: number }): EventTypeFromOpenApi['schemas'] {
  const body = resolve(spec, op.requestBody, [...loc, 'requestBody']);
  const media = isObject(body) && isObject(body.content) ? body.content['application/json'] : undefined;
  if (!isObject(media) || !isObject(media.schema)) return null;
  const schema = inline(spec, media.schema, [...loc, 'schema'], new Set(), 0, budget) as Json;
  const examples: unknown[] = [];
  if (media.example !== undefined) examples.push(media.example);
  if (isObject(media.examples)) {
    for (const e of Object.values(media.examples)) {
      const ex = resolve(spec, e, [...loc, 'examples']);
      if (isObject(ex) && ex.value !== undefined) examples.push(ex.value);
    }
  }
  if (schema.example !== undefined && examples.length === 0) examples.push(schema.example);
  return { '1': examples.length > 0 ? { ...schema, examples } : schema };
}

/** Follows one local `$ref` (and the refs it leads to); anything else is returned as is. */
function resolve(spec: Json, node: unknown, loc: string[]): unknown {
  let current = node;
  for (let hops = 0; isObject(current) && typeof current.$ref === 'string'; hops++) {
    if (hops >= MAX_DEPTH) throw invalidField(loc, 'has $refs that lead in a circle');
    current = pointer(spec, current.$ref, loc);
  }
  return current;
}

/**
 * A copy of `node` with every local `$ref` replaced by what it points at. A schema that contains
 * itself cannot be inlined: the ref back into it is kept as it was.
 */
function inline(
  spec: Json,
  node: unknown,
  loc: string[],
  open: Set<string>,
  depth: number,
  budget: { left: number },
): unknown {
  if (depth > MAX_DEPTH) throw invalidField(loc, `nests deeper than ${MAX_DEPTH}`);
  if (--budget.left < 0) throw invalidField(loc, `expands to more than ${MAX_NODES} values with its $refs inlined`);
  if (Array.isArray(node)) return node.map((v) => inline(spec, v, loc, open, depth + 1, budget));
  if (!isObject(node)) return node;
  const ref = node.$ref;
  if (typeof ref === 'string') {
    if (open.has(ref)) return node;
    const target = pointer(spec, ref, loc);
    const inner = new Set(open).add(ref);
    return inline(spec, target, loc, inner, depth + 1, budget);
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = inline(spec, v, loc, open, depth + 1, budget);
  return out;
}

/** A JSON pointer into the document itself (`#/components/schemas/Pet`); other refs are refused. */
function pointer(spec: Json, ref: string, loc: string[]): unknown {
  if (!ref.startsWith('#/')) throw invalidField(loc, `refers outside the document (${ref.slice(0, 100)})`);
  let at: unknown = spec;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isObject(at) || !Object.hasOwn(at, key)) throw invalidField(loc, `refers to nothing (${ref.slice(0, 100)})`);
    at = at[key];
  }
  return at;
}
