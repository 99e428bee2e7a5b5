// The operations pages (role `ops`): event search and detail, dead letters with a confirmed replay, and health
// (queues, rejections, lag and queue-depth charts). The shell (app.ts) lists them after the finance pages.
import { html } from '../html.ts';
import type { PageDef } from '../pages.ts';
import { DeadLettersPage } from './dead-letters.ts';
import { EventDetailPage } from './event-detail.ts';
import { EventsPage } from './events.ts';
import { HealthPage } from './health.ts';

export const opsPages: PageDef[] = [
  {
    path: '/ops/events',
    title: 'Events',
    roles: ['ops'],
    nav: true,
    homeFor: ['ops'],
    render: (p) => html`<${EventsPage} ...${p} />`,
  },
  {
    path: '/ops/events/:provider/:eventId',
    title: 'Event',
    roles: ['ops'],
    nav: false,
    render: (p) => html`<${EventDetailPage} ...${p} />`,
  },
  {
    path: '/ops/dead-letters',
    title: 'Dead letters',
    roles: ['ops'],
    nav: true,
    render: (p) => html`<${DeadLettersPage} ...${p} />`,
  },
  {
    path: '/ops/health',
    title: 'Health',
    roles: ['ops'],
    nav: true,
    render: (p) => html`<${HealthPage} ...${p} />`,
  },
];
