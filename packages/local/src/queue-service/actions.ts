// The SQS actions the payhooks code, its CLI and its tests use, in the AWS JSON 1.0 protocol (the AWS SDK v3's
// for SQS): one function from (action, request body) to (HTTP status, answer body), shared by the HTTP server
// that the SDK talks to and the IPC channel the stack's gateway and poller use (queue-process.ts), so both paths
// have the same semantics. Errors carry AWS's `__type`, so the SDK raises the same exception classes as against AWS.
import { randomUUID } from 'node:crypto';
import {
  ACCOUNT_ID,
  DEFAULT_ATTRIBUTES,
  type LocalQueue,
  type MessageAttributeValue,
  type QueueService,
  type StoredMessage,
} from './model.ts';

export interface ActionAnswer {
  status: number;
  body: unknown;
  /** AWS's query-compatible error code (`x-amzn-query-error`), for errors. */
  queryError?: string;
}

type Body = Record<string, unknown>;

class SqsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    readonly queryCode?: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) =>
  new SqsFault(
    'com.amazon.coral.service#InvalidParameterValueException',
    message,
    400,
    'InvalidParameterValue',
  );
const missing = (name: string) =>
  new SqsFault(
    'com.amazon.coral.service#MissingRequiredParameterException',
    `The request must contain the parameter ${name}.`,
    400,
    'MissingParameter',
  );

const BATCH_MAX = 10;
const BATCH_MAX_BYTES = 1_048_576;
const PURGE_INTERVAL_MS = 60_000;

function queueOf(service: QueueService, body: Body): LocalQueue {
  const url = body.QueueUrl;
  const queue = typeof url === 'string' ? service.byUrl(url) : undefined;
  if (!queue)
    throw new SqsFault(
      'com.amazonaws.sqs#QueueDoesNotExist',
      'The specified queue does not exist.',
      400,
      'AWS.SimpleQueueService.NonExistentQueue',
    );
  return queue;
}

function integerIn(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw invalid(
      `Value ${String(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}.`,
    );
  return n;
}

function batchEntries(body: Body, action: string): Body[] {
  const entries = body.Entries;
  if (entries === undefined) throw missing('Entries');
  if (!Array.isArray(entries) || entries.length === 0)
    throw new SqsFault(
      'com.amazonaws.sqs#EmptyBatchRequest',
      `There should be at least one ${action}RequestEntry in the request.`,
      400,
      'AWS.SimpleQueueService.EmptyBatchRequest',
    );
  if (entries.length > BATCH_MAX)
    throw new SqsFault(
      'com.amazonaws.sqs#TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are ${BATCH_MAX}. You have sent ${entries.length}.`,
      400,
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
    );
  const ids = new Set<string>();
  for (const entry of entries as Body[]) {
    const id = entry?.Id;
    if (typeof id !== 'string' || !/^[\w-]{1,80}$/.test(id))
      throw new SqsFault(
        'com.amazonaws.sqs#InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
        400,
        'AWS.SimpleQueueService.InvalidBatchEntryId',
      );
    if (ids.has(id))
      throw new SqsFault(
        'com.amazonaws.sqs#BatchEntryIdsNotDistinct',
        `Id ${id} repeated.`,
        400,
        'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
      );
    ids.add(id);
  }
  return entries as Body[];
}

/** Validates one message to send; the reason it cannot be sent, or undefined. */
function sendProblem(queue: LocalQueue, entry: Body): string | undefined {
  if (typeof entry.MessageBody !== 'string' || entry.MessageBody.length === 0)
    return 'The request must contain the parameter MessageBody.';
  const max = Number(queue.attributes.MaximumMessageSize);
  if (Buffer.byteLength(entry.MessageBody, 'utf8') > max)
    return `One or more parameters are invalid. Reason: Message must be shorter than ${max} bytes.`;
  return undefined;
}

function sendOne(queue: LocalQueue, entry: Body): StoredMessage {
  return queue.send(entry.MessageBody as string, {
    ...(entry.DelaySeconds !== undefined
      ? { delaySeconds: integerIn(entry.DelaySeconds, 'DelaySeconds', 0, 900)! }
      : {}),
    ...(entry.MessageAttributes
      ? { messageAttributes: entry.MessageAttributes as Record<string, MessageAttributeValue> }
      : {}),
  });
}

const sentAnswer = (message: StoredMessage) => ({
  MessageId: message.id,
  MD5OfMessageBody: message.md5OfBody,
  ...(message.md5OfMessageAttributes ? { MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
});

function systemAttributes(
  message: StoredMessage,
  names: readonly string[],
): Record<string, string> | undefined {
  if (names.length === 0) return undefined;
  const all: Record<string, string> = {
    ApproximateReceiveCount: String(message.receiveCount),
    SentTimestamp: String(message.sentTimestamp),
    SenderId: ACCOUNT_ID,
    ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
    ...(message.deadLetterSourceArn ? { DeadLetterQueueSourceArn: message.deadLetterSourceArn } : {}),
  };
  if (names.includes('All')) return all;
  const chosen: Record<string, string> = {};
  for (const name of names) if (all[name] !== undefined) chosen[name] = all[name]!;
  return Object.keys(chosen).length > 0 ? chosen : undefined;
}

function chosenMessageAttributes(
  message: StoredMessage,
  names: readonly string[],
): Record<string, MessageAttributeValue> | undefined {
  const attributes = message.messageAttributes;
  if (!attributes || names.length === 0) return undefined;
  if (names.includes('All') || names.includes('.*')) return attributes;
  const chosen: Record<string, MessageAttributeValue> = {};
  for (const [key, value] of Object.entries(attributes))
    if (names.some((n) => (n.endsWith('.*') ? key.startsWith(n.slice(0, -1)) : key === n)))
      chosen[key] = value;
  return Object.keys(chosen).length > 0 ? chosen : undefined;
}

const stringList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

function queueAttributes(queue: LocalQueue, names: readonly string[]): Record<string, string> {
  const counts = queue.counts();
  const all: Record<string, string> = {
    ...queue.attributes,
    QueueArn: queue.arn,
    ApproximateNumberOfMessages: String(counts.visible),
    ApproximateNumberOfMessagesNotVisible: String(counts.inflight),
    ApproximateNumberOfMessagesDelayed: String(counts.delayed),
    CreatedTimestamp: String(queue.createdTimestamp),
    LastModifiedTimestamp: String(queue.lastModifiedTimestamp),
  };
  if (names.includes('All')) return all;
  const chosen: Record<string, string> = {};
  for (const name of names) if (all[name] !== undefined) chosen[name] = all[name]!;
  return chosen;
}

function checkedAttributes(attributes: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!attributes || typeof attributes !== 'object') return out;
  for (const [name, value] of Object.entries(attributes as Record<string, unknown>)) {
    const text = String(value);
    if (name === 'VisibilityTimeout') integerIn(text, name, 0, 43_200);
    else if (name === 'MaximumMessageSize') integerIn(text, name, 1024, 1_048_576);
    else if (name === 'MessageRetentionPeriod') integerIn(text, name, 60, 1_209_600);
    else if (name === 'DelaySeconds') integerIn(text, name, 0, 900);
    else if (name === 'ReceiveMessageWaitTimeSeconds') integerIn(text, name, 0, 20);
    else if (name === 'RedrivePolicy') {
      let policy: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
      try {
        policy = JSON.parse(text);
      } catch {
        throw invalid(
          'Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.',
        );
      }
      if (typeof policy.deadLetterTargetArn !== 'string')
        throw invalid('Redrive policy does not contain mandatory attribute: deadLetterTargetArn.');
      integerIn(policy.maxReceiveCount, 'maxReceiveCount', 1, 1000);
    } else if (
      !(name in DEFAULT_ATTRIBUTES) &&
      name !== 'RedriveAllowPolicy' &&
      name !== 'SqsManagedSseEnabled'
    )
      throw new SqsFault(
        'com.amazonaws.sqs#InvalidAttributeName',
        `Unknown Attribute ${name}.`,
        400,
        'InvalidAttributeName',
      );
    out[name] = text;
  }
  return out;
}

type Handler = (service: QueueService, body: Body) => unknown | Promise<unknown>;

const actions: Record<string, Handler> = {
  CreateQueue(service, body) {
    const name = body.QueueName;
    if (typeof name !== 'string' || !/^[\w-]{1,80}$/.test(name))
      throw invalid('Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
    const attributes = checkedAttributes(body.Attributes);
    const existing = service.byName(name);
    if (existing) {
      const differs = Object.entries(attributes).some(([k, v]) => existing.attributes[k] !== v);
      if (differs)
        throw new SqsFault(
          'com.amazonaws.sqs#QueueNameExists',
          'A queue already exists with the same name and a different value for attribute(s)',
          400,
          'QueueAlreadyExists',
        );
      return { QueueUrl: existing.url };
    }
    return { QueueUrl: service.create(name, attributes).url };
  },
  GetQueueUrl(service, body) {
    const queue = typeof body.QueueName === 'string' ? service.byName(body.QueueName) : undefined;
    return { QueueUrl: queueOf(service, { QueueUrl: queue?.url }).url };
  },
  ListQueues(service, body) {
    const prefix = typeof body.QueueNamePrefix === 'string' ? body.QueueNamePrefix : '';
    return { QueueUrls: service.list(prefix).map((q) => q.url) };
  },
  DeleteQueue(service, body) {
    service.remove(queueOf(service, body).name);
    return {};
  },
  GetQueueAttributes(service, body) {
    const queue = queueOf(service, body);
    const names = stringList(body.AttributeNames);
    return { Attributes: queueAttributes(queue, names.length > 0 ? names : []) };
  },
  SetQueueAttributes(service, body) {
    const queue = queueOf(service, body);
    Object.assign(queue.attributes, checkedAttributes(body.Attributes));
    queue.lastModifiedTimestamp = Math.floor(Date.now() / 1000);
    return {};
  },
  SendMessage(service, body) {
    const queue = queueOf(service, body);
    const problem = sendProblem(queue, body);
    if (problem) throw invalid(problem);
    return sentAnswer(sendOne(queue, body));
  },
  SendMessageBatch(service, body) {
    const queue = queueOf(service, body);
    const entries = batchEntries(body, 'SendMessageBatch');
    const bytes = entries.reduce(
      (sum, e) => sum + (typeof e.MessageBody === 'string' ? Buffer.byteLength(e.MessageBody, 'utf8') : 0),
      0,
    );
    if (bytes > BATCH_MAX_BYTES)
      throw new SqsFault(
        'com.amazonaws.sqs#BatchRequestTooLong',
        `Batch requests cannot be longer than ${BATCH_MAX_BYTES} bytes. You have sent ${bytes} bytes.`,
        400,
        'AWS.SimpleQueueService.BatchRequestTooLong',
      );
    const Successful: Body[] = [];
    const Failed: Body[] = [];
    for (const entry of entries) {
      const problem = sendProblem(queue, entry);
      if (problem)
        Failed.push({ Id: entry.Id, Code: 'InvalidParameterValue', Message: problem, SenderFault: true });
      else Successful.push({ Id: entry.Id, ...sentAnswer(sendOne(queue, entry)) });
    }
    return { Successful, Failed };
  },
  async ReceiveMessage(service, body) {
    const queue = queueOf(service, body);
    const max = integerIn(body.MaxNumberOfMessages, 'MaxNumberOfMessages', 1, BATCH_MAX) ?? 1;
    const wait =
      integerIn(body.WaitTimeSeconds, 'WaitTimeSeconds', 0, 20) ??
      Number(queue.attributes.ReceiveMessageWaitTimeSeconds);
    const visibility = integerIn(body.VisibilityTimeout, 'VisibilityTimeout', 0, 43_200);
    const messages = await queue.receive(max, wait, visibility);
    const systemNames = [...stringList(body.AttributeNames), ...stringList(body.MessageSystemAttributeNames)];
    const attributeNames = stringList(body.MessageAttributeNames);
    return {
      Messages: messages.map((m) => {
        const attributes = systemAttributes(m, systemNames);
        const messageAttributes = chosenMessageAttributes(m, attributeNames);
        return {
          MessageId: m.id,
          ReceiptHandle: m.receiptHandle,
          MD5OfBody: m.md5OfBody,
          Body: m.body,
          ...(attributes ? { Attributes: attributes } : {}),
          ...(messageAttributes
            ? { MessageAttributes: messageAttributes, MD5OfMessageAttributes: m.md5OfMessageAttributes }
            : {}),
        };
      }),
    };
  },
  DeleteMessage(service, body) {
    const queue = queueOf(service, body);
    if (typeof body.ReceiptHandle !== 'string') throw missing('ReceiptHandle');
    if (!queue.delete(body.ReceiptHandle))
      throw new SqsFault(
        'com.amazonaws.sqs#ReceiptHandleIsInvalid',
        `The input receipt handle "${body.ReceiptHandle}" is not a valid receipt handle.`,
        400,
        'ReceiptHandleIsInvalid',
      );
    return {};
  },
  DeleteMessageBatch(service, body) {
    const queue = queueOf(service, body);
    const Successful: Body[] = [];
    const Failed: Body[] = [];
    for (const entry of batchEntries(body, 'DeleteMessageBatch')) {
      if (typeof entry.ReceiptHandle === 'string' && queue.delete(entry.ReceiptHandle))
        Successful.push({ Id: entry.Id });
      else
        Failed.push({
          Id: entry.Id,
          Code: 'ReceiptHandleIsInvalid',
          Message: 'The input receipt handle is not a valid receipt handle.',
          SenderFault: true,
        });
    }
    return { Successful, Failed };
  },
  ChangeMessageVisibility(service, body) {
    const queue = queueOf(service, body);
    if (typeof body.ReceiptHandle !== 'string') throw missing('ReceiptHandle');
    const timeout = integerIn(body.VisibilityTimeout, 'VisibilityTimeout', 0, 43_200);
    if (timeout === undefined) throw missing('VisibilityTimeout');
    const outcome = queue.changeVisibility(body.ReceiptHandle, timeout);
    if (outcome === 'invalid')
      throw new SqsFault(
        'com.amazonaws.sqs#ReceiptHandleIsInvalid',
        'The input receipt handle is not valid.',
        400,
        'ReceiptHandleIsInvalid',
      );
    if (outcome === 'not-inflight')
      throw new SqsFault(
        'com.amazonaws.sqs#MessageNotInflight',
        'The message referred to is not in flight.',
        400,
        'AWS.SimpleQueueService.MessageNotInflight',
      );
    return {};
  },
  ChangeMessageVisibilityBatch(service, body) {
    const queue = queueOf(service, body);
    const Successful: Body[] = [];
    const Failed: Body[] = [];
    for (const entry of batchEntries(body, 'ChangeMessageVisibilityBatch')) {
      const timeout = Number(entry.VisibilityTimeout);
      const outcome =
        typeof entry.ReceiptHandle === 'string' &&
        Number.isInteger(timeout) &&
        timeout >= 0 &&
        timeout <= 43_200
          ? queue.changeVisibility(entry.ReceiptHandle, timeout)
          : 'invalid';
      if (outcome === 'ok') Successful.push({ Id: entry.Id });
      else
        Failed.push({
          Id: entry.Id,
          Code:
            outcome === 'invalid' ? 'ReceiptHandleIsInvalid' : 'AWS.SimpleQueueService.MessageNotInflight',
          Message:
            outcome === 'invalid'
              ? 'The input receipt handle is not valid.'
              : 'The message is not in flight.',
          SenderFault: true,
        });
    }
    return { Successful, Failed };
  },
  PurgeQueue(service, body) {
    const queue = queueOf(service, body);
    if (Date.now() - queue.lastPurgeMs < PURGE_INTERVAL_MS)
      throw new SqsFault(
        'com.amazonaws.sqs#PurgeQueueInProgress',
        `Only one PurgeQueue operation on ${queue.name} is allowed every 60 seconds.`,
        403,
        'AWS.SimpleQueueService.PurgeQueueInProgress',
      );
    queue.lastPurgeMs = Date.now();
    queue.purge();
    return {};
  },
  StartMessageMoveTask(service, body) {
    const source = typeof body.SourceArn === 'string' ? service.byArn(body.SourceArn) : undefined;
    if (!source)
      throw new SqsFault(
        'com.amazonaws.sqs#ResourceNotFoundException',
        "The resource that you specified for the SourceArn parameter doesn't exist.",
        404,
        'ResourceNotFoundException',
      );
    if (source.moveTasks.some((t) => t.status === 'RUNNING'))
      throw invalid(
        'There is already a task running. Only one active task is allowed for a source queue arn at a given time.',
      );
    const destination =
      typeof body.DestinationArn === 'string' ? service.byArn(body.DestinationArn) : undefined;
    if (typeof body.DestinationArn === 'string' && !destination)
      throw new SqsFault(
        'com.amazonaws.sqs#ResourceNotFoundException',
        'The destination queue does not exist.',
        404,
        'ResourceNotFoundException',
      );
    // Moved at once: a local DLQ is small, and a finished task answers every poll of ListMessageMoveTasks alike.
    const toMove = source.counts().visible;
    const outcome = source.moveVisibleTo(destination);
    const task = {
      taskHandle: Buffer.from(JSON.stringify({ taskId: randomUUID(), sourceArn: source.arn })).toString(
        'base64',
      ),
      sourceArn: source.arn,
      ...(destination ? { destinationArn: destination.arn } : {}),
      status: outcome.failure ? ('FAILED' as const) : ('COMPLETED' as const),
      moved: outcome.moved,
      toMove,
      startedTimestamp: Date.now(),
      ...(outcome.failure ? { failureReason: outcome.failure } : {}),
    };
    source.moveTasks.unshift(task);
    source.moveTasks.length = Math.min(source.moveTasks.length, 10);
    return { TaskHandle: task.taskHandle };
  },
  ListMessageMoveTasks(service, body) {
    const source = typeof body.SourceArn === 'string' ? service.byArn(body.SourceArn) : undefined;
    if (!source)
      throw new SqsFault(
        'com.amazonaws.sqs#ResourceNotFoundException',
        "The resource that you specified for the SourceArn parameter doesn't exist.",
        404,
        'ResourceNotFoundException',
      );
    const max = integerIn(body.MaxResults, 'MaxResults', 1, 10) ?? 1;
    return {
      Results: source.moveTasks.slice(0, max).map((t) => ({
        TaskHandle: t.taskHandle,
        Status: t.status,
        SourceArn: t.sourceArn,
        ...(t.destinationArn ? { DestinationArn: t.destinationArn } : {}),
        ApproximateNumberOfMessagesMoved: t.moved,
        ApproximateNumberOfMessagesToMove: t.toMove,
        StartedTimestamp: t.startedTimestamp,
        ...(t.failureReason ? { FailureReason: t.failureReason } : {}),
      })),
    };
  },
};

/** Runs one action; never throws (a fault becomes its AWS JSON error answer). */
export async function runAction(service: QueueService, action: string, body: unknown): Promise<ActionAnswer> {
  const handler = Object.hasOwn(actions, action) ? actions[action] : undefined;
  try {
    if (!handler)
      throw new SqsFault(
        'com.amazon.coral.service#UnknownOperationException',
        `The action ${action} is not valid for this endpoint.`,
        400,
        'AWS.SimpleQueueService.UnsupportedOperation',
      );
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new SqsFault(
        'com.amazon.coral.service#SerializationException',
        'The request body is not a JSON object.',
      );
    return { status: 200, body: await handler(service, body as Body) };
  } catch (error) {
    if (!(error instanceof SqsFault)) throw error;
    return {
      status: error.status,
      body: { __type: error.type, message: error.message },
      ...(error.queryCode ? { queryError: `${error.queryCode};Sender` } : {}),
    };
  }
}
