import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { needTools, tempDir } from '@hookwarden/testkit';
import { dnFromX509, formatDn, parseDn } from '../src/dn.ts';
import { opensslRfc2253 } from '../src/proxy-config/openssl-dn.ts';

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
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-utf8',
        '-multivalue-rdn',
        '-subj',
        subject,
        '-keyout',
        join(dir.path, `k${i}.pem`),
        '-out',
        cert,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(made.status, 0, made.stderr);
    const printed = spawnSync('openssl', ['x509', '-in', cert, '-noout', '-subject', '-nameopt', 'RFC2253'], {
      encoding: 'utf8',
    })
      .stdout.replace(/^subject=/, '')
      .trimEnd();
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
