// Self-signed X.509 v3 certificates (RFC 5280) built with node:crypto keys and ./der.ts, for
// DERP's zero-config TLS: ECDSA P-256 + SHA-256, subject = issuer = CN, SubjectAltName with the
// DNS names and IP addresses clients dial (Go checks the SAN, never the CN), server-auth only.
//
// Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature BIT STRING }
// TBSCertificate ::= SEQUENCE { [0] EXPLICIT version(2 = v3), serialNumber, signature alg,
//   issuer Name, validity SEQUENCE { notBefore, notAfter }, subject Name,
//   subjectPublicKeyInfo, [3] EXPLICIT extensions SEQUENCE OF Extension }
// Extension ::= SEQUENCE { extnID OID, critical BOOLEAN (omitted when false), extnValue OCTET STRING }

import crypto from 'node:crypto';
import net from 'node:net';
import { bitString, boolean, explicit, ia5String, implicitPrimitive, integer, octetString, oid, sequence, set, time, utf8String } from './der.js';
import { ipv4ToBytes, ipv6ToBytes } from '../../protocol/stun/ip.js';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

export interface SelfSignedOptions {
  /** An EC P-256 private key; the certificate carries its public half. */
  privateKey: crypto.KeyObject;
  commonName: string;
  /** DNS names and/or IP addresses (IPv4 or IPv6 text) for the SubjectAltName. */
  hostNames: string[];
  notBefore: Date;
  notAfter: Date;
  /** Positive serial; default 16 random bytes with the top bit clear. */
  serialNumber?: Uint8Array;
}

function name(cn: string): Buffer {
  // Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue)
  return sequence(set(sequence(oid(OID.commonName), utf8String(cn))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/** GeneralNames: dNSName [2] IA5String, iPAddress [7] OCTET STRING (4 or 16 bytes). */
function subjectAltNames(hostNames: string[]): Buffer {
  const names = hostNames.map((h) => {
    if (net.isIPv4(h)) return implicitPrimitive(7, ipv4ToBytes(h));
    if (net.isIPv6(h)) return implicitPrimitive(7, ipv6ToBytes(h));
    return implicitPrimitive(2, ia5String(h).subarray(2)); // IA5 content under the [2] tag
  });
  return sequence(...names);
}

/** Builds and signs the certificate; returns its DER. */
export function createSelfSignedCertificate(opts: SelfSignedOptions): Buffer {
  const key = opts.privateKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new RangeError('self-signed DERP certificates use an EC P-256 key');
  }
  if (opts.hostNames.length === 0) throw new RangeError('a DERP certificate needs at least one host name');
  const spki = crypto.createPublicKey(key).export({ type: 'spki', format: 'der' });
  // The subject public key bits are the BIT STRING at the end of the SPKI (65 bytes for P-256).
  const publicKeyBits = spki.subarray(spki.length - 65);
  let serial = opts.serialNumber ? Buffer.from(opts.serialNumber) : crypto.randomBytes(16);
  if (!opts.serialNumber) serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and non-zero
  if (serial.every((b) => b === 0)) serial = Buffer.from([1]);
  const sigAlg = sequence(oid(OID.ecdsaWithSha256));
  const extensions = sequence(
    extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)), // digitalSignature
    extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
    extension(OID.basicConstraints, true, sequence()), // cA FALSE (the default, so empty)
    extension(OID.subjectKeyIdentifier, false, octetString(crypto.createHash('sha1').update(publicKeyBits).digest())),
    extension(OID.subjectAltName, false, subjectAltNames(opts.hostNames)),
  );
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(serial),
    sigAlg,
    name(opts.commonName),
    sequence(time(opts.notBefore), time(opts.notAfter)),
    name(opts.commonName),
    spki,
    explicit(3, extensions),
  );
  const signature = crypto.sign('sha256', tbs, { key, dsaEncoding: 'der' });
  return sequence(tbs, sigAlg, bitString(signature));
}

export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}
