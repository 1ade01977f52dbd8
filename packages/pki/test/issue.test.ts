import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { needTools, tempDir } from '@hookwarden/testkit';
import { dnFromX509, parseDn } from '@hookwarden/verify/dn';
import {
  caBundlePem,
  chainPem,
  createHierarchy,
  createSelfSignedCa,
  describeCertificate,
  type Hierarchy,
  issueCertificate,
  PkiError,
} from '../src/index.ts';
import { checkKeyType } from '../src/options.ts';
import { x509 } from '../src/x509.ts';
import { openssl } from './helpers.ts';

const SUBJECT = 'CN=callbacks.example.com,O=Example\\, Inc.,C=US';
const NOW = new Date('2026-06-01T12:00:00Z');
const now = () => NOW;

function ext<T extends x509.Extension>(pem: string, type: new (raw: ArrayBuffer) => T): T | null {
  return new x509.X509Certificate(pem).getExtension(type);
}

describe('createHierarchy', () => {
  let h: Hierarchy;
  const dir = tempDir();
  before(async () => {
    h = await createHierarchy({ subject: SUBJECT, dnsNames: ['callbacks.example.com'], now, validityDays: 30 });
  });
  after(() => dir.cleanup());

  test('root, intermediate and leaf carry the extensions a verifier needs', () => {
    const root = new X509Certificate(h.root.certPem);
    const inter = new X509Certificate(h.intermediate.certPem);
    const leaf = new X509Certificate(h.leaf.certPem);
    assert.ok(root.ca && inter.ca && !leaf.ca);
    assert.ok(leaf.checkIssued(inter) && inter.checkIssued(root));
    assert.ok(leaf.verify(inter.publicKey) && inter.verify(root.publicKey) && root.verify(root.publicKey));

    const bcInter = ext(h.intermediate.certPem, x509.BasicConstraintsExtension)!;
    assert.equal(bcInter.ca, true);
    assert.equal(bcInter.pathLength, 0);
    assert.equal(bcInter.critical, true);
    const bcLeaf = ext(h.leaf.certPem, x509.BasicConstraintsExtension)!;
    assert.equal(bcLeaf.ca, false);

    const kuLeaf = ext(h.leaf.certPem, x509.KeyUsagesExtension)!;
    assert.equal(kuLeaf.usages, x509.KeyUsageFlags.digitalSignature);
    const kuInter = ext(h.intermediate.certPem, x509.KeyUsagesExtension)!;
    assert.ok(kuInter.usages & x509.KeyUsageFlags.keyCertSign);
    assert.deepEqual(
      [...ext(h.leaf.certPem, x509.ExtendedKeyUsageExtension)!.usages],
      [x509.ExtendedKeyUsage.clientAuth],
    );

    // The leaf's AKI is the intermediate's SKI, and so on up.
    const ski = (pem: string) => ext(pem, x509.SubjectKeyIdentifierExtension)!.keyId;
    const aki = (pem: string) => ext(pem, x509.AuthorityKeyIdentifierExtension)!.keyId;
    assert.equal(aki(h.leaf.certPem), ski(h.intermediate.certPem));
    assert.equal(aki(h.intermediate.certPem), ski(h.root.certPem));
    assert.notEqual(ski(h.leaf.certPem), ski(h.intermediate.certPem));

    assert.equal(leaf.subjectAltName, 'DNS:callbacks.example.com');
    assert.deepEqual(dnFromX509(leaf), parseDn(SUBJECT));
    assert.equal(new Date(leaf.validTo).getTime(), NOW.getTime() + 30 * 86_400_000);
    assert.ok(new Date(leaf.validFrom) <= NOW);
    assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.match(h.leaf.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  });

  test('serials are random and positive', async () => {
    const serials = [h.root, h.intermediate, h.leaf].map((c) => new X509Certificate(c.certPem).serialNumber);
    assert.equal(new Set(serials).size, 3);
    for (const s of serials) assert.ok(Number.parseInt(s.slice(0, 2), 16) < 0x80, s);
  });

  test('bundle is intermediate then root; chain is leaf then intermediate', () => {
    assert.equal(caBundlePem(h), h.intermediate.certPem + h.root.certPem);
    assert.equal(chainPem(h), h.leaf.certPem + h.intermediate.certPem);
  });

  /** `openssl verify -purpose sslclient` of `leafPem` against this hierarchy, at `atSeconds`. */
  const verifyClient = (leafPem: string, atSeconds = NOW.getTime() / 1000) =>
    openssl(
      dir.path,
      [
        'verify',
        '-attime',
        String(atSeconds),
        '-purpose',
        'sslclient',
        '-CAfile',
        'root.pem',
        '-untrusted',
        'int.pem',
        'leaf.pem',
      ],
      { 'root.pem': h.root.certPem, 'int.pem': h.intermediate.certPem, 'leaf.pem': leafPem },
    );

  test('openssl verifies the leaf for client auth', { skip: needTools('openssl') }, () => {
    const r = verifyClient(h.leaf.certPem);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /leaf\.pem: OK/);
    const subject = openssl(dir.path, ['x509', '-in', 'leaf.pem', '-noout', '-subject', '-nameopt', 'RFC2253']);
    assert.equal(subject.out.trim(), `subject=${SUBJECT}`);
  });

  test('openssl rejects a leaf of another CA and a server-usage leaf', { skip: needTools('openssl') }, async () => {
    const other = await createHierarchy({ subject: 'CN=other', now });
    const server = await issueCertificate(h.intermediate, { subject: 'CN=localhost', usage: 'server', now });
    const foreign = verifyClient(other.leaf.certPem);
    assert.notEqual(foreign.status, 0);
    assert.match(foreign.out, /unable to get local issuer certificate/);
    const wrongPurpose = verifyClient(server.certPem);
    assert.notEqual(wrongPurpose.status, 0);
    assert.match(wrongPurpose.out, /unsuitable certificate purpose/);
  });

  test('openssl rejects the leaf outside its validity', { skip: needTools('openssl') }, () => {
    const r = verifyClient(h.leaf.certPem, NOW.getTime() / 1000 + 31 * 86_400);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /certificate has expired/);
  });
});

describe('issueCertificate', () => {
  let ca: Awaited<ReturnType<typeof createSelfSignedCa>>;
  before(async () => {
    ca = await createSelfSignedCa({ subject: 'CN=Test Root', now });
  });

  test('server usage: serverAuth and loopback SANs by default', async () => {
    const s = await issueCertificate(ca, { subject: 'CN=localhost', usage: 'server', now });
    const cert = new X509Certificate(s.certPem);
    assert.deepEqual([...ext(s.certPem, x509.ExtendedKeyUsageExtension)!.usages], [x509.ExtendedKeyUsage.serverAuth]);
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkIP('::1'), '::1');
    const named = await issueCertificate(ca, { subject: 'CN=x', usage: 'server', ipAddresses: ['127.0.0.2'], now });
    assert.equal(new X509Certificate(named.certPem).subjectAltName, 'IP Address:127.0.0.2');
  });

  test('ca usage issues an intermediate with the given path length', async () => {
    const inter = await issueCertificate(ca, { subject: 'CN=Sub', usage: 'ca', pathLength: 2, now });
    const bc = ext(inter.certPem, x509.BasicConstraintsExtension)!;
    assert.equal(bc.ca, true);
    assert.equal(bc.pathLength, 2);
  });

  test('notBefore is honoured and the leaf never outlives its issuer', async () => {
    const notBefore = new Date('2026-05-01T00:00:00Z');
    const short = await createSelfSignedCa({ subject: 'CN=Short', validityDays: 10, now });
    const leaf = await issueCertificate(short, { subject: 'CN=x', notBefore, validityDays: 365, now });
    const c = new X509Certificate(leaf.certPem);
    assert.equal(new Date(c.validFrom).getTime(), notBefore.getTime());
    assert.equal(c.validTo, new X509Certificate(short.certPem).validTo);
  });

  test('RSA 3072 issues and verifies', async () => {
    const root = await createSelfSignedCa({ subject: 'CN=RSA Root', keyType: 'rsa-3072', now });
    const leaf = await issueCertificate(root, { subject: 'CN=rsa', keyType: 'rsa-3072', now });
    const c = new X509Certificate(leaf.certPem);
    assert.equal(c.publicKey.asymmetricKeyDetails?.modulusLength, 3072);
    assert.ok(c.verify(new X509Certificate(root.certPem).publicKey));
    assert.match(
      (new x509.X509Certificate(leaf.certPem).signatureAlgorithm as unknown as { name: string }).name,
      /RSASSA-PKCS1-v1_5/,
    );
  });

  test('an RSA issuer signs an EC leaf', async () => {
    const root = await createSelfSignedCa({ subject: 'CN=RSA Root', keyType: 'rsa-2048', now });
    const leaf = await issueCertificate(root, { subject: 'CN=ec', now });
    assert.ok(new X509Certificate(leaf.certPem).verify(new X509Certificate(root.certPem).publicKey));
  });

  test('rsa-4096 is an accepted key type', () => {
    assert.equal(checkKeyType('rsa-4096'), 'rsa-4096');
    assert.equal(checkKeyType(undefined), 'ec-p256');
  });

  const bad: [string, () => Promise<unknown>, RegExp][] = [
    ['subject missing', () => issueCertificate(ca, { subject: '' }), /^subject:/],
    ['subject unparsable', () => issueCertificate(ca, { subject: 'CN=a;b' }), /^subject:/],
    ['subject with unknown type', () => issueCertificate(ca, { subject: 'foo=bar' }), /unknown attribute type/],
    ['bad country', () => issueCertificate(ca, { subject: 'C=USA' }), /two-letter/],
    ['key type', () => issueCertificate(ca, { subject: 'CN=x', keyType: 'dsa' as never }), /^keyType:/],
    ['validity', () => issueCertificate(ca, { subject: 'CN=x', validityDays: 0 }), /^validityDays:/],
    ['dns name', () => issueCertificate(ca, { subject: 'CN=x', dnsNames: ['a b'] }), /^dnsNames\[0\]:/],
    ['client wildcard', () => issueCertificate(ca, { subject: 'CN=x', dnsNames: ['*.a.b'] }), /wildcard/],
    ['ip', () => issueCertificate(ca, { subject: 'CN=x', ipAddresses: ['300.1.1.1'] }), /^ipAddresses\[0\]:/],
    ['usage', () => issueCertificate(ca, { subject: 'CN=x', usage: 'code' as never }), /^usage:/],
    ['pathLength on leaf', () => issueCertificate(ca, { subject: 'CN=x', pathLength: 1 }), /^pathLength:/],
    ['now', () => issueCertificate(ca, { subject: 'CN=x', now: 5 as never }), /^now:/],
  ];
  for (const [name, run, message] of bad) {
    test(`rejects bad option: ${name}`, async () => {
      await assert.rejects(run, (err: unknown) => {
        assert.ok(err instanceof PkiError);
        assert.equal(err.code, 'HW_PKI_OPTION_INVALID');
        assert.match(err.message, message);
        return true;
      });
    });
  }

  test('dotted OIDs with arcs past 2^31 are encoded exactly and read back', async () => {
    const subject = 'CN=a,1.2.3.4294967296=foo,1.2.70368744177663=bar';
    const leaf = await issueCertificate(ca, { subject, now });
    assert.equal(describeCertificate(leaf.certPem).subject, subject);
  });

  test('an OID arc receivers cannot read is refused, naming the subject', async () => {
    for (const subject of ['CN=a,1.2.3.9007199254740993=foo', 'CN=a,1.2.3.123456789012345678901=foo']) {
      await assert.rejects(issueCertificate(ca, { subject, now }), (err: unknown) => {
        assert.ok(err instanceof PkiError);
        assert.equal(err.code, 'HW_PKI_OPTION_INVALID');
        assert.ok(err.message.includes(`"${subject}"`), err.message);
        assert.match(err.message, /arc larger than/);
        return true;
      });
    }
    await assert.rejects(issueCertificate(ca, { subject: '1.45.1=x', now }), /not a valid OID/);
  });

  test('issuing from an expired CA says so, not validityDays', async () => {
    const short = await createSelfSignedCa({ subject: 'CN=Short', validityDays: 10, now });
    const later = () => new Date(NOW.getTime() + 11 * 86_400_000);
    await assert.rejects(issueCertificate(short, { subject: 'CN=x', now: later }), (err: unknown) => {
      assert.ok(err instanceof PkiError);
      assert.equal(err.code, 'HW_PKI_CA_EXPIRING');
      assert.match(err.message, /CN=Short" expired on /);
      return true;
    });
  });

  test('rejects a non-CA issuer and a foreign issuer key', async () => {
    const leaf = await issueCertificate(ca, { subject: 'CN=leaf', now });
    await assert.rejects(issueCertificate(leaf, { subject: 'CN=x' }), { code: 'HW_PKI_OPTION_INVALID' });
    const other = await createSelfSignedCa({ subject: 'CN=Other', now });
    await assert.rejects(issueCertificate({ certPem: ca.certPem, keyPem: other.keyPem }, { subject: 'CN=x' }), {
      code: 'HW_PKI_KEY_MISMATCH',
    });
    await assert.rejects(issueCertificate({ certPem: 'nope', keyPem: other.keyPem }, { subject: 'CN=x' }), {
      code: 'HW_PKI_PEM_INVALID',
    });
  });
});
