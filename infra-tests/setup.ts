// vitest setup for the infra project (named in vitest.config.ts): synthesis must never touch AWS or the
// network. NODE_ENV=test makes SST skip its bootstrap lookup; telemetry would otherwise post to the internet.
import { installNetworkGuard } from './network-guard.ts';

process.env.NODE_ENV = 'test';
process.env.SST_TELEMETRY_DISABLED = '1';
// No credentials may be picked up from the developer's machine or CI: nothing here may call AWS.
for (const name of ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
  delete process.env[name];
}
installNetworkGuard();
