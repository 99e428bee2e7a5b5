// The finance pages. Ops may read the overview and the breaks (the API refuses them the actions); reports and
// uploads are finance's.
import { html } from '../html.ts';
import type { PageDef } from '../pages.ts';
import { BreakDetailPage } from './break-detail.ts';
import { BreaksPage } from './breaks.ts';
import { OverviewPage } from './overview.ts';
import { ReportsPage } from './reports.ts';

export const financePages: PageDef[] = [
  {
    path: '/overview',
    title: 'Overview',
    roles: ['finance', 'ops'],
    nav: true,
    homeFor: ['finance'],
    render: (p) => html`<${OverviewPage} ...${p} />`,
  },
  {
    path: '/breaks',
    title: 'Breaks',
    roles: ['finance', 'ops'],
    nav: true,
    render: (p) => html`<${BreaksPage} ...${p} />`,
  },
  {
    path: '/breaks/:id',
    title: 'Break',
    roles: ['finance', 'ops'],
    nav: false,
    render: (p) => html`<${BreakDetailPage} ...${p} />`,
  },
  {
    path: '/reports',
    title: 'Reports',
    roles: ['finance'],
    nav: true,
    render: (p) => html`<${ReportsPage} ...${p} />`,
  },
];
