// Lambda: ANY /console/api/{path+} behind the JWT authorizer — the console API (packages/console/src/api).
import { createConsoleApiHandlerFromEnv } from '../wiring/console.ts';

export const handler = createConsoleApiHandlerFromEnv(process.env);
