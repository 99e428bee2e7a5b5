// ConsoleAuth: who may sign in to the console. One Cognito user pool per stage (SST v2 `Cognito`), no self
// sign-up — an administrator creates each user and puts them in `finance` and/or `ops` (docs/deploy.md) — and a
// public app client (no secret: the page runs in a browser) allowing USER_PASSWORD_AUTH, which the page posts to
// Cognito's InitiateAuth, and SRP. The HTTP API's JWT authorizer (stacks/Api.ts) accepts only this pool's ID
// tokens for this client; the console API reads the groups from the verified `cognito:groups` claim.
import { Duration } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Cognito, type StackContext } from 'sst/constructs';
import { waive } from './nag.ts';
import { stageSettings } from './stage.ts';

/** The console's roles: the JWT's `cognito:groups` names them; the API enforces what each may do. */
export const CONSOLE_GROUPS = {
  finance: 'Finance: overview, breaks (assign, note, resolve, write off), downloads, uploads',
  ops: 'Operations: event search, raw bodies (masked), dead letters and replay, queue health',
} as const;

/** ID and access tokens live one hour; a refresh token one working day. */
const TOKEN_VALIDITY = {
  idToken: Duration.hours(1),
  accessToken: Duration.hours(1),
  refresh: Duration.hours(12),
};

export function ConsoleAuth({ stack, app }: StackContext) {
  const settings = stageSettings(app.stage);
  const auth = new Cognito(stack, 'ConsoleUsers', {
    login: ['email'],
    // Browsers get ID tokens for our API, never AWS credentials.
    identityPoolFederation: false,
    cdk: {
      userPool: {
        selfSignUpEnabled: false,
        signInCaseSensitive: false,
        passwordPolicy: {
          minLength: 14,
          requireLowercase: true,
          requireUppercase: true,
          requireDigits: true,
          requireSymbols: true,
          tempPasswordValidity: Duration.days(3),
        },
        mfa: cognito.Mfa.OPTIONAL,
        mfaSecondFactor: { otp: true, sms: false },
        accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
        // Threat protection (compromised credentials, risky sign-ins) enforced: these users move money states.
        featurePlan: cognito.FeaturePlan.PLUS,
        standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
        deletionProtection: settings.retained,
        removalPolicy: settings.removal,
      },
      userPoolClient: {
        authFlows: { userPassword: true, userSrp: true },
        generateSecret: false,
        preventUserExistenceErrors: true,
        enableTokenRevocation: true,
        idTokenValidity: TOKEN_VALIDITY.idToken,
        accessTokenValidity: TOKEN_VALIDITY.accessToken,
        refreshTokenValidity: TOKEN_VALIDITY.refresh,
      },
    },
  });

  for (const [group, description] of Object.entries(CONSOLE_GROUPS)) {
    new cognito.CfnUserPoolGroup(stack, `ConsoleGroup${group[0]!.toUpperCase()}${group.slice(1)}`, {
      userPoolId: auth.userPoolId,
      groupName: group,
      description,
    });
  }

  waive(auth, [
    {
      id: 'AwsSolutions-COG2',
      reason:
        'MFA is optional by decision (issue 16): finance and ops users enrol TOTP themselves; threat protection ' +
        'is enforced, and every state change is in the audit trail with the signed-in user.',
    },
  ]);

  /** The issuer the JWT authorizer trusts: this pool's, in this region. */
  const issuer = `https://cognito-idp.${stack.region}.amazonaws.com/${auth.userPoolId}`;
  stack.addOutputs({ ConsoleUserPoolId: auth.userPoolId, ConsoleUserPoolClientId: auth.userPoolClientId });
  return { auth, issuer, userPoolId: auth.userPoolId, clientId: auth.userPoolClientId };
}
