// The notification envelope's shape check without zod: the same acceptance as `notificationSchema`
// (notification.ts; a property test pins the two together) in plain code, so the webhook's import path carries
// no schema library (cold start) and a callback costs no schema pass (bench case 1). Like the schema, unknown
// fields are dropped from the returned object and every failing field is named, in the schema's order.
import { RESOURCE_ALGORITHM } from './constants.ts';
import type { Notification } from './notification.ts';

// zod 4's z.iso.datetime({ offset: true }): RFC 3339 with seconds, optional fraction, `Z` or ±hh:mm; calendar
// dates only (leap days included).
const DATE =
  '(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))';
export const PROVIDER_TIME = new RegExp(
  `^${DATE}T(?:(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:Z|([+-](?:[01]\\d|2[0-3]):[0-5]\\d)))$`,
);

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** The envelope with only its documented fields, or the paths of the fields that fail (e.g. `resource.nonce`). */
export function checkNotificationEnvelope(
  value: unknown,
): { ok: true; notification: Notification } | { ok: false; fields: string[] } {
  if (!isObject(value)) return { ok: false, fields: ['(root)'] };
  const fields: string[] = [];
  const { id, create_time, resource_type, event_type, summary, resource } = value;
  if (!isText(id)) fields.push('id');
  if (typeof create_time !== 'string' || !PROVIDER_TIME.test(create_time)) fields.push('create_time');
  if (!isText(resource_type)) fields.push('resource_type');
  if (!isText(event_type)) fields.push('event_type');
  if (summary !== undefined && typeof summary !== 'string') fields.push('summary');
  if (!isObject(resource)) fields.push('resource');
  else {
    if (!isText(resource.original_type)) fields.push('resource.original_type');
    if (resource.algorithm !== RESOURCE_ALGORITHM) fields.push('resource.algorithm');
    if (!isText(resource.ciphertext)) fields.push('resource.ciphertext');
    const ad = resource.associated_data;
    if (ad !== undefined && ad !== null && typeof ad !== 'string') fields.push('resource.associated_data');
    if (!isText(resource.nonce)) fields.push('resource.nonce');
  }
  if (fields.length > 0 || !isObject(resource)) return { ok: false, fields };
  const notification = {
    id,
    create_time,
    resource_type,
    event_type,
    ...(summary !== undefined ? { summary } : {}),
    resource: {
      original_type: resource.original_type,
      algorithm: RESOURCE_ALGORITHM,
      ciphertext: resource.ciphertext,
      ...(resource.associated_data !== undefined ? { associated_data: resource.associated_data } : {}),
      nonce: resource.nonce,
    },
  } as Notification;
  return { ok: true, notification };
}
