// The operations pages (role `ops`), built by the consoleops part: event search and detail, dead letters and
// replay, queue state, rejections. The shell (app.ts) lists them after the finance pages.
import type { PageDef } from '../pages.ts';

export const opsPages: PageDef[] = [];
