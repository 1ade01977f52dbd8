import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createSelfSignedCa } from '@hookwarden/pki';
import { needTools, tempDir } from '@hookwarden/testkit';
import fc from 'fast-check';
import { dnFromX509, formatDn, parseDn } from '../src/dn.ts';
import { opensslRfc2253 } from '../src/proxy-config/openssl-dn.ts';
import { opensslSubjects } from '../src/proxy-config/subjects.ts';
import { opensslSelfSigned, opensslSubject } from './helpers/openssl.ts';

const dir = tempDir();
after(dir.cleanup);

// The subjects nginx and HAProxy will print: commas, quotes, a multi-valued RDN, UTF-8, a leading '#'
// and space, a trailing space. The expected string comes from the real OpenSSL, not from us.
const SUBJECTS = [
  '/C=US/O=Acme, Inc./OU=x,CN=admin/UID=42+OU=Dev/CN=Café hooks/emailAddress=a@b.c',
  '/CN=#hash/O= lead and trail /OU=a"b<c>d;e\\f+g=h',
  '/DC=com/DC=example/CN=hooks.platform.test',
];

test('the check-mode DN is what OpenSSL prints for the same certificate', { skip: needTools('openssl') }, () => {
  SUBJECTS.forEach((subject, i) => {
    const cert = join(dir.path, `c${i}.pem`);
    const printed = opensslSelfSigned(cert, join(dir.path, `k${i}.pem`), subject);
    // Through the RFC 4514 text a user would paste: parse it back, then print as OpenSSL does.
    const rfc4514 = formatDn(dnFromX509(new X509Certificate(readFileSync(cert))));
    assert.equal(opensslRfc2253(parseDn(rfc4514), 'subjects[0]'), printed, rfc4514);
  });
});

test('an attribute type OpenSSL would print as an OID is refused, naming the field', () => {
  assert.throws(() => opensslRfc2253(parseDn('1.2.3.4=x'), 'subjects[1]'), {
    code: 'HW_PROXY_CONFIG_INVALID',
    message: /^subjects\[1\]: attribute type '1\.2\.3\.4'/,
  });
});

test('property: for any single-valued DN, the check-mode string is what OpenSSL prints', {
  skip: needTools('openssl'),
}, async () => {
  // DC and emailAddress are IA5String (ASCII only), so they are left to the fixed cases above.
  const types = ['CN', 'O', 'OU', 'L', 'ST', 'C', 'UID', 'street', 'title'];
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          type: fc.constantFrom(...types),
          // Printable text with every RFC 2253 special, spaces at the ends, and non-ASCII.
          value: fc.string({
            unit: fc.constantFrom('a', 'Z', '0', ' ', ',', '+', '"', '\\', '<', '>', ';', '#', '=', 'é', '日', '✓'),
            minLength: 1,
            maxLength: 12,
          }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      async (entries) => {
        const rdns = entries.map((e) => [{ type: e.type, value: e.type === 'C' ? 'US' : e.value }]);
        const { certPem } = await createSelfSignedCa({ subject: formatDn(rdns), keyType: 'ec-p256' });
        const cert = join(dir.path, `p${n++}.pem`);
        writeFileSync(cert, certPem);
        const printed = opensslSubject(cert);
        assert.equal(opensslRfc2253(parseDn(formatDn(rdns)), 'subjects[0]'), printed);
      },
    ),
    { numRuns: 25 },
  );
});

test('a multi-valued RDN matches whatever order the certificate holds its entries in', {
  skip: needTools('openssl'),
}, () => {
  const cert = join(dir.path, 'multi.pem');
  const printed = opensslSelfSigned(cert, join(dir.path, 'multi.key'), '/O=Acme/OU=Dev+UID=42+CN=hooks');
  for (const written of [
    'CN=hooks+OU=Dev+UID=42,O=Acme',
    'UID=42+CN=hooks+OU=Dev,O=Acme',
    'OU=Dev+UID=42+CN=hooks,O=Acme',
  ]) {
    const spellings = opensslSubjects([written]);
    assert.equal(spellings.length, 6);
    assert.ok(spellings.includes(printed), `${printed} not among ${spellings.join(' | ')}`);
  }
  assert.throws(() => opensslSubjects(['CN=a+OU=b+O=c+L=d+ST=e']), {
    code: 'HW_PROXY_CONFIG_INVALID',
    message: /subjects\[0\]: too many/,
  });
});
