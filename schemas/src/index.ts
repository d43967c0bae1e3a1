// @scope/schemas: the record schemas, their generated types, and validators.
import { schemaDocuments } from './generated/index.js';

export type * from './generated/index.js';
export { recordKinds, recordKind, type RecordKind } from './kinds.js';
export { expectedRecordId } from './id.js';
export { validateRecord, validateAs, isRecordOf, schemaUri, type ValidationResult } from './validate.js';
export { validateNdjson, validateNdjsonFile, formatFailures, type NdjsonFailure, type NdjsonReport } from './ndjson.js';

/** Every schema document of schemas/json/ by name (a record kind, or "defs" for the shared parts). */
export const schemas = schemaDocuments;

/** Any record scope writes. */
export type ScopeRecord = import('./generated/index.js').RecordByKind[import('./kinds.js').RecordKind];
