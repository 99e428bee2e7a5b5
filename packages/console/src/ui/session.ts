// Login and the session token. The form posts Cognito's InitiateAuth (USER_PASSWORD_AUTH) to the URL from
// /console/config.json — Cognito on AWS, the local gateway's /console/auth locally, the same request shape. The ID
// token lives in sessionStorage (this tab only, gone when it closes), never in a cookie, and is sent as
// Authorization: Bearer.

export interface ConsoleConfig {
  authUrl: string;
  clientId: string;
  stage: string;
}

export interface Session {
  idToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

const KEY = 'payhooks.console.session';

export function loadSession(): Session | undefined {
  try {
    const session = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    return session && session.expiresAt > Date.now() + 5000 ? session : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch('/console/config.json', { cache: 'no-cache' });
  if (!response.ok) throw new Error(`console configuration unavailable (HTTP ${response.status})`);
  return (await response.json()) as ConsoleConfig;
}

interface AuthAnswer {
  AuthenticationResult?: { IdToken?: string; ExpiresIn?: number };
  ChallengeName?: string;
  Session?: string;
  message?: string;
  __type?: string;
}

export type LoginResult =
  | { kind: 'session'; session: Session }
  | { kind: 'new-password'; challengeSession: string }
  | { kind: 'refused'; message: string };

async function cognito(config: ConsoleConfig, target: string, body: unknown): Promise<LoginResult> {
  let response: Response;
  try {
    response = await fetch(config.authUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSCognitoIdentityProviderService.${target}`,
      },
      body: JSON.stringify(body),
    });
  } catch {
    return { kind: 'refused', message: 'The login service cannot be reached.' };
  }
  const answer = (await response.json().catch(() => ({}))) as AuthAnswer;
  if (!response.ok)
    return { kind: 'refused', message: answer.message ?? `Login failed (HTTP ${response.status}).` };
  if (answer.ChallengeName === 'NEW_PASSWORD_REQUIRED' && answer.Session)
    return { kind: 'new-password', challengeSession: answer.Session };
  const token = answer.AuthenticationResult?.IdToken;
  if (!token)
    return {
      kind: 'refused',
      message: `Login needs a step this console does not support (${answer.ChallengeName}).`,
    };
  return {
    kind: 'session',
    session: {
      idToken: token,
      expiresAt: Date.now() + (answer.AuthenticationResult?.ExpiresIn ?? 3600) * 1000,
    },
  };
}

export const logIn = (config: ConsoleConfig, username: string, password: string) =>
  cognito(config, 'InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: config.clientId,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });

/** The first login of a user an administrator created: Cognito asks for a new password. */
export const setNewPassword = (
  config: ConsoleConfig,
  username: string,
  password: string,
  challengeSession: string,
) =>
  cognito(config, 'RespondToAuthChallenge', {
    ChallengeName: 'NEW_PASSWORD_REQUIRED',
    ClientId: config.clientId,
    Session: challengeSession,
    ChallengeResponses: { USERNAME: username, NEW_PASSWORD: password },
  });
