/**
 * Schema compatibility, judged by accepted data.
 *
 * A new schema version is compared with earlier ones by the set of instances each accepts,
 * never by its text. BACKWARD holds when every instance valid under the previous version is
 * valid under the new one; FORWARD when every instance valid under the new one is valid under
 * the previous one (Confluent Schema Registry's meanings); FULL is both, and the *_TRANSITIVE
 * forms check every earlier version rather than only the latest.
 *
 * Everything rests on one question: is every instance of `sub` valid under `sup`? It is
 * answered by walking both schemas keyword by keyword. The walk is sound: it only answers
 * "yes" with a proof, and every step it cannot prove (two different regular expressions,
 * exclusive `oneOf`, unknown keywords, remote `$ref`s) becomes a reported problem saying why.
 * `docs/schemas-compatibility.md` lists the rules.
 */

export {
  COMPATIBILITY_MODES,
  checkCompatibility,
  describeIncompatibility,
  describeReport,
  isCompatibilityMode,
  subschemaProblems,
  type CompatibilityMode,
  type CompatibilityReport,
  type Incompatibility,
  type JsonSchema,
  type SchemaProblem,
  type SchemaVersion,
} from './compatibility/api.js';
