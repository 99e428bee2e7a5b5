// Lambda: GET /reports, GET /reports/{key+} — finance's access to reconciliation reports (adapters/reports-api.ts).
import { createReportsHandler } from './wiring/reports.ts';

export { createReports, type ReportsDeps } from './adapters/reports-api.ts';
export { createReportsHandler };

export const handler = createReportsHandler(process.env);
