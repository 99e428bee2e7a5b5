// Imported first by main.ts. The AWS SDK for JavaScript v3 warns once per process, at the first client's
// construction, that future releases will need a newer Node (@aws-sdk/core emitWarningIfUnsupportedVersion);
// for a CLI that is one process per command, so the notice was printed on every command. The SDK reads this
// documented switch when it constructs a client; an operator who wants the notice sets it to anything else.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
