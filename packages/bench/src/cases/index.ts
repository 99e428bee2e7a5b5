// The benchmark cases by number, and which of them need PostgreSQL.
import type { CaseOptions, CaseResult } from '../types.ts';
import { runColdStart } from './cold-start.ts';
import { runConsumer } from './consumer.ts';
import { runEndToEnd } from './end-to-end.ts';
import { runIngressCpu } from './ingress-cpu.ts';
import { runIngressHttp } from './ingress-http.ts';
import { runOrderStatus } from './order-status.ts';
import { runRecon } from './recon.ts';
import { runWechatpayNodeV3 } from './wechatpay-node-v3.ts';

export interface BenchCase {
  id: number;
  name: string;
  needsPostgres: boolean;
  run(options: CaseOptions): Promise<CaseResult>;
}

export const CASES: readonly BenchCase[] = [
  { id: 1, name: 'ingress CPU', needsPostgres: false, run: runIngressCpu },
  { id: 2, name: 'ingress over HTTP', needsPostgres: false, run: runIngressHttp },
  { id: 3, name: 'consumer', needsPostgres: true, run: runConsumer },
  { id: 4, name: 'cold start', needsPostgres: false, run: runColdStart },
  { id: 5, name: 'reconciliation', needsPostgres: true, run: runRecon },
  { id: 6, name: 'wechatpay-node-v3', needsPostgres: false, run: runWechatpayNodeV3 },
  { id: 7, name: 'end to end vs synchronous baseline', needsPostgres: true, run: runEndToEnd },
  { id: 8, name: 'order-status API', needsPostgres: true, run: runOrderStatus },
];
