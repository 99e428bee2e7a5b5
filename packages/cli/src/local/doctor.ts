// The doctor's checks of the local stack, from the local runtime's preflight: ports free (when no stack runs),
// local.json valid and belonging to a running stack, and the database local.json names answering.
import { localDoctorChecks } from '@payhooks/local/stack';
import { addDoctorCheck } from '../doctor/checks.ts';

for (const check of localDoctorChecks)
  addDoctorCheck({
    name: check.name,
    targets: ['local'],
    run: ({ env, stateDir }) => check.run({ env, stateDir, purpose: 'inspect' }),
  });
