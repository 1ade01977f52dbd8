import assert from 'node:assert/strict';
import { test } from 'node:test';
import { caBundlePem, chainPem, createHierarchy } from '@hookwarden/pki';
import { createVerifier } from '@hookwarden/verify';
import { generateProxyConfig } from '@hookwarden/verify/proxy-config';
import { generateSecret } from '@hookwarden/verify/signature';
import { DEFAULT_CIPHER_POLICY } from '../../src/delivery/ciphers.ts';
import { identityFromPem } from '../../src/identity/from-pem.ts';
import { PATHS, type Receiver, receiverPolicy, receiverSnippets } from '../../src/portal/snippets.ts';
import { buildTrustDocument } from '../../src/trust.ts';

async function receiver(over: Partial<Receiver> = {}): Promise<Receiver> {
  const h = await createHierarchy({ subject: 'CN=hooks.platform.test,O=Platform', dnsNames: ['hooks.platform.test'] });
  const id = identityFromPem({
    certPem: h.leaf.certPem,
    keyPem: h.leaf.keyPem,
    chainPem: chainPem(h),
    caBundlePem: caBundlePem(h),
  });
  const trust = buildTrustDocument({
    caBundlePem: id.caBundlePem,
    current: id.current,
    egressCidrs: ['203.0.113.0/24'],
    signingPublicKeys: [],
    cipherPolicy: DEFAULT_CIPHER_POLICY,
  });
  return { host: 'hooks.customer.example', signing: 'hmac', publicUrl: 'https://hooks.example.com', trust, ...over };
}

test('the proxy configurations are the project generator’s own output for the endpoint, checking the platform’s subject', async () => {
  const r = await receiver();
  const snippets = receiverSnippets(r);
  assert.deepEqual(
    snippets.map((s) => s.id),
    ['nginx', 'haproxy', 'caddy', 'gate', 'express', 'fastify', 'hono', 'node'],
  );
  for (const kind of ['nginx', 'haproxy', 'caddy'] as const) {
    const expected = generateProxyConfig(kind, {
      serverName: 'hooks.customer.example',
      listen: 443,
      upstream: 'http://127.0.0.1:3000',
      caBundlePath: PATHS.caBundle,
      serverCertPath: PATHS.cert(r.host),
      serverKeyPath: PATHS.key(r.host),
      mode: 'check',
      ...(kind === 'caddy'
        ? { fingerprints: [r.trust.certificates.current.fingerprints.sha256Hex] }
        : { subjects: [r.trust.certificates.current.subject] }),
    });
    assert.equal(snippets.find((s) => s.id === kind)?.text, expected, kind);
  }
  // A host the generators refuse gets a note instead of a broken file.
  const odd = receiverSnippets(await receiver({ host: 'under_score.example' }));
  assert.match(odd.find((s) => s.id === 'nginx')?.text ?? '', /^# Not generated for under_score\.example: serverName/);
});

test('the code snippets’ policies are ones createVerifier accepts, following the trust document; secrets stay out of the page', async () => {
  for (const signing of ['hmac', 'ed25519'] as const) {
    const r = await receiver({ signing });
    for (const source of ['socket', 'nginx'] as const) {
      const policy = receiverPolicy(r, source, generateSecret());
      assert.doesNotThrow(() => createVerifier(policy), `${signing} ${source}`);
      assert.deepEqual(policy.trustDocument, { url: 'https://hooks.example.com/api/v1/trust' });
      assert.deepEqual(policy.ipAllowlist, [], 'the egress addresses come from the trust document');
    }
    for (const s of receiverSnippets(r)) {
      assert.doesNotMatch(s.text, /whsec_/, `${s.id} carries no secret`);
      if (['express', 'fastify', 'hono', 'node'].includes(s.id)) {
        assert.match(s.text, /createVerifier\(\{/);
        assert.equal(s.text.includes('process.env.HOOKWARDEN_WEBHOOK_SECRET'), signing === 'hmac', s.id);
      }
    }
    const gate = receiverSnippets(r).find((s) => s.id === 'gate')?.text ?? '';
    assert.match(gate, /--client-ca \/etc\/hookwarden\/ca-bundle\.pem/);
    assert.equal(gate.includes('--secret "$HOOKWARDEN_WEBHOOK_SECRET"'), signing === 'hmac');
  }
});
