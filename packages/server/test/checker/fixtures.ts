import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CertKey,
  caBundlePem,
  chainPem,
  createHierarchy,
  createSelfSignedCa,
  issueCertificate,
} from '@hookwarden/pki';
import type { ClientIdentity } from '../../src/checker/index.ts';
import type { TlsVersion } from '../../src/delivery/ciphers.ts';

/** The platform's identity and CA, and server certificates from a separate CA. */
export interface Fixtures {
  platform: { identity: ClientIdentity; caPem: string };
  /** A client identity from a CA the servers do not trust. */
  stranger: ClientIdentity;
  serverRoot: CertKey;
  serverIntermediate: CertKey;
  ecServer: CertKey;
  rsaServer: CertKey;
  otherCa: CertKey;
}

export async function makeFixtures(opts: { rsa?: boolean } = {}): Promise<Fixtures> {
  const platform = await createHierarchy({ subject: 'CN=callbacks.hookwarden.test,O=Hookwarden' });
  const servers = await createHierarchy({
    subject: 'CN=unused,O=Receiver',
    rootSubject: 'CN=Receiver Root,O=Receiver',
  });
  const leaf = {
    subject: 'CN=localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server' as const,
  };
  const ecServer = await issueCertificate(servers.intermediate, leaf);
  const rsaServer = opts.rsa
    ? await issueCertificate(servers.intermediate, { ...leaf, keyType: 'rsa-2048' })
    : ecServer;
  const otherCa = await createSelfSignedCa({ subject: 'CN=Some Other CA,O=Elsewhere' });
  const strangerLeaf = await issueCertificate(otherCa, { subject: 'CN=stranger' });
  return {
    platform: {
      identity: { certPem: platform.leaf.certPem, keyPem: platform.leaf.keyPem, chainPem: chainPem(platform) },
      caPem: caBundlePem(platform),
    },
    stranger: { certPem: strangerLeaf.certPem, keyPem: strangerLeaf.keyPem, chainPem: strangerLeaf.certPem },
    serverRoot: servers.root,
    serverIntermediate: servers.intermediate,
    ecServer,
    rsaServer,
    otherCa,
  };
}

/** Writes files for a server under test; keys 0600 like any key file. */
export function writeFiles(dir: string, files: Record<string, string>): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    chmodSync(path, 0o600);
    paths[name] = path;
  }
  return paths;
}

export interface SslscanResult {
  protocols: Set<TlsVersion>;
  ciphers: Map<TlsVersion, Set<string>>;
}

const SSLSCAN_VERSION: Record<string, TlsVersion> = {
  '1.0': 'TLSv1',
  '1.1': 'TLSv1.1',
  '1.2': 'TLSv1.2',
  '1.3': 'TLSv1.3',
  'TLSv1.0': 'TLSv1',
  'TLSv1.1': 'TLSv1.1',
  'TLSv1.2': 'TLSv1.2',
  'TLSv1.3': 'TLSv1.3',
};

/** What sslscan reports for a loopback server, from its XML output. */
export function parseSslscanXml(xml: string): SslscanResult {
  const protocols = new Set<TlsVersion>();
  for (const m of xml.matchAll(/<protocol type="tls" version="([\d.]+)" enabled="1"/g)) {
    const v = SSLSCAN_VERSION[m[1]!];
    if (v) protocols.add(v);
  }
  const ciphers = new Map<TlsVersion, Set<string>>();
  for (const m of xml.matchAll(/<cipher status="(?:accepted|preferred)" sslversion="([^"]+)"[^>]* cipher="([^"]+)"/g)) {
    const v = SSLSCAN_VERSION[m[1]!];
    if (!v) continue;
    if (!ciphers.has(v)) ciphers.set(v, new Set());
    ciphers.get(v)!.add(m[2]!);
  }
  return { protocols, ciphers };
}

export function sslscan(port: number): Promise<SslscanResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sslscan', ['--xml=-', '--no-colour', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(parseSslscanXml(out)) : reject(new Error(`sslscan exited ${code}`)),
    );
  });
}
