// Lambda: invoked by the console API (never by a route) with an uploaded bill/report file's key under uploads/ —
// reconciles it with the reconciliation role (reconciliation/upload.ts). No provider key: a file needs none.
import { createConsoleUploadHandler } from '../wiring/console.ts';

export const handler = createConsoleUploadHandler(process.env);
