// The login form: user and password to the auth endpoint from /console/config.json (Cognito's InitiateAuth).
import { useState } from 'preact/hooks';
import { html } from './html.ts';
import { type ConsoleConfig, logIn, type Session, setNewPassword } from './session.ts';

export function Login({ config, onSession }: { config: ConsoleConfig; onSession: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [challenge, setChallenge] = useState<string | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setMessage(undefined);
    const result = challenge
      ? await setNewPassword(config, username, password, challenge)
      : await logIn(config, username, password);
    setBusy(false);
    if (result.kind === 'session') onSession(result.session);
    else if (result.kind === 'new-password') {
      setChallenge(result.challengeSession);
      setPassword('');
      setMessage('Choose a new password to finish your first login.');
    } else setMessage(result.message);
  }

  return html`<main class="login" id="main">
    <form class="card" onSubmit=${submit} aria-labelledby="login-title">
      <h1 id="login-title">payhooks console</h1>
      <p class="muted">Stage ${config.stage}</p>
      <div class="field">
        <label for="login-user">User name</label>
        <input id="login-user" name="username" autocomplete="username" required value=${username}
          onInput=${(e: Event) => setUsername((e.target as HTMLInputElement).value)} />
      </div>
      <div class="field">
        <label for="login-password">${challenge ? 'New password' : 'Password'}</label>
        <input id="login-password" name="password" type="password" required
          autocomplete=${challenge ? 'new-password' : 'current-password'} value=${password}
          onInput=${(e: Event) => setPassword((e.target as HTMLInputElement).value)} />
      </div>
      ${message ? html`<p class="error" role="alert">${message}</p>` : null}
      <button type="submit" disabled=${busy}>${challenge ? 'Set password and log in' : 'Log in'}</button>
    </form>
  </main>`;
}
