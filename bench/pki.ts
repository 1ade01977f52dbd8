/**
 * Certificate and DN work against its practical limits, measured in the same run:
 *  - issuing an EC P-256 client leaf vs the bare WebCrypto work it needs (one key pair generated,
 *    one ECDSA signature over a certificate-sized message): the rest is ASN.1 and checks;
 *  - fingerprints vs hashing the DER alone;
 *  - parseDn vs @peculiar/x509's own DN string parser (a peer), and dnFromX509 (walking the DER)
 *    vs Node's native `X509Certificate.subject`, both from the DER.
 *
 *   node --import tsx bench/pki.ts
 */
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createHierarchy, fingerprints, issueCertificate } from '@hookwarden/pki';
import { dnFromX509, parseDn } from '@hookwarden/verify/dn';
// Through the package's own module so the library's prerequisites load first.
import { x509 } from '../packages/pki/src/x509.ts';

// The peer's parser cannot read nginx's form (hex-escaped UTF-8 plus a multi-valued RDN), so the
// comparison uses a DN both can parse; the nginx form is timed for ours alone.
const DN = 'CN=callbacks.example.com,OU=x\\,CN=admin,O=Acme\\, Inc.,C=US';
const NGINX_DN = 'emailAddress=a@b.c,CN=Caf\\C3\\A9 hooks,UID=42+OU=Dev,OU=x\\,CN=admin,O=Acme\\, Inc.,C=US';

async function rate(seconds: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  // Warm up, then count whole iterations in a bounded window.
  for (let i = 0; i < 20; i++) await fn();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end && n < 1_000_000) {
    await fn();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

function syncRate(seconds: number, fn: () => unknown): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (n < 5_000_000) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    if (performance.now() >= end) break;
  }
  return n / ((performance.now() - start) / 1000);
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(1));

export async function run(): Promise<void> {
  const h = await createHierarchy({ subject: 'CN=bench.example.com,O=Example', dnsNames: ['bench.example.com'] });
  const tbs = new Uint8Array(new X509Certificate(h.leaf.certPem).raw.length - 72);

  const issue = await rate(1.5, () =>
    issueCertificate(h.intermediate, { subject: 'CN=leaf.example.com', dnsNames: ['leaf.example.com'] }),
  );
  const floor = await rate(1.5, async () => {
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, tbs);
    await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  });
  console.log(
    `issue EC P-256 leaf        ${fmt(issue)}/s   bare keygen+sign ${fmt(floor)}/s   ratio ${(issue / floor).toFixed(2)}`,
  );

  const der = new X509Certificate(h.leaf.certPem).raw;
  const fp = syncRate(1, () => fingerprints(der));
  const hashOnly = syncRate(1, () => {
    createHash('sha256').update(der).digest();
    createHash('sha1').update(der).digest();
  });
  console.log(
    `fingerprints (DER)         ${fmt(fp)}/s   two hashes alone ${fmt(hashOnly)}/s   ratio ${(fp / hashOnly).toFixed(2)}`,
  );

  const ours = syncRate(1, () => parseDn(DN));
  const peer = syncRate(1, () => new x509.Name(DN));
  console.log(
    `parseDn                    ${fmt(ours)}/s   @peculiar/x509 Name ${fmt(peer)}/s   ratio ${(ours / peer).toFixed(2)}`,
  );
  let peerReadsNginx = true;
  try {
    new x509.Name(NGINX_DN);
  } catch {
    peerReadsNginx = false;
  }
  const nginxForm = syncRate(1, () => parseDn(NGINX_DN));
  console.log(
    `parseDn (nginx form)       ${fmt(nginxForm)}/s   peer ${peerReadsNginx ? 'parses it' : 'cannot parse it'}`,
  );

  // Node caches `subject` on the object, so both sides start from the DER: parse it, read the subject.
  const fromDer = syncRate(1, () => dnFromX509(new X509Certificate(der)));
  const native = syncRate(1, () => new X509Certificate(der).subject);
  console.log(
    `dnFromX509 (from DER)      ${fmt(fromDer)}/s   Node's native subject ${fmt(native)}/s   ratio ${(fromDer / native).toFixed(2)}`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
