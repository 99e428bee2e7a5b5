// A small JSON Schema check for the OpenAPI descriptions' response shapes: the keywords docs/openapi/*.yaml
// uses (type incl. 'null' and arrays of types, enum, required, properties, additionalProperties: false, items,
// pattern, minLength/maxLength, format date-time, oneOf, $ref into the document). Anything else it meets is a
// problem too, so a description cannot quietly use a keyword this check ignores.

type Schema = Record<string, unknown>;

const KNOWN = new Set([
  'type',
  'enum',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'pattern',
  'minLength',
  'maxLength',
  'format',
  'oneOf',
  '$ref',
  'description',
]);

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function resolve(document: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`only local $ref is supported, got ${ref}`);
  let node: unknown = document;
  for (const part of ref.slice(2).split('/')) node = (node as Schema)[part];
  if (!node) throw new Error(`$ref ${ref} does not resolve`);
  return node as Schema;
}

/** Problems of `value` against `schema` (empty = valid), each naming the JSON path. */
export function validate(document: Schema, schema: Schema, value: unknown, at = '$'): string[] {
  const problems: string[] = [];
  for (const keyword of Object.keys(schema))
    if (!KNOWN.has(keyword)) problems.push(`${at}: schema keyword ${keyword} is not checked`);
  if (typeof schema.$ref === 'string') return validate(document, resolve(document, schema.$ref), value, at);
  if (Array.isArray(schema.oneOf)) {
    const passing = schema.oneOf.filter((s) => validate(document, s as Schema, value, at).length === 0);
    if (passing.length !== 1) problems.push(`${at}: matches ${passing.length} of oneOf, expected 1`);
    return problems;
  }
  if (schema.type !== undefined) {
    const types = ([] as unknown[]).concat(schema.type) as string[];
    const actual = typeOf(value);
    if (!types.includes(actual) && !(actual === 'integer' && types.includes('number'))) {
      problems.push(`${at}: ${actual} is not ${types.join(' | ')}`);
      return problems;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    problems.push(`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value))
      problems.push(`${at}: "${value}" does not match ${schema.pattern}`);
    if (typeof schema.minLength === 'number' && value.length < schema.minLength)
      problems.push(`${at}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength)
      problems.push(`${at}: longer than ${schema.maxLength}`);
    if (schema.format === 'date-time' && !ISO_UTC.test(value))
      problems.push(`${at}: "${value}" is not an ISO 8601 UTC time`);
  }
  if (Array.isArray(value) && schema.items)
    value.forEach((item, i) => {
      problems.push(...validate(document, schema.items as Schema, item, `${at}[${i}]`));
    });
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    for (const name of (schema.required as string[] | undefined) ?? [])
      if (!(name in object)) problems.push(`${at}: ${name} is missing`);
    const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [name, item] of Object.entries(object)) {
      if (properties[name]) problems.push(...validate(document, properties[name], item, `${at}.${name}`));
      else if (schema.additionalProperties === false) problems.push(`${at}: ${name} is not described`);
    }
  }
  return problems;
}
