// The console's entry point (bundled by build.ts into app.js).
import { render } from 'preact';
import { App } from './app.ts';
import { html } from './html.ts';

render(html`<${App} />`, document.getElementById('app')!);
