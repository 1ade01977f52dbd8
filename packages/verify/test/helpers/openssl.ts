import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/**
 * A self-signed P-256 certificate for `subject` (openssl `-subj` syntax, UTF-8, multi-valued RDNs
 * allowed) made by the real openssl, at `certPath` with its key at `keyPath`. Returns the subject as
 * OpenSSL prints it in RFC 2253 form: what nginx and HAProxy will forward.
 */
export function opensslSelfSigned(certPath: string, keyPath: string, subject: string): string {
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
      keyPath,
      '-out',
      certPath,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(made.status, 0, made.stderr);
  return opensslSubject(certPath);
}

/**
 * The subject of the certificate at `certPath` as OpenSSL prints it in RFC 2253 form. Only the line
 * end is cut: a DN ending in an escaped space keeps it.
 */
export function opensslSubject(certPath: string): string {
  const printed = spawnSync('openssl', ['x509', '-in', certPath, '-noout', '-subject', '-nameopt', 'RFC2253'], {
    encoding: 'utf8',
  });
  assert.equal(printed.status, 0, printed.stderr);
  return printed.stdout.replace(/^subject=/, '').replace(/\n$/, '');
}
