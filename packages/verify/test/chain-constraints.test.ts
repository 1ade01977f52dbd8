/**
 * The chain check against `openssl verify -purpose sslclient` on the same certificate files: basic
 * constraints and path length, key usage and extended key usage on every certificate of the path,
 * name constraints, critical extensions. Each case states OpenSSL's verdict as a fact checked here,
 * and where the verifier is deliberately stricter the case says why.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import fc from 'fast-check';
import { DerError } from '../src/der.ts';
import { HookwardenError } from '../src/errors.ts';
import { certificateFacts } from '../src/extensions.ts';
import { createVerifier } from '../src/verifier.ts';
import { type Issued, opensslIssuer } from './helpers/certs.ts';

const CA = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign';
const LEAF = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth';
const san = (names: string) => `${LEAF}\nsubjectAltName=${names}`;

interface Case {
  name: string;
  leaf: string;
  /** Intermediates presented with the leaf (file names), nearest first. */
  chain: string[];
  /** The CA bundle (file names). */
  anchors: string[];
  openssl: 'ok' | 'refused';
  /** Our code when we refuse; undefined when we accept. */
  ours?: string;
  /** Why we refuse what OpenSSL accepts. */
  stricter?: string;
}

const dir = tempDir();
after(() => dir.cleanup());
const cases: Case[] = [];
let NOW = 0;

before(() => {
  const issue = opensslIssuer(dir.path);
  const made = new Map<string, Issued>();
  const cert = (name: string, subject: string, ext: string, by?: string, sections?: string) => {
    made.set(
      name,
      issue(name, subject, ext, by === undefined ? undefined : made.get(by), { sections: sections ?? '' }),
    );
  };
  cert('root', '/O=Platform/CN=Root', CA);
  cert('int', '/O=Platform/CN=Client CA', CA, 'root');
  cert('leaf', '/O=Platform/CN=hooks.platform.example', san('DNS:hooks.platform.example'), 'int');

  // basic constraints and path length
  cert(
    'ca-leaf',
    '/CN=ca-leaf',
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign\nextendedKeyUsage=clientAuth',
    'int',
  );
  cert('not-ca', '/CN=not a CA', LEAF, 'root');
  cert('under-not-ca', '/CN=under-not-ca', LEAF, 'not-ca');
  cert('p0', '/CN=Pathlen 0', 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign', 'root');
  cert('p0-sub', '/CN=Pathlen 0 Sub', CA, 'p0');
  cert('p0-deep', '/CN=p0-deep', LEAF, 'p0-sub');
  cert('p0-direct', '/CN=p0-direct', LEAF, 'p0');
  cert('p1', '/CN=Pathlen 1', 'basicConstraints=critical,CA:TRUE,pathlen:1\nkeyUsage=critical,keyCertSign', 'root');
  cert('p1-sub', '/CN=Pathlen 1 Sub', CA, 'p1');
  cert('p1-deep', '/CN=p1-deep', LEAF, 'p1-sub');

  // key usage and extended key usage on the CAs, the anchor included
  cert(
    'int-no-sign',
    '/CN=No keyCertSign',
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,cRLSign,digitalSignature',
    'root',
  );
  cert('under-no-sign', '/CN=under-no-sign', LEAF, 'int-no-sign');
  cert('int-server', '/CN=Server-only CA', `${CA}\nextendedKeyUsage=serverAuth`, 'root');
  cert('under-server', '/CN=under-server', LEAF, 'int-server');
  cert('int-any', '/CN=anyEKU CA', `${CA}\nextendedKeyUsage=anyExtendedKeyUsage`, 'root');
  cert('under-any', '/CN=under-any', LEAF, 'int-any');
  cert('int-both', '/CN=Server and client CA', `${CA}\nextendedKeyUsage=serverAuth,clientAuth`, 'root');
  cert('under-both', '/CN=under-both', LEAF, 'int-both');
  cert('root-server', '/CN=Server-only Root', `${CA}\nextendedKeyUsage=serverAuth`);
  cert('int-under-root-server', '/CN=Client CA under a server root', CA, 'root-server');
  cert('under-root-server', '/CN=under-root-server', LEAF, 'int-under-root-server');

  // the leaf's own usage
  cert(
    'leaf-any',
    '/CN=leaf-any',
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=anyExtendedKeyUsage',
    'int',
  );
  cert(
    'leaf-no-eku',
    '/CN=leaf-no-eku',
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature',
    'int',
  );
  cert(
    'leaf-ka',
    '/CN=leaf-ka',
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyAgreement\nextendedKeyUsage=clientAuth',
    'int',
  );
  cert('leaf-ns-server', '/CN=leaf-ns-server', `${LEAF}\nnsCertType=server`, 'int');

  // critical extensions
  cert('leaf-crit', '/CN=leaf-crit', `${LEAF}\n1.2.3.4=critical,ASN1:NULL`, 'int');
  cert('int-crit', '/CN=Critical CA', `${CA}\n1.2.3.4=critical,ASN1:NULL`, 'root');
  cert('under-int-crit', '/CN=under-int-crit', LEAF, 'int-crit');
  cert('leaf-policies', '/CN=leaf-policies', `${LEAF}\ncertificatePolicies=critical,1.2.3.4`, 'int');
  cert('int-policy-constraints', '/CN=Policy CA', `${CA}\npolicyConstraints=critical,requireExplicitPolicy:0`, 'root');
  cert('under-policy-constraints', '/CN=under-policy-constraints', LEAF, 'int-policy-constraints');

  // name constraints on an intermediate, every type OpenSSL checks
  const nc = [
    'permitted;DNS:.allowed.example',
    'permitted;URI:.allowed.example',
    'permitted;email:.allowed.example',
    'permitted;IP:10.0.0.0/255.0.0.0',
    'permitted;dirName:dir_sect',
    'excluded;DNS:bad.allowed.example',
  ].join(',');
  cert('nc', '/O=Allowed/CN=NC CA', `${CA}\nnameConstraints=critical,${nc}`, 'root', '[dir_sect]\nO=Allowed\n');
  const inside =
    'DNS:a.allowed.example,URI:spiffe://x.allowed.example/ns/a,email:hooks@mail.allowed.example,IP:10.1.2.3';
  cert('nc-in', '/O=Allowed/CN=in', san(inside), 'nc');
  cert('nc-dns-out', '/O=Allowed/CN=out', san('DNS:hooks.platform.example'), 'nc');
  cert('nc-dns-excluded', '/O=Allowed/CN=x', san('DNS:x.bad.allowed.example'), 'nc');
  cert('nc-dns-near-excluded', '/O=Allowed/CN=x', san('DNS:notbad.allowed.example'), 'nc');
  cert('nc-uri-out', '/O=Allowed/CN=x', san('URI:spiffe://tenant.example/ns/a'), 'nc');
  cert('nc-uri-port', '/O=Allowed/CN=x', san('URI:spiffe://x.allowed.example:8443/p'), 'nc');
  cert('nc-email-out', '/O=Allowed/CN=x', san('email:hooks@platform.example'), 'nc');
  cert('nc-ip-out', '/O=Allowed/CN=x', san('IP:192.168.1.1'), 'nc');
  cert('nc-ipv6', '/O=Allowed/CN=x', san('IP:2001:db8::1'), 'nc');
  cert('nc-dn-out', '/O=Other/CN=x', san('DNS:a.allowed.example'), 'nc');
  cert('nc-dn-case', '/O=  ALLOWED /CN=x', san('DNS:a.allowed.example'), 'nc');
  cert('nc-cn-out', '/O=Allowed/CN=hooks.platform.example', LEAF, 'nc');
  cert('nc-cn-not-host', '/O=Allowed/CN=Platform Hooks', LEAF, 'nc');
  cert(
    'nc-subject-email-out',
    '/O=Allowed/CN=x/emailAddress=hooks@platform.example',
    san('DNS:a.allowed.example'),
    'nc',
  );
  // an excluded directoryName matched through OpenSSL's canonical form (case, white space)
  cert(
    'nc-ex-dn',
    '/CN=NC excluded',
    `${CA}\nnameConstraints=critical,excluded;dirName:ex_sect`,
    'root',
    '[ex_sect]\nO=Evil Corp\n',
  );
  cert('nc-ex-dn-hit', '/O=evil   CORP /CN=x', LEAF, 'nc-ex-dn');
  cert('nc-ex-dn-miss', '/O=Evil Corp2/CN=x', LEAF, 'nc-ex-dn');
  // on the anchor itself
  cert('nc-root', '/CN=NC Root', `${CA}\nnameConstraints=critical,permitted;DNS:.allowed.example`);
  cert('nc-root-int', '/CN=Under NC Root', CA, 'nc-root');
  cert('nc-root-out', '/CN=x', san('DNS:hooks.platform.example'), 'nc-root-int');
  cert('nc-root-in', '/CN=x', san('DNS:a.allowed.example'), 'nc-root-int');
  // a constraint type that is not checked here
  cert('nc-rid', '/CN=NC RID', `${CA}\nnameConstraints=critical,permitted;RID:1.2.3.4`, 'root');
  cert('nc-rid-leaf', '/CN=x', san('DNS:hooks.platform.example'), 'nc-rid');

  const c = (
    name: string,
    leaf: string,
    chain: string[],
    anchors: string[],
    openssl: Case['openssl'],
    ours?: string,
    stricter?: string,
  ) =>
    cases.push({ name, leaf, chain, anchors, openssl, ...(ours ? { ours } : {}), ...(stricter ? { stricter } : {}) });
  const R = ['root'];
  c('a valid chain', 'leaf', ['int'], R, 'ok');
  c('a CA:TRUE leaf', 'ca-leaf', ['int'], R, 'ok', 'HW_CERT_USAGE', 'a CA certificate never authenticates a client');
  c('a leaf issued by a CA:FALSE certificate', 'under-not-ca', ['not-ca'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('a CA beneath a pathlen:0 CA', 'p0-deep', ['p0-sub', 'p0'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('a leaf directly beneath a pathlen:0 CA', 'p0-direct', ['p0'], R, 'ok');
  c('one CA beneath a pathlen:1 CA', 'p1-deep', ['p1-sub', 'p1'], R, 'ok');
  c('a CA without keyCertSign', 'under-no-sign', ['int-no-sign'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('a serverAuth-only intermediate', 'under-server', ['int-server'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('an anyExtendedKeyUsage-only intermediate', 'under-any', ['int-any'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('a serverAuth + clientAuth intermediate', 'under-both', ['int-both'], R, 'ok');
  c(
    'a serverAuth-only anchor',
    'under-root-server',
    ['int-under-root-server'],
    ['root-server'],
    'refused',
    'HW_CERT_UNTRUSTED',
  );
  c('an anyExtendedKeyUsage-only leaf', 'leaf-any', ['int'], R, 'refused', 'HW_CERT_USAGE');
  c(
    'a leaf without extended key usage',
    'leaf-no-eku',
    ['int'],
    R,
    'ok',
    'HW_CERT_USAGE',
    'requireClientAuth (default) asks for clientAuth explicitly',
  );
  c(
    'a keyAgreement-only leaf',
    'leaf-ka',
    ['int'],
    R,
    'ok',
    'HW_CERT_USAGE',
    'a TLS client signs its CertificateVerify: digitalSignature',
  );
  c('a leaf whose Netscape cert type is server', 'leaf-ns-server', ['int'], R, 'refused', 'HW_CERT_USAGE');
  c('an unknown critical extension on the leaf', 'leaf-crit', ['int'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('an unknown critical extension on a CA', 'under-int-crit', ['int-crit'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('critical certificate policies', 'leaf-policies', ['int'], R, 'ok');
  c(
    'critical policy constraints on a CA',
    'under-policy-constraints',
    ['int-policy-constraints'],
    R,
    'ok',
    'HW_CERT_UNTRUSTED',
    'policy constraints are not applied here, so a CA marking them critical is refused',
  );
  c('names inside every permitted subtree', 'nc-in', ['nc'], R, 'ok');
  c('a DNS name outside the permitted subtree', 'nc-dns-out', ['nc'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('a DNS name in an excluded subtree', 'nc-dns-excluded', ['nc'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('a DNS name next to an excluded subtree', 'nc-dns-near-excluded', ['nc'], R, 'ok');
  c('a URI outside the permitted subtree', 'nc-uri-out', ['nc'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('a URI with a port inside the permitted subtree', 'nc-uri-port', ['nc'], R, 'ok');
  c('an email outside the permitted subtree', 'nc-email-out', ['nc'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('an IPv4 address outside the permitted range', 'nc-ip-out', ['nc'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('an IPv6 address where only IPv4 is permitted', 'nc-ipv6', ['nc'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('a subject outside the permitted directory name', 'nc-dn-out', ['nc'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('a subject matching the directory name but for case and spaces', 'nc-dn-case', ['nc'], R, 'ok');
  c('a host-like CN outside the DNS subtree, no SAN', 'nc-cn-out', ['nc'], R, 'refused', 'HW_CERT_UNTRUSTED');
  c('a CN that is not a host name, no SAN', 'nc-cn-not-host', ['nc'], R, 'ok');
  c(
    'a subject emailAddress outside the email subtree',
    'nc-subject-email-out',
    ['nc'],
    R,
    'refused',
    'HW_CERT_UNTRUSTED',
  );
  c(
    'a subject in an excluded directory name, canonically',
    'nc-ex-dn-hit',
    ['nc-ex-dn'],
    R,
    'refused',
    'HW_CERT_UNTRUSTED',
  );
  c('a subject next to an excluded directory name', 'nc-ex-dn-miss', ['nc-ex-dn'], R, 'ok');
  c(
    "a name outside the anchor's own constraints",
    'nc-root-out',
    ['nc-root-int'],
    ['nc-root'],
    'refused',
    'HW_CERT_UNTRUSTED',
  );
  c("a name inside the anchor's own constraints", 'nc-root-in', ['nc-root-int'], ['nc-root'], 'ok');
  c(
    'a registeredID name constraint',
    'nc-rid-leaf',
    ['nc-rid'],
    R,
    'ok',
    'HW_CERT_UNTRUSTED',
    'a constraint type that is not checked here fails closed',
  );

  NOW = Date.parse(new X509Certificate(readFileSync(made.get('leaf')!.cert)).validFrom) + 3_600_000;
});

function pem(name: string): string {
  return readFileSync(join(dir.path, `${name}.pem`), 'utf8');
}

function opensslVerdict(k: Case): 'ok' | 'refused' {
  const anchors = join(dir.path, `${k.leaf}.anchors.pem`);
  writeFileSync(anchors, k.anchors.map(pem).join(''));
  const args = ['verify', '-purpose', 'sslclient', '-CAfile', anchors];
  if (k.chain.length > 0) {
    const untrusted = join(dir.path, `${k.leaf}.untrusted.pem`);
    writeFileSync(untrusted, k.chain.map(pem).join(''));
    args.push('-untrusted', untrusted);
  }
  args.push(join(dir.path, `${k.leaf}.pem`));
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  assert.ok(run.status === 0 || run.status === 2, `${run.status} ${run.stderr}`);
  return run.status === 0 ? 'ok' : 'refused';
}

async function ourVerdict(k: Case): Promise<string | undefined> {
  const v = createVerifier({
    clientCertificate: { source: 'socket', caBundlePem: k.anchors.map(pem).join(''), maxDepth: 8 },
    now: () => NOW,
  });
  try {
    await v.verify({
      method: 'POST',
      url: '/hook',
      headers: {},
      body: new Uint8Array(),
      remoteAddress: '203.0.113.9',
      // the TLS stack's verdict is set to pass: this is about the verifier's own chain check
      tls: { encrypted: true, authorized: true, peerCertificates: [k.leaf, ...k.chain].map(pem) },
    });
    return undefined;
  } catch (err) {
    assert.ok(err instanceof HookwardenError, String(err));
    return `${err.code}: ${err.message}`;
  }
}

describe('the chain check decides as openssl verify -purpose sslclient', () => {
  test('every case', async () => {
    assert.ok(cases.length > 30);
    for (const k of cases) {
      assert.equal(opensslVerdict(k), k.openssl, `openssl on ${k.name}`);
      const ours = await ourVerdict(k);
      assert.equal(ours?.split(':')[0], k.ours, `${k.name}: ${ours ?? 'accepted'}`);
      if (k.ours === undefined) assert.equal(k.openssl, 'ok', k.name);
      else if (k.openssl === 'ok') assert.ok(k.stricter, `${k.name}: stricter than OpenSSL without a reason`);
    }
  });

  test('refusals say which certificate and which limit', async () => {
    const detail = async (name: string) => (await ourVerdict(cases.find((k) => k.name === name)!)) ?? '';
    assert.match(
      await detail('a CA beneath a pathlen:0 CA'),
      /CA "CN=Pathlen 0" allows 0 CA certificate\(s\) below it; the chain has 1/,
    );
    assert.match(
      await detail('a serverAuth-only intermediate'),
      /"CN=Server-only CA" may not issue client certificates/,
    );
    assert.match(
      await detail('a DNS name outside the permitted subtree'),
      /the dNSName name "hooks\.platform\.example" is outside the permitted subtrees of CA "O=Allowed, CN=NC CA"/,
    );
    assert.match(await detail('a CA:TRUE leaf'), /it is a CA certificate/);
    assert.match(
      await detail('an unknown critical extension on the leaf'),
      /critical extension that is not understood \(1\.2\.3\.4\)/,
    );
  });
});

test('the extension reader throws nothing but DerError on corrupted or cut certificates', () => {
  const ders = ['nc-in', 'nc', 'p0', 'leaf-crit', 'leaf-ns-server'].map((n) => new X509Certificate(pem(n)).raw);
  for (const der of ders) assert.ok(certificateFacts(der));
  fc.assert(
    fc.property(
      fc.constantFrom(...ders),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.nat(),
      (der, edits, cut) => {
        const bytes = Uint8Array.from(der);
        for (const [at, b] of edits) bytes[at % bytes.length] = b;
        for (const input of [bytes, bytes.subarray(0, cut % bytes.length)]) {
          try {
            certificateFacts(input);
          } catch (err) {
            if (!(err instanceof DerError)) throw err;
          }
        }
      },
    ),
    { numRuns: 3000 },
  );
});
