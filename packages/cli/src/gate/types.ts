// The part of @hookwarden/verify's contract the gate relies on: whatever verifier it is given.
export interface TlsFacts {
  encrypted: true;
  authorized: boolean;
  authorizationError?: string;
  peerCertificates: string[];
  protocol?: string;
  cipher?: string;
}

export interface GateRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
  remoteAddress: string;
  tls?: TlsFacts;
}

export interface GateFacts {
  checks: string[];
  identity?: { subject: string; dnsNames: string[]; fingerprintSha256: string; source: string };
  clientIp: string;
  webhookId?: string;
  timestamp?: number;
}

export interface GateVerifier {
  verify(req: GateRequest): Promise<GateFacts>;
}
