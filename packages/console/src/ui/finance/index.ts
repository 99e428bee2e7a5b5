// The finance pages (role finance; ops may read the overview and breaks, the API refuses them the actions).

import { html } from '../html.ts';
import type { PageDef } from '../pages.ts';

export const financePages: PageDef[] = [
  {
    path: '/overview',
    title: 'Overview',
    roles: ['finance', 'ops'],
    nav: true,
    render: () => html`<h1>Overview</h1>`,
  },
];
