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
