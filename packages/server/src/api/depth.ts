/**
 * How deep a request body's JSON may nest. Deeper bodies are refused before any handler runs:
 * serialising one (to store and sign it, or to clone it to the store's thread) recursed past the
 * stack, and a 60 KB body nested 10,000 levels answered 500. Real event payloads and schemas nest
 * a few levels.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * The path to the first value nested deeper than `max` levels (the body itself is level 1), or
 * undefined. Iterative, so that the check cannot overflow the stack itself.
 */
export function pathTooDeep(body: unknown, max: number): string[] | undefined {
  const stack: { value: unknown; depth: number; path: string[] }[] = [{ value: body, depth: 1, path: [] }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { value, depth, path } = top;
    if (value === null || typeof value !== 'object') continue;
    if (depth > max) return path;
    for (const [key, child] of Object.entries(value)) {
      if (child !== null && typeof child === 'object')
        stack.push({ value: child, depth: depth + 1, path: [...path, key] });
    }
  }
  return undefined;
}
