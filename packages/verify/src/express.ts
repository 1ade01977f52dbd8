/**
 * Express adapter. Mount it before any body parser on the webhook route: it reads the raw bytes
 * (signatures are over bytes, not over re-serialised JSON), leaves them in `req.body` as a Buffer
 * and the verified facts in `res.locals.hookwarden` (the event is `res.locals.hookwarden.payload`).
 * A body parsed as raw by `express.raw()` is used as is; one already parsed to an object cannot be
 * verified and is a setup error.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { bodyAlreadyParsed } from './body.ts';
import { type NodeHandlerOptions, readBody, sendError, toVerifyRequest } from './node.ts';
import type { Verified, Verifier } from './verifier.ts';

declare global {
  namespace Express {
    /** Set by expressVerifier on the routes it guards. */
    interface Locals {
      hookwarden?: Verified;
    }
  }
}

/** The locals of a guarded route: the handlers after the verifier see the facts, typed. */
export type ExpressVerifiedLocals<TPayload = unknown> = { hookwarden: Verified<TPayload> };

export function expressVerifier<TPayload = unknown>(
  verifier: Verifier<TPayload>,
  options: NodeHandlerOptions = {},
): RequestHandler<Request['params'], unknown, Buffer, Request['query'], ExpressVerifiedLocals<TPayload>> {
  return async (req, res, next: NextFunction) => {
    try {
      let body: Buffer;
      if (Buffer.isBuffer(req.body)) body = req.body;
      else if (req.readableEnded || (req.body !== undefined && req.body !== null)) {
        throw bodyAlreadyParsed('mount the verifier before body parsers on this route');
      } else body = await readBody(req, options.maxBodyBytes);
      res.locals.hookwarden = await verifier.verify(toVerifyRequest(req, body));
      req.body = body;
    } catch (err) {
      options.onRefused?.(err, req);
      sendError(res as Response, err);
      return;
    }
    next();
  };
}
