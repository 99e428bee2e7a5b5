// The shell: configuration, login, who am I (GET /me), role-aware navigation and the page for the current hash.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { createApi } from './api.ts';
import { financePages } from './finance/index.ts';
import { html } from './html.ts';
import { Login } from './login.ts';
import { opsPages } from './ops/index.ts';
import type { Me, PageDef } from './pages.ts';
import { matchPath, useLocation } from './route.ts';
import { type ConsoleConfig, loadConfig, loadSession, type Session, saveSession } from './session.ts';

export const pages: PageDef[] = [...financePages, ...opsPages];

const allowed = (page: PageDef, me: Me) => page.roles.some((role) => me.roles.includes(role));

export function App() {
  const [config, setConfig] = useState<ConsoleConfig | undefined>();
  const [configError, setConfigError] = useState<string | undefined>();
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const [me, setMe] = useState<Me | undefined>();
  const location = useLocation();

  useEffect(() => {
    loadConfig().then(setConfig, (error: Error) => setConfigError(error.message));
  }, []);
  const signOut = () => {
    saveSession(undefined);
    setSession(undefined);
    setMe(undefined);
  };
  const api = useMemo(() => createApi(() => session?.idToken, signOut), [session]);
  useEffect(() => {
    if (!session) return;
    api.get<Me>('/me').then(setMe, () => signOut());
  }, [session]);

  if (configError) return html`<main id="main"><p class="error" role="alert">${configError}</p></main>`;
  if (!config) return html`<main id="main"><p class="muted">Loading…</p></main>`;
  if (!session)
    return html`<${Login} config=${config} onSession=${(s: Session) => {
      saveSession(s);
      setSession(s);
    }} />`;
  if (!me) return html`<main id="main"><p class="muted">Loading…</p></main>`;

  const visible = pages.filter((page) => allowed(page, me));
  const home =
    visible.find((p) => p.nav && p.homeFor?.some((role) => me.roles.includes(role))) ??
    visible.find((p) => p.nav);
  let page: PageDef | undefined;
  let params: Record<string, string> = {};
  for (const candidate of visible) {
    const match = matchPath(candidate.path, location.path);
    if (match) {
      page = candidate;
      params = match;
      break;
    }
  }
  if (!page && location.path === '/' && home) page = home;
  const forbidden = !page && pages.some((p) => matchPath(p.path, location.path));

  return html`<div class="shell">
    <a class="skip" href="#main" onClick=${(e: Event) => {
      e.preventDefault();
      document.getElementById('main')?.focus();
    }}>Skip to content</a>
    <header class="top">
      <span class="brand">payhooks <span class="muted">${config.stage}</span></span>
      <nav aria-label="Pages">
        <ul>
          ${visible
            .filter((p) => p.nav)
            .map(
              (p) =>
                html`<li><a href=${`#${p.path}`} aria-current=${p === page ? 'page' : undefined}>${p.title}</a></li>`,
            )}
        </ul>
      </nav>
      <span class="who">${me.user} (${me.roles.join(', ') || 'no role'})
        <button type="button" class="link" onClick=${signOut}>Log out</button></span>
    </header>
    <main id="main" tabindex="-1">
      ${
        page
          ? page.render({ api, me, params, location })
          : html`<h1>${forbidden ? 'Not for your role' : 'Not found'}</h1>
            <p>${forbidden ? 'Your role cannot use this page.' : 'There is no such page.'}
            ${home ? html` Go to <a href=${`#${home.path}`}>${home.title}</a>.` : null}</p>`
      }
    </main>
  </div>`;
}
