// TLS from security.toml, with the sections weed uses for a volume server:
//   [https.volume] cert, key (HTTPS on the admin port; weed's public port stays plain HTTP) and ca
//     (when set, clients must present a certificate signed by it);
//   [grpc.volume] cert, key and [grpc.ca]: the gRPC server requires client certificates, and the
//     same pair is our client identity towards masters and peers ([grpc.volume] client_cert and
//     client_key take precedence on the client side, as in weed);
//   [tls] min_version, max_version ("TLS 1.2", "TLS 1.3").
// Certificates are watched (tls-watch) and swapped in for new connections without a restart.
// Like weed's advancedtls CertVerification, peers are checked against the CA, not by host name.

import type { SecureContextOptions, SecureVersion } from "node:tls";
import {
  type ChannelCredentials,
  experimental,
  credentials as grpcCredentials,
  ServerCredentials,
} from "@grpc/grpc-js";
import { configString, type SecurityConfig } from "./config.js";
import { certRefreshIntervalMs, PemFiles } from "./tls-watch.js";

export interface HttpsIdentity {
  /** Options for https.createServer / setSecureContext, with the current files' contents. */
  options(): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean };
  /** Called with fresh options whenever a certificate file changes. */
  watch(onChange: () => void, onError: (err: Error) => void): void;
  close(): void;
}

function tlsVersion(security: SecurityConfig, key: string): SecureVersion | undefined {
  const name = configString(security, key);
  const versions: Record<string, SecureVersion> = {
    "TLS 1.0": "TLSv1",
    "TLS 1.1": "TLSv1.1",
    "TLS 1.2": "TLSv1.2",
    "TLS 1.3": "TLSv1.3",
  };
  if (name === "") return undefined;
  const v = versions[name];
  if (!v) throw new Error(`invalid tls version ${name}`);
  return v;
}

/** HTTPS for the volume server's admin port, or undefined when [https.volume] key is not set. */
export function httpsIdentity(security: SecurityConfig): HttpsIdentity | undefined {
  if (configString(security, "https.volume.key") === "") return undefined;
  const cert = configString(security, "https.volume.cert");
  const key = configString(security, "https.volume.key");
  const ca = configString(security, "https.volume.ca");
  if (cert === "") throw new Error("https.volume.cert and https.volume.key must both be set");
  const files = new PemFiles(ca ? [cert, key, ca] : [cert, key]);
  const minVersion = tlsVersion(security, "tls.min_version");
  const maxVersion = tlsVersion(security, "tls.max_version");
  const options = () => {
    const [certPem, keyPem, caPem] = files.contents;
    return {
      cert: certPem,
      key: keyPem,
      ...(caPem ? { ca: caPem } : {}),
      ...(minVersion ? { minVersion } : {}),
      ...(maxVersion ? { maxVersion } : {}),
      requestCert: caPem !== undefined,
      rejectUnauthorized: caPem !== undefined,
    };
  };
  return {
    options,
    watch: (onChange, onError) => files.watch(certRefreshIntervalMs(), onChange, onError),
    close: () => files.close(),
  };
}

function watchedProvider(config: {
  certificateFile?: string;
  privateKeyFile?: string;
  caCertificateFile?: string;
}) {
  return new experimental.FileWatcherCertificateProvider({
    ...config,
    refreshIntervalMs: certRefreshIntervalMs(),
  });
}

/** gRPC server credentials: mutual TLS when [grpc.volume] cert and key are set. */
export function grpcServerCredentials(
  security: SecurityConfig,
  component = "grpc.volume",
): ServerCredentials {
  const cert = configString(security, `${component}.cert`);
  const key = configString(security, `${component}.key`);
  if (cert === "" && key === "") return ServerCredentials.createInsecure();
  if (cert === "" || key === "") throw new Error(`${component}.cert and ${component}.key must both be set`);
  const ca = configString(security, "grpc.ca");
  if (ca === "") throw new Error(`${component} cert and key are set but grpc.ca is not`);
  // One provider for CA and identity: grpc-js 1.14's factory hands its two provider arguments to
  // the constructor in swapped order, which only a shared provider survives.
  const both = watchedProvider({ caCertificateFile: ca, certificateFile: cert, privateKeyFile: key });
  return experimental.createCertificateProviderServerCredentials(both, both, true);
}

/** gRPC client credentials towards masters and peers: our [grpc.volume] identity, CA-verified. */
export function grpcClientCredentials(
  security: SecurityConfig,
  component = "grpc.volume",
): ChannelCredentials {
  let cert = configString(security, `${component}.client_cert`);
  let key = configString(security, `${component}.client_key`);
  if ((cert === "") !== (key === "")) {
    throw new Error(`${component}.client_cert and ${component}.client_key must both be set`);
  }
  if (cert === "") {
    cert = configString(security, `${component}.cert`);
    key = configString(security, `${component}.key`);
  }
  if (cert === "" && key === "") return grpcCredentials.createInsecure();
  if (cert === "" || key === "") throw new Error(`${component}.cert and ${component}.key must both be set`);
  const ca = configString(security, "grpc.ca");
  if (ca === "") throw new Error(`${component} cert and key are set but grpc.ca is not`);
  return experimental.createCertificateProviderChannelCredentials(
    watchedProvider({ caCertificateFile: ca }),
    watchedProvider({ certificateFile: cert, privateKeyFile: key }),
    { checkServerIdentity: () => undefined },
  );
}
