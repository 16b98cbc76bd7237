// What went wrong in a TLS handshake, in words an operator can act on. Node reports certificate
// problems with OpenSSL's verify codes (X509_V_ERR_* without the prefix, see openssl-verify(1))
// and a name mismatch as ERR_TLS_CERT_ALTNAME_INVALID (tls.checkServerIdentity).

/** The kinds of certificate failure Tessera names. */
export type TlsProblem = 'unknown-ca' | 'wrong-hostname' | 'expired' | 'not-yet-valid' | 'self-signed';

const PROBLEM_OF_CODE: Record<string, TlsProblem> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown-ca',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown-ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown-ca',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown-ca',
  CERT_SIGNATURE_FAILURE: 'unknown-ca',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed',
  ERR_TLS_CERT_ALTNAME_INVALID: 'wrong-hostname',
  HOSTNAME_MISMATCH: 'wrong-hostname',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
};

const ADVICE: Record<TlsProblem, string> = {
  'unknown-ca': 'the server’s certificate is not signed by a trusted CA; add the CA that issued it to the CA bundle',
  'self-signed': 'the server’s certificate is self-signed; add that certificate to the CA bundle',
  'wrong-hostname': 'the server’s certificate is not issued for the host name in the URL; use the name the certificate names',
  expired: 'the server’s certificate has expired; the directory’s administrator must renew it',
  'not-yet-valid': 'the server’s certificate is not valid yet; check the clocks of both machines',
};

/** The named problem behind a TLS failure (an error with Node's or OpenSSL's `code`), if it is one. */
export function tlsProblemOf(error: unknown): TlsProblem | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? PROBLEM_OF_CODE[code] : undefined;
}

/**
 * One sentence for a certificate failure, e.g. "TLS certificate rejected (CERT_HAS_EXPIRED): the
 * server’s certificate has expired; …"; undefined when the error is no certificate failure.
 */
export function describeTlsError(error: unknown): string | undefined {
  const problem = tlsProblemOf(error);
  if (!problem) return undefined;
  const code = (error as { code: string }).code;
  const detail = problem === 'wrong-hostname' ? ` (${String((error as Error).message).replace(/^Hostname\/IP does not match certificate's altnames: /, '')})` : '';
  return `TLS certificate rejected (${code}): ${ADVICE[problem]}${detail}`;
}

/** The certificates of a PEM bundle; throws a readable Error when one block is no certificate. */
export function certificatesOfBundle(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('No PEM certificate (-----BEGIN CERTIFICATE-----) found');
  return blocks;
}
