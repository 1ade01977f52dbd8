/**
 * Test certificates made with the real openssl CLI: a platform hierarchy (root → intermediate →
 * client leaf), variants for each failure, another CA, and a server certificate for loopback TLS.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { tempDir } from '@hookwarden/testkit';

export interface Pair {
  certPem: string;
  keyPem: string;
}

export interface TestPki {
  root: Pair;
  intermediate: Pair;
  /** clientAuth, SAN DNS hooks.platform.example + *.egress.platform.example. */
  client: Pair;
  clientSubject: string;
  /** leaf + intermediate: what the platform presents. */
  clientChainPem: string;
  /** intermediate + root. */
  caBundlePem: string;
  serverOnly: Pair;
  noSan: Pair;
  /** One DNS SAN whose value is `evil.example, DNS:hooks.platform.example` (CVE-2021-44532 shape). */
  sanInjection: Pair;
  /** No SAN; a multi-valued RDN `CN=evil.example+CN=hooks.platform.example` (CVE-2021-44533 shape). */
  twoCn: Pair;
  /** Under a second intermediate: depth 2. */
  deep: Pair;
  deepChainPem: string;
  deepIntermediate: Pair;
  otherRoot: Pair;
  /** Same subject as `client`, issued by another CA. */
  impostor: Pair;
  /** For https servers on loopback, issued by the root: DNS localhost, IP 127.0.0.1. */
  server: Pair;
  /**
   * Like `client`, but signed with SHA-1: every chain check here accepts the signature, OpenSSL's
   * TLS verification (security level 1) refuses it as too weak.
   */
  sha1Signed: Pair;
}

const CLIENT_SUBJECT = '/C=US/O=Acme, Inc./OU=Webhooks/CN=hooks.platform.example';

function ossl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface Issued {
  cert: string;
  key: string;
}

export interface IssueOptions {
  /** Extra sections for the extensions file (`[alt]`, `[dir_sect]`, ...). */
  sections?: string;
  /** Signature digest (`sha256` by default). */
  digest?: string;
}

/**
 * Issues certificates with the real openssl CLI in `dir`: `issue(name, subject, extensions, issuer)`
 * writes `name.pem` and `name.key` and returns their paths; without an issuer it is self-signed.
 * `extensions` is the body of an x509v3 extensions section.
 */
export function opensslIssuer(
  dir: string,
): (name: string, subject: string, ext: string, issuer?: Issued, options?: IssueOptions) => Issued {
  let serial = 1;
  const extFileWithReq = (extFile: string) => {
    const conf = `${extFile}.cnf`;
    writeFileSync(conf, `[req]\ndistinguished_name=dn\n[dn]\n${readFileSync(extFile, 'utf8')}`);
    return conf;
  };
  return (name, subject, ext, issuer, options = {}) => {
    const k = join(dir, `${name}.key`);
    ossl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', k]);
    const cert = join(dir, `${name}.pem`);
    const extFile = join(dir, `${name}.ext`);
    const digest = `-${options.digest ?? 'sha256'}`;
    writeFileSync(extFile, `[v3]\n${ext}\n${options.sections ?? ''}`);
    if (!issuer) {
      ossl([
        'req',
        '-x509',
        '-new',
        '-key',
        k,
        '-subj',
        subject,
        '-days',
        '30',
        digest,
        '-out',
        cert,
        '-extensions',
        'v3',
        '-config',
        extFileWithReq(extFile),
      ]);
    } else {
      const csr = join(dir, `${name}.csr`);
      ossl([
        'req',
        '-new',
        '-key',
        k,
        '-subj',
        subject,
        '-multivalue-rdn',
        '-utf8',
        '-out',
        csr,
        '-config',
        extFileWithReq(extFile),
      ]);
      ossl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        issuer.cert,
        '-CAkey',
        issuer.key,
        '-days',
        '30',
        digest,
        '-set_serial',
        String(serial++),
        '-extfile',
        extFile,
        '-extensions',
        'v3',
        '-out',
        cert,
      ]);
    }
    return { cert, key: k };
  };
}

export function makeTestPki(dir: string): TestPki {
  const issuer = opensslIssuer(dir);
  const issue = (name: string, subject: string, ext: string, by?: Issued, extraSections = '') =>
    issuer(name, subject, ext, by, { sections: extraSections });
  const ca = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign';
  const leaf = (eku: string, san?: string) =>
    `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${eku}${san ? `\nsubjectAltName=${san}` : ''}`;

  const root = issue('root', '/O=Platform/CN=Platform Root CA', ca);
  const inter = issue('intermediate', '/O=Platform/CN=Platform Client CA', ca, root);
  const client = issue(
    'client',
    CLIENT_SUBJECT,
    leaf('clientAuth', 'DNS:hooks.platform.example,DNS:*.egress.platform.example'),
    inter,
  );
  const serverOnly = issue('server-only', CLIENT_SUBJECT, leaf('serverAuth', 'DNS:hooks.platform.example'), inter);
  const noSan = issue('no-san', '/O=Platform/CN=hooks.platform.example', leaf('clientAuth'), inter);
  const sanInjection = issue(
    'san-injection',
    '/CN=evil.example',
    leaf('clientAuth', '@alt'),
    inter,
    '[alt]\nDNS.1 = evil.example, DNS:hooks.platform.example\n',
  );
  const twoCn = issue('two-cn', '/CN=evil.example+CN=hooks.platform.example', leaf('clientAuth'), inter);
  const inter2 = issue('intermediate2', '/O=Platform/CN=Platform Sub CA', ca, inter);
  const deep = issue('deep', CLIENT_SUBJECT, leaf('clientAuth', 'DNS:hooks.platform.example'), inter2);
  const otherRoot = issue('other-root', '/O=Other/CN=Other Root CA', ca);
  const impostor = issue('impostor', CLIENT_SUBJECT, leaf('clientAuth', 'DNS:hooks.platform.example'), otherRoot);
  const server = issue('server', '/CN=localhost', leaf('serverAuth', 'DNS:localhost,IP:127.0.0.1'), root);
  const sha1Signed = issuer('sha1-signed', CLIENT_SUBJECT, leaf('clientAuth', 'DNS:hooks.platform.example'), inter, {
    digest: 'sha1',
  });

  const pair = (p: { cert: string; key: string }): Pair => ({
    certPem: readFileSync(p.cert, 'utf8'),
    keyPem: readFileSync(p.key, 'utf8'),
  });
  const r = pair(root);
  const i = pair(inter);
  const c = pair(client);
  const i2 = pair(inter2);
  const d = pair(deep);
  return {
    root: r,
    intermediate: i,
    client: c,
    clientSubject: 'CN=hooks.platform.example,OU=Webhooks,O=Acme\\, Inc.,C=US',
    clientChainPem: c.certPem + i.certPem,
    caBundlePem: i.certPem + r.certPem,
    serverOnly: pair(serverOnly),
    noSan: pair(noSan),
    sanInjection: pair(sanInjection),
    twoCn: pair(twoCn),
    deep: d,
    deepChainPem: d.certPem + i2.certPem + i.certPem,
    deepIntermediate: i2,
    otherRoot: pair(otherRoot),
    impostor: pair(impostor),
    server: pair(server),
    sha1Signed: pair(sha1Signed),
  };
}

/**
 * A TestPki for one test file: made before its tests in a temporary directory removed after them.
 * `now` is an hour into the client certificate's validity, for the verifier's injected clock.
 */
export function testPkiFixture(): { pki: TestPki; now: number; dir: string } {
  const dir = tempDir();
  const fixture = { pki: undefined as unknown as TestPki, now: 0, dir: dir.path };
  before(() => {
    fixture.pki = makeTestPki(dir.path);
    fixture.now = Date.parse(new X509Certificate(fixture.pki.client.certPem).validFrom) + 3_600_000;
  });
  after(() => dir.cleanup());
  return fixture;
}
