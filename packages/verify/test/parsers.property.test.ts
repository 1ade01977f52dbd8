/** Every parser of untrusted input either returns or throws VerificationError: never anything else. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { createHierarchy } from '@hookwarden/pki';
import fc from 'fast-check';
import { VerificationError } from '../src/errors.ts';
import { parseForwarded, parseXForwardedFor, resolveClientAddress } from '../src/forwarded.ts';
import { cidrContains, IpSet, parseCidr, parseIp } from '../src/ip.ts';
import { PROXY_PARSERS, parseXfcc } from '../src/proxy-headers/index.ts';
import { createVerifier, type Verifier, type VerifyRequest } from '../src/verifier.ts';

const RUNS = { numRuns: 400 };

function onlyVerificationError(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof VerificationError) return true;
    throw err;
  }
}

/** Strings biased toward the separators and escapes these formats care about. */
const tricky = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc
    .array(
      fc.constantFrom(
        ',',
        ';',
        '=',
        '"',
        '\\',
        ' ',
        ':',
        '[',
        ']',
        '%',
        'for',
        'By',
        'Hash',
        'Cert',
        'a',
        '1',
        '::ffff:',
        '10.0.0.1',
        '_x',
        'unknown',
        '%E0',
        '-----BEGIN CERTIFICATE-----',
      ),
      { maxLength: 24 },
    )
    .map((a) => a.join('')),
);
const headerValue = fc.oneof(tricky, fc.array(tricky, { maxLength: 3 }), fc.constant(undefined));

describe('parsers never throw anything but VerificationError', () => {
  test('XFCC', () => {
    fc.assert(
      fc.property(tricky, (s) => onlyVerificationError(() => parseXfcc(s))),
      RUNS,
    );
  });

  test('X-Forwarded-For and Forwarded', () => {
    fc.assert(
      fc.property(fc.array(tricky, { maxLength: 4 }), (values) => {
        onlyVerificationError(() => parseXForwardedFor(values));
        return onlyVerificationError(() => parseForwarded(values));
      }),
      RUNS,
    );
  });

  test('client address resolution through trusted proxies', () => {
    const trusted = IpSet.parse(['127.0.0.0/8', '::1'], (_i, p) => new Error(p));
    fc.assert(
      fc.property(
        fc.oneof(tricky, fc.constantFrom('127.0.0.1', '::1', '::ffff:127.0.0.9')),
        headerValue,
        headerValue,
        (peer, xff, fwd) => {
          const headers = { 'x-forwarded-for': xff, forwarded: fwd, 'x-forwarded-proto': xff };
          onlyVerificationError(() => resolveClientAddress(peer, headers, trusted, 'x-forwarded-for'));
          return onlyVerificationError(() => resolveClientAddress(peer, headers, trusted, 'forwarded'));
        },
      ),
      RUNS,
    );
  });

  test('every proxy kind header parser', () => {
    for (const [kind, parser] of Object.entries(PROXY_PARSERS)) {
      fc.assert(
        fc.property(
          fc.array(headerValue, { minLength: parser.headers.length, maxLength: parser.headers.length }),
          (values) => {
            const headers = Object.fromEntries(parser.headers.map((h, i) => [h, values[i]]));
            return onlyVerificationError(() => parser.parse(headers));
          },
        ),
        { numRuns: 150 },
      );
      assert.ok(kind);
    }
  });

  test('the whole verifier on arbitrary proxy headers', async () => {
    const verifier = createVerifier({
      clientCertificate: { source: 'nginx', subject: 'CN=hooks.platform.example' },
      trustedProxies: ['127.0.0.1'],
      ipAllowlist: ['0.0.0.0/0', '::/0'],
    });
    await fc.assert(
      fc.asyncProperty(headerValue, headerValue, headerValue, headerValue, async (verify, subject, fp, xff) => {
        const headers = {
          'x-ssl-client-verify': verify,
          'x-ssl-client-subject-dn': subject,
          'x-ssl-client-fingerprint': fp,
          'x-forwarded-for': xff,
        };
        try {
          await verifier.verify({
            method: 'POST',
            url: '/',
            headers,
            body: new Uint8Array(),
            remoteAddress: '127.0.0.1',
          });
          // a pass needs the exact subject and SUCCESS: random input must not get there by accident
          return verify === 'SUCCESS' && typeof subject === 'string';
        } catch (err) {
          return err instanceof VerificationError;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('addresses and CIDRs', () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((t) => t.join('.'));

  test('parseIp and parseCidr never throw; errors are returned for the caller to name its field', () => {
    fc.assert(
      fc.property(tricky, (s) => {
        parseIp(s);
        const c = parseCidr(s);
        return typeof c === 'string' || c.prefix >= 0;
      }),
      RUNS,
    );
  });

  test('IPv4-mapped IPv6 is the IPv4 address, in dotted and hex spellings', () => {
    fc.assert(
      fc.property(ipv4, (a) => {
        const q = a.split('.').map(Number) as [number, number, number, number];
        const hexForm = `::ffff:${((q[0] << 8) | q[1]).toString(16)}:${((q[2] << 8) | q[3]).toString(16)}`;
        return parseIp(`::ffff:${a}`)?.text === a && parseIp(hexForm)?.text === a && parseIp(`::FFFF:${a}`)?.text === a;
      }),
      RUNS,
    );
  });

  test('a network contains exactly the addresses sharing its prefix', () => {
    fc.assert(
      fc.property(ipv4, ipv4, fc.integer({ min: 0, max: 32 }), (a, b, prefix) => {
        const toInt = (s: string) => s.split('.').reduce((n, o) => n * 256 + Number(o), 0);
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        const net = ((toInt(a) & mask) >>> 0).toString(2).padStart(32, '0');
        const network = [0, 8, 16, 24].map((i) => Number.parseInt(net.slice(i, i + 8), 2)).join('.');
        const cidr = parseCidr(`${network}/${prefix}`);
        assert.ok(typeof cidr !== 'string', String(cidr));
        const expected = (toInt(b) & mask) >>> 0 === (toInt(a) & mask) >>> 0;
        return cidrContains(cidr, parseIp(b)!) === expected && cidrContains(cidr, parseIp(`::ffff:${b}`)!) === expected;
      }),
      RUNS,
    );
  });
});

describe('trust document parsing', () => {
  test('any JSON value is a valid material or HW_TRUST_DOCUMENT_INVALID', async () => {
    const { materialFrom } = await import('../src/trust-document.ts');
    const { HookwardenError } = await import('../src/errors.ts');
    const fingerprints = fc.record(
      { sha256Hex: fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f]{64}$/)), sha1: fc.string() },
      { requiredKeys: [] },
    );
    const doc = fc.record(
      {
        version: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        caBundlePem: fc.oneof(fc.string(), fc.constant('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')),
        certificates: fc.oneof(
          fc.anything(),
          fc.record({ current: fc.record({ fingerprints }), next: fc.anything() }, { requiredKeys: [] }),
        ),
        egressCidrs: fc.oneof(fc.anything(), fc.array(tricky, { maxLength: 3 })),
        signingPublicKeys: fc.oneof(
          fc.anything(),
          fc.array(
            fc.string().map((s) => `whpk_${s}`),
            { maxLength: 2 },
          ),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), doc), (value) => {
        try {
          materialFrom(value);
          return true;
        } catch (err) {
          return err instanceof HookwardenError && err.code === 'HW_TRUST_DOCUMENT_INVALID';
        }
      }),
      RUNS,
    );
  });
});

describe('certificates with tampered bytes', () => {
  const pemOf = (der: Uint8Array) =>
    `-----BEGIN CERTIFICATE-----\n${Buffer.from(der)
      .toString('base64')
      .replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
  /** How each kind passes the certificate, from its raw bytes. */
  const HEADERS: Record<string, (der: Uint8Array) => Record<string, string>> = {
    nginx: (der) => ({ 'x-ssl-client-verify': 'SUCCESS', 'x-ssl-client-cert': encodeURIComponent(pemOf(der)) }),
    haproxy: (der) => ({
      'x-ssl-client-used': '1',
      'x-ssl-client-verify': '0',
      'x-ssl-client-der': Buffer.from(der).toString('base64'),
    }),
    caddy: (der) => ({ 'x-ssl-client-der': Buffer.from(der).toString('base64') }),
    envoy: (der) => ({ 'x-forwarded-client-cert': `Cert="${encodeURIComponent(pemOf(der))}"` }),
    traefik: (der) => ({ 'x-forwarded-tls-client-cert': encodeURIComponent(Buffer.from(der).toString('base64')) }),
    'aws-alb': (der) => ({ 'x-amzn-mtls-clientcert-leaf': encodeURIComponent(pemOf(der)) }),
    rfc9440: (der) => ({ 'client-cert': `:${Buffer.from(der).toString('base64')}:` }),
    custom: (der) => ({ 'x-cert-der': Buffer.from(der).toString('base64') }),
  };
  let leafDer: Buffer;
  /** Offset of the uncompressed EC point's format byte (0x04) in the leaf's SubjectPublicKeyInfo. */
  let pointAt: number;
  const verifiers: [string, Verifier, (der: Uint8Array) => Partial<VerifyRequest>][] = [];
  before(async () => {
    const h = await createHierarchy({ subject: 'CN=hooks.platform.example' });
    leafDer = Buffer.from(new X509Certificate(h.leaf.certPem).raw);
    pointAt = leafDer.indexOf(Buffer.from('03420004', 'hex')) + 3;
    assert.ok(pointAt > 3, 'the leaf has a P-256 key');
    const caBundlePem = h.intermediate.certPem + h.root.certPem;
    for (const [kind, headersOf] of Object.entries(HEADERS)) {
      const v = createVerifier({
        trustedProxies: ['127.0.0.1'],
        clientCertificate: {
          source: kind as 'nginx',
          caBundlePem,
          ...(kind === 'custom' ? { customHeaders: { certDer: 'x-cert-der' } } : {}),
        },
      });
      verifiers.push([kind, v, (der) => ({ headers: headersOf(der) })]);
    }
    const socket = createVerifier({ clientCertificate: { source: 'socket', caBundlePem } });
    verifiers.push([
      'socket',
      socket,
      (der) => ({ tls: { encrypted: true, authorized: true, peerCertificates: [pemOf(der)] } }),
    ]);
  });

  async function outcome(v: Verifier, over: Partial<VerifyRequest>): Promise<string> {
    const request = { method: 'POST', url: '/', headers: {}, body: new Uint8Array(), remoteAddress: '127.0.0.1' };
    try {
      await v.verify({ ...request, ...over });
      return 'accepted';
    } catch (err) {
      if (err instanceof VerificationError) return err.code;
      throw err;
    }
  }

  test('a public key that does not decode is HW_CERT_INVALID in every kind, never an OpenSSL error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x04),
        fc.array(fc.tuple(fc.nat(64), fc.nat(255)), { maxLength: 3 }),
        async (format, edits) => {
          const der = Buffer.from(leafDer);
          der[pointAt] = format;
          // and perhaps a few bytes of the point itself
          for (const [at, b] of edits) der[pointAt + 1 + at] = b;
          for (const [kind, v, request] of verifiers) {
            const code = await outcome(v, request(der));
            assert.notEqual(code, 'accepted', kind);
            // only a key that still decodes (a compressed form, say) may get further, to a failed signature
            if (code !== 'HW_CERT_INVALID') assert.equal(code, 'HW_CERT_UNTRUSTED', `${kind}: ${code}`);
          }
        },
      ),
      { numRuns: 60 },
    );
    const der = Buffer.from(leafDer);
    der[pointAt] = 0x05;
    for (const [kind, v, request] of verifiers) assert.equal(await outcome(v, request(der)), 'HW_CERT_INVALID', kind);
  });

  test('any few bytes changed anywhere: a verdict or VerificationError, never anything else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), async (edits) => {
        const der = Buffer.from(leafDer);
        for (const [at, b] of edits) der[at % der.length] = b;
        for (const [, v, request] of verifiers) await outcome(v, request(der));
      }),
      { numRuns: 60 },
    );
  });
});
