// Validation of one record: dispatch on its kind, then Ajv (draft 2020-12, strict) and the id rule.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { schemaDocuments, type generatedKinds, type RecordByKind } from './generated/index.js';
import { recordKind, type RecordKind } from './kinds.js';
import { idMatches, expectedRecordId } from './id.js';

// Adding a schema file without teaching the dispatcher about it (or the reverse) breaks the build here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const kindsMatchSchemaFiles: Same<RecordKind, (typeof generatedKinds)[number]> = true;
const kindsMatchTypes: Same<RecordKind, keyof RecordByKind> = true;
void kindsMatchSchemaFiles;
void kindsMatchTypes;

/** The result of validating one record. `kind` is the schema it was checked against. */
export type ValidationResult = { ok: true; kind: RecordKind } | { ok: false; kind: RecordKind | null; errors: string[] };

const SCHEMA_BASE = 'https://scope.dev/schemas/';

/** The `$id` of a record kind's schema. */
export function schemaUri(kind: RecordKind | 'defs'): string {
  return `${SCHEMA_BASE}${kind}.json`;
}

let ajv: Ajv2020 | undefined;
const validators = new Map<RecordKind, ValidateFunction>();

function validatorFor(kind: RecordKind): ValidateFunction {
  let validate = validators.get(kind);
  if (validate !== undefined) return validate;
  if (ajv === undefined) {
    // allowUnionTypes: metric dimensions are "string or number", which strict mode otherwise refuses.
    ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    for (const doc of Object.values(schemaDocuments)) ajv.addSchema(doc as object);
  }
  validate = ajv.getSchema(schemaUri(kind));
  if (validate === undefined) throw new Error(`@scope/schemas: no schema for kind ${kind}`);
  validators.set(kind, validate);
  return validate;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? '/' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  let why = error.message ?? error.keyword;
  if (error.keyword === 'additionalProperties') why += `: ${String(params['additionalProperty'])}`;
  else if (error.keyword === 'unevaluatedProperties') why += `: ${String(params['unevaluatedProperty'])}`;
  else if (error.keyword === 'const') why += ` ${JSON.stringify(params['allowedValue'])}`;
  else if (error.keyword === 'enum') why += `: ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  return `${where} ${why}`;
}

function idErrors(kind: RecordKind, record: unknown): string[] {
  if (kind === 'process-start') {
    const p = (record as RecordByKind['process-start']).info.process;
    return idMatches(p.id, p.hostname, p.procname, p.cmd)
      ? []
      : [`/info/process/id must be "<hostname>-<procname>-<last 32 characters of cmd>": expected ${JSON.stringify(expectedRecordId(p.hostname, p.procname, p.cmd))}`];
  }
  if ((record as { type?: unknown }).type === 'evt') {
    const e = record as RecordByKind['event'];
    return idMatches(e.id, e.body.host, e.body.proc, e.body.cmd)
      ? []
      : [`/id must be "<host>-<proc>-<last 32 characters of cmd>": expected ${JSON.stringify(expectedRecordId(e.body.host, e.body.proc, e.body.cmd))}`];
  }
  return [];
}

/** Validate a record against the schema of the given kind, whatever its shape says. */
export function validateAs(kind: RecordKind, record: unknown): ValidationResult {
  const validate = validatorFor(kind);
  if (!validate(record)) {
    const errors = [...new Set((validate.errors ?? []).map(describe))];
    return { ok: false, kind, errors };
  }
  const errors = idErrors(kind, record);
  return errors.length === 0 ? { ok: true, kind } : { ok: false, kind, errors };
}

/** Validate a record against the schema its shape selects (see {@link recordKind}). */
export function validateRecord(record: unknown): ValidationResult {
  const kind = recordKind(record);
  if (kind === null) {
    return {
      ok: false,
      kind: null,
      errors: ['/ is not a scope record: expected an event (type "evt"), a metric (type "metric") or a process-start record (format, info)'],
    };
  }
  return validateAs(kind, record);
}

/** Type guard: whether a record is valid as the given kind. */
export function isRecordOf<K extends RecordKind>(kind: K, record: unknown): record is RecordByKind[K] {
  return validateAs(kind, record).ok;
}
