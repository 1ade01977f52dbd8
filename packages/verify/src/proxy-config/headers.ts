/**
 * Every request header through which some proxy kind states client-certificate facts, the client's
 * address, or a verdict. A generated configuration removes all inbound copies, not only those it sets
 * itself: an app misconfigured for another proxy kind must never read a value the caller wrote.
 */
export const CLEARED_HEADERS = [
  'X-SSL-Client-Verify',
  'X-SSL-Client-Used',
  'X-SSL-Client-Subject-DN',
  'X-SSL-Client-Issuer-DN',
  'X-SSL-Client-Fingerprint',
  'X-SSL-Client-Fingerprint-SHA256',
  'X-SSL-Client-SHA1',
  'X-SSL-Client-Serial',
  'X-SSL-Client-Cert',
  'X-SSL-Client-DER',
  'X-Forwarded-Client-Cert',
  'X-Forwarded-Tls-Client-Cert',
  'X-Forwarded-Tls-Client-Cert-Info',
  'X-Amzn-Mtls-Clientcert',
  'X-Amzn-Mtls-Clientcert-Serial-Number',
  'X-Amzn-Mtls-Clientcert-Issuer',
  'X-Amzn-Mtls-Clientcert-Subject',
  'X-Amzn-Mtls-Clientcert-Validity',
  'X-Amzn-Mtls-Clientcert-Leaf',
  'Client-Cert',
  'Client-Cert-Chain',
  'Hookwarden-Verified',
  'Forwarded',
  'X-Forwarded-For',
  'X-Forwarded-Proto',
  'X-Forwarded-Host',
  'X-Real-IP',
] as const;

/** nginx: header → variable (the contract with the verify package's nginx parser). */
export const NGINX_HEADERS: Record<string, string> = {
  'X-SSL-Client-Verify': '$ssl_client_verify',
  'X-SSL-Client-Subject-DN': '$ssl_client_s_dn',
  'X-SSL-Client-Issuer-DN': '$ssl_client_i_dn',
  'X-SSL-Client-Fingerprint': '$ssl_client_fingerprint',
  'X-SSL-Client-Serial': '$ssl_client_serial',
  'X-SSL-Client-Cert': '$ssl_client_escaped_cert',
  'X-Forwarded-For': '$remote_addr',
  'X-Forwarded-Proto': '$scheme',
};

/** HAProxy: header → log-format expression. */
export const HAPROXY_HEADERS: Record<string, string> = {
  'X-SSL-Client-Used': '%[ssl_c_used]',
  'X-SSL-Client-Verify': '%[ssl_c_verify]',
  'X-SSL-Client-Subject-DN': '%{+Q}[ssl_c_s_dn(,0,rfc2253)]',
  'X-SSL-Client-SHA1': '%[ssl_c_sha1,hex]',
  'X-SSL-Client-DER': '%[ssl_c_der,base64]',
  'X-Forwarded-For': '%[src]',
  'X-Forwarded-Proto': 'https',
};

/** Caddy: header → placeholder. */
export const CADDY_HEADERS: Record<string, string> = {
  'X-SSL-Client-Subject-DN': '{http.request.tls.client.subject}',
  'X-SSL-Client-Fingerprint-SHA256': '{http.request.tls.client.fingerprint}',
  'X-SSL-Client-DER': '{http.request.tls.client.certificate_der_base64}',
  'X-Forwarded-For': '{http.request.remote.host}',
  'X-Forwarded-Proto': '{http.request.scheme}',
};
