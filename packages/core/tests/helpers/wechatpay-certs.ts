// The certificate builder lives with the sandbox, which needs it at runtime; core tests use the same one.
export { type SelfSignedOptions, selfSignedCertificatePem } from '@payhooks/testkit/sandbox/x509';
