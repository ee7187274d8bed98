/**
 * The settings of an action target that hold secrets. On their own (no imports) because both
 * the rules' model and the sinks' injected checks (`SinkChecks.actionTargetSecrets`) name them.
 */

export type ActionAuth = { type: 'basic'; user: string; password: string } | { type: 'bearer'; token: string };

/** The settings of an action target that hold secrets. */
export interface ActionTargetSecrets {
  auth: ActionAuth | null;
  headers: Record<string, string>;
  /** Standard Webhooks signing secrets (`whsec_…`); several while rotating */
  signing: { secrets: string[] } | null;
}

/** Those settings as given on a save, unchecked: absent, null, or anything a client sent. */
export interface GivenActionTargetSecrets {
  auth?: unknown;
  headers?: unknown;
  signing?: unknown;
}
