import { type HookwardenError, tableError, VerificationError } from './errors.ts';

/**
 * The setup error of an adapter that finds the body already consumed or parsed by something
 * mounted before it: the signature is over the bytes as sent, and a re-encoding of a parsed value
 * (or no bytes at all) would check something else. A 500: the app is set up wrong, not the sender.
 */
export function bodyAlreadyParsed(hint: string): HookwardenError {
  return tableError('HW_BODY_ALREADY_PARSED', hint);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as the JSON value it carries. Invalid UTF-8 is refused rather than replaced: the value
 * must be what the signed bytes say. Throws HW_BODY_NOT_JSON, whatever the bytes.
 */
export function parseJsonBody(body: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(body));
  } catch {
    throw new VerificationError('HW_BODY_NOT_JSON');
  }
}

/**
 * Collects a body from its chunks, refusing it as soon as it passes `max` bytes: a chunked body has
 * no length to check up front, and buffering past the cap is what the cap prevents. Throwing out of
 * the loop ends the iteration, which destroys a node stream or cancels a web stream. `tooLarge`
 * makes the caller's own error.
 */
export async function collectCapped(
  chunks: AsyncIterable<Uint8Array>,
  max: number,
  tooLarge: () => Error,
): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.byteLength;
    if (total > max) throw tooLarge();
    parts.push(chunk);
  }
  return Buffer.concat(parts, total);
}
