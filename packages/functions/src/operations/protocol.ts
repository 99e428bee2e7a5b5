// What the operator CLI may ask the operations function of a stage (`payhooks --stage NAME …` for anything that
// needs the database or the providers, which a laptop cannot and must not reach directly). One request in, one
// response out: an error thrown on purpose comes back as data (code + message), so the CLI prints one line.
import * as z from 'zod';

const isoInstant = z.iso.datetime({ offset: true });

export const operationRequestSchema = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('failures'),
    events: z.array(z.object({ provider: z.string(), eventId: z.string() })).max(10_000),
    messageIds: z.array(z.string()).max(10_000).default([]),
  }),
  z.object({
    action: z.literal('recon-run'),
    provider: z.enum(['wechatpay', 'stripe']),
    date: z.string().optional(),
    account: z.string().optional(),
    force: z.boolean().default(false),
  }),
  z.object({
    action: z.literal('backfill-stripe'),
    since: isoInstant,
    until: isoInstant.optional(),
    account: z.string().optional(),
    dryRun: z.boolean().default(false),
  }),
  z.object({
    action: z.literal('backfill-wechatpay'),
    olderThanMinutes: z.number().int().min(0).default(10),
    since: isoInstant.optional(),
    dryRun: z.boolean().default(false),
  }),
  z.object({ action: z.literal('doctor') }),
]);

export type OperationRequest = z.input<typeof operationRequestSchema>;
export type OperationAction = OperationRequest['action'];

export type OperationResponse<T = unknown> =
  | { ok: true; action: OperationAction; result: T }
  | { ok: false; code: string; message: string };

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}
