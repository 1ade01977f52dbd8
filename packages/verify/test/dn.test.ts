import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createHierarchy } from '@hookwarden/pki';
import { needTools, tempDir } from '@hookwarden/testkit';
import {
  DnError,
  dnEquals,
  dnFromDer,
  dnFromX509,
  dnIssuerFromX509,
  formatDn,
  getAttribute,
  namesFromCertificateDer,
  parseDn,
} from '../src/dn.ts';
import { opensslSelfSigned, opensslSubject } from './helpers/openssl.ts';

const NGINX = 'emailAddress=a@b.c,CN=Caf\\C3\\A9 hooks,UID=42+OU=Dev,OU=x\\,CN=admin,O=Acme\\, Inc.,C=US';

describe('parseDn', () => {
  test('honours escapes: a CN hidden in an OU value stays in the OU', () => {
    assert.deepEqual(parseDn(NGINX), [
      [{ type: 'emailAddress', value: 'a@b.c' }],
      [{ type: 'CN', value: 'Café hooks' }],
      [
        { type: 'UID', value: '42' },
        { type: 'OU', value: 'Dev' },
      ],
      [{ type: 'OU', value: 'x,CN=admin' }],
      [{ type: 'O', value: 'Acme, Inc.' }],
      [{ type: 'C', value: 'US' }],
    ]);
    assert.deepEqual(getAttribute(parseDn(NGINX), 'cn'), ['Café hooks']);
    assert.deepEqual(getAttribute(parseDn(NGINX), '2.5.4.11'), ['Dev', 'x,CN=admin']);
  });

  test('canonicalises type names and accepts OIDs', () => {
    for (const s of ['cn=x', 'commonName=x', '2.5.4.3=x', 'OID.2.5.4.3=x', 'CN = x']) {
      assert.deepEqual(parseDn(s), [[{ type: 'CN', value: 'x' }]], s);
    }
    assert.deepEqual(parseDn('1.2.3.4=v'), [[{ type: '1.2.3.4', value: 'v' }]]);
    assert.deepEqual(parseDn('x-custom=v'), [[{ type: 'x-custom', value: 'v' }]]);
  });

  test('spaces around separators are ignored, escaped ones kept', () => {
    assert.deepEqual(parseDn(' CN=a , O=b + OU=c '), parseDn('CN=a,O=b+OU=c'));
    assert.deepEqual(parseDn('CN=\\ a\\ '), [[{ type: 'CN', value: ' a ' }]]);
    assert.deepEqual(parseDn('CN=\\#1'), [[{ type: 'CN', value: '#1' }]]);
    assert.deepEqual(parseDn('CN=a=b#c'), [[{ type: 'CN', value: 'a=b#c' }]]);
    assert.deepEqual(parseDn(''), []);
    assert.deepEqual(parseDn('CN='), [[{ type: 'CN', value: '' }]]);
  });

  test('#hex values are decoded when they hold a string', () => {
    assert.deepEqual(parseDn('CN=#0C03616263'), [[{ type: 'CN', value: 'abc' }]]);
    assert.deepEqual(parseDn('1.2.3.4=#130178'), [[{ type: '1.2.3.4', value: 'x' }]]);
    assert.deepEqual(parseDn('1.2.3.4=#3000'), [[{ type: '1.2.3.4', value: '#3000' }]]);
  });

  const bad: [string, RegExp][] = [
    ['CN', /expected '='/],
    ['=a', /attribute type/],
    ['CN=a,', /ends with ','/],
    ['CN=a+', /ends with '\+'/],
    [',CN=a', /attribute type/],
    ['CN=a;O=b', /must be escaped/],
    ['CN="a"', /must be escaped/],
    ['CN=<a>', /must be escaped/],
    ['CN=a\\', /lone backslash/],
    ['CN=\\zz', /not an escape/],
    ['C N=a', /expected '='/],
    ['CN=#abc', /hex string/],
    ['CN=#0C05616263', /BER/],
    ['CN=\\C3', /UTF-8/],
    ['C*=a', /not an attribute type/],
    ['CN=a\0', /must be escaped/],
  ];
  for (const [input, message] of bad) {
    test(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseDn(input),
        (err: unknown) => err instanceof DnError && err.code === 'HW_DN_INVALID' && message.test(err.message),
      );
    });
  }
});

describe('formatDn', () => {
  test('escapes specials, leading # and space, trailing space, controls', () => {
    assert.equal(
      formatDn([[{ type: 'CN', value: ' #a,b+c"d\\e<f>g;h ' }], [{ type: 'O', value: '#x\ny' }]]),
      'CN=\\ #a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h\\ ,O=\\#x\\0Ay',
    );
    assert.equal(
      formatDn(parseDn(NGINX)),
      'emailAddress=a@b.c,CN=Café hooks,UID=42+OU=Dev,OU=x\\,CN=admin,O=Acme\\, Inc.,C=US',
    );
    assert.equal(formatDn([[{ type: 'commonName', value: 'x' }]]), 'CN=x');
  });

  test('escapes C1 controls and invisible format characters as UTF-8 hex, and reads them back', () => {
    const value = 'a\u009b2J\u0085b\u202ec\u200fd\u2066e\u2069\u200b\ufefff';
    const text = formatDn([[{ type: 'CN', value }]]);
    assert.equal(
      text,
      'CN=a\\C2\\9B2J\\C2\\85b\\E2\\80\\AEc\\E2\\80\\8Fd\\E2\\81\\A6e\\E2\\81\\A9\\E2\\80\\8B\\EF\\BB\\BFf',
    );
    assert.doesNotMatch(text, /[\u0080-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/);
    assert.deepEqual(parseDn(text), [[{ type: 'CN', value }]]);
    // Printable non-ASCII stays readable.
    assert.equal(formatDn([[{ type: 'CN', value: 'Café 日本' }]]), 'CN=Café 日本');
    assert.throws(() => formatDn([[]]), { code: 'HW_DN_INVALID' });
    assert.throws(() => formatDn([[{ type: 'C=N', value: 'x' }]]), { code: 'HW_DN_INVALID' });
  });
});

describe('dnEquals', () => {
  test('structural comparison', () => {
    assert.ok(dnEquals('CN=Hooks Sender,O=ACME', 'cn=hooks sender, o=acme'));
    assert.ok(dnEquals('2.5.4.3=x', 'commonName=X'));
    assert.ok(dnEquals('OU=a+CN=b,O=c', 'CN=b+OU=a,O=c'));
    assert.ok(dnEquals(parseDn('CN=a'), 'CN=a'));
    assert.ok(!dnEquals('CN=a,O=b', 'O=b,CN=a'), 'RDN order matters');
    assert.ok(!dnEquals('CN=a+O=b', 'CN=a,O=b'), 'multi-valued is not two RDNs');
    assert.ok(!dnEquals('OU=x\\,CN=admin', 'OU=x,CN=admin'));
    assert.ok(!dnEquals('CN=a', 'CN=a,O=b'));
    assert.throws(() => dnEquals('CN=a;', 'CN=a'), { code: 'HW_DN_INVALID' });
  });

  test('only ASCII case is ignored: every other character compares exactly', () => {
    assert.ok(!dnEquals('CN=admin', 'CN=adm\u0131n'), 'dotless i');
    assert.ok(!dnEquals('CN=admin', 'CN=ADM\u0130N'), 'capital I with dot');
    assert.ok(!dnEquals('CN=strasse', 'CN=stra\u00dfe'), 'sharp s');
    assert.ok(!dnEquals('CN=office', 'CN=o\ufb03ce'), 'ffi ligature');
    assert.ok(!dnEquals('CN=caf\u00e9', 'CN=CAF\u00c9'), 'no Unicode case folding');
    assert.ok(!dnEquals('CN=caf\u00e9', 'CN=cafe\u0301'), 'no canonical normalisation');
    assert.ok(!dnEquals('CN=cafe', 'CN=caf\u00e9'));
    // what made other certificates equal to CN=hooks.platform.example,O=Platform,C=US
    const expected = 'CN=hooks.platform.example,O=Platform,C=US';
    for (const lookalike of [
      'CN=\\EF\\BB\\BFhooks.platform.example,O=Platform,C=US', // a leading BOM
      'CN=hoo\u212as.platform.example,O=Platform,C=US', // Kelvin sign, canonically K
      'CN=hooks.platform.example\u3000,O=Platform,C=US', // ideographic space
      'CN=hooks.platform.example,O=Platform\u00a0,C=US', // NBSP
      'CN=hooks.platform\t.example,O=Platform,C=US', // a tab
    ]) {
      assert.ok(!dnEquals(expected, lookalike), JSON.stringify(lookalike));
    }
    assert.ok(dnEquals(expected, 'cn=HOOKS.platform.example, o=PLATFORM, c=us'));
    assert.ok(!dnEquals('O=Platform Inc', 'O=Platform  Inc'), 'no white-space folding');
    // a value that is only '#', as OpenSSL prints it unescaped, is that character
    assert.deepEqual(parseDn('CN=#,O=#+OU=x'), [
      [{ type: 'CN', value: '#' }],
      [
        { type: 'O', value: '#' },
        { type: 'OU', value: 'x' },
      ],
    ]);
    assert.throws(() => parseDn('CN=#x'), { code: 'HW_DN_INVALID' });
    assert.ok(!dnEquals('O=Platform Inc', 'O=Platform\tInc'));
    // RFC 4514 escapes are decoded before comparing, and unescaped spaces around values are syntax
    assert.ok(dnEquals('CN=a\\,b', 'CN=a\\2Cb'));
    assert.ok(dnEquals('CN= a ', 'CN=a'));
    assert.ok(!dnEquals('CN=\\ a', 'CN=a'));
  });
});

describe('dnFromX509', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  test('reads our certificates back as issued', async () => {
    const subject = 'CN=callbacks.example.com+UID=7,OU=x\\,CN=admin,O=Example\\, Inc.,C=US';
    const h = await createHierarchy({ subject, intermediateSubject: 'CN=Sub CA,O=Example' });
    const leaf = new X509Certificate(h.leaf.certPem);
    assert.ok(dnEquals(dnFromX509(leaf), subject));
    assert.deepEqual(dnIssuerFromX509(leaf), parseDn('CN=Sub CA,O=Example'));
    assert.deepEqual(getAttribute(dnFromX509(leaf), 'CN'), ['callbacks.example.com']);
  });

  test('agrees with OpenSSL on a hostile subject', { skip: needTools('openssl') }, () => {
    const rfc2253 = opensslSelfSigned(
      join(dir.path, 'c.pem'),
      join(dir.path, 'k.pem'),
      '/C=US/O=Acme, Inc./OU=x,CN=admin/OU=Dev+UID=42/CN=Café "hooks" <#1>; /emailAddress=a@b.c',
    );
    const cert = new X509Certificate(readFileSync(join(dir.path, 'c.pem')));
    const rdns = dnFromX509(cert);
    assert.deepEqual(rdns, parseDn(rfc2253), rfc2253);
    assert.deepEqual(getAttribute(rdns, 'CN'), ['Café "hooks" <#1>; ']);
    assert.deepEqual(getAttribute(rdns, 'OU'), ['Dev', 'x,CN=admin']);
    assert.deepEqual(dnIssuerFromX509(cert), rdns);
  });

  test('a leading BOM is kept in UTF8String and BMPString values, as OpenSSL prints it', {
    skip: needTools('openssl'),
  }, () => {
    const subject = '/CN=\ufeffhooks.platform.example/O=Platform';
    for (const mask of ['utf8only', 'MASK:0x800']) {
      const conf = join(dir.path, 'bmp.cnf');
      writeFileSync(conf, `[req]\ndistinguished_name=dn\nstring_mask=${mask}\n[dn]\n`);
      const cert = join(dir.path, 'bom.pem');
      const made = spawnSync('openssl', [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'],
        ...['-utf8', '-subj', subject, '-config', conf, '-keyout', join(dir.path, 'bom.key'), '-out', cert],
      ]);
      assert.equal(made.status, 0, String(made.stderr));
      const x = new X509Certificate(readFileSync(cert));
      if (mask !== 'utf8only')
        assert.ok(x.raw.includes(Buffer.from([0xfe, 0xff, 0x00, 0x68])), 'UTF-16BE: a BMPString');
      const rdns = dnFromX509(x);
      assert.deepEqual(getAttribute(rdns, 'CN'), ['\ufeffhooks.platform.example'], mask);
      assert.deepEqual(rdns, parseDn(opensslSubject(cert)), mask);
      assert.ok(!dnEquals(rdns, 'O=Platform,CN=hooks.platform.example'), mask);
      assert.equal(formatDn(rdns), 'O=Platform,CN=\\EF\\BB\\BFhooks.platform.example');
    }
  });

  test('garbage DER is HW_DN_DER_INVALID', () => {
    for (const bytes of [
      [],
      [0x30],
      [0x30, 0x80],
      [0x30, 0x03, 0x31, 0x01, 0x00],
      [0x31, 0x00],
      [0x30, 0x02, 0x31, 0x00],
    ]) {
      assert.throws(() => dnFromDer(Uint8Array.from(bytes)), { code: 'HW_DN_DER_INVALID' }, JSON.stringify(bytes));
    }
    assert.throws(() => namesFromCertificateDer(Uint8Array.from([0x30, 0x00])), { code: 'HW_DN_DER_INVALID' });
    assert.deepEqual(dnFromDer(Uint8Array.from([0x30, 0x00])), []);
  });
});
