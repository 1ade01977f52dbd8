import type { IncomingMessage } from 'node:http';
import { VerificationError } from '@hookwarden/verify/errors';
import { collectCapped } from '@hookwarden/verify/node';

/**
 * Reads the whole body for signature verification, refusing more than `maxBytes` before buffering
 * it: a declared length is refused at once, an undeclared one as soon as it passes the cap.
 */
export async function readCapped(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    throw new VerificationError('HW_BODY_TOO_LARGE', `the body is ${declared} bytes; the limit is ${maxBytes}`);
  }
  return collectCapped(
    req,
    maxBytes,
    () => new VerificationError('HW_BODY_TOO_LARGE', `the body exceeds ${maxBytes} bytes`),
  );
}
