// Lambda: GET /console, /console/assets/{file}, /console/config.json — the page and where to log in; no data.
import { createConsoleStaticHandlerFromEnv } from '../wiring/console.ts';

export const handler = createConsoleStaticHandlerFromEnv(process.env);
