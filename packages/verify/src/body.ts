import { HookwardenError } from './errors.ts';

/**
 * The setup error of an adapter that finds the body already consumed or parsed by something
 * mounted before it: the signature is over the bytes as sent, and a re-encoding of a parsed value
 * (or no bytes at all) would check something else. A 500: the app is set up wrong, not the sender.
 */
export function bodyAlreadyParsed(hint: string): HookwardenError {
  return new HookwardenError('HW_BODY_ALREADY_PARSED', hint, { status: 500 });
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
