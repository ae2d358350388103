import { z } from 'zod';

// The playbook format of spec section 7.

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const param = z
  .object({
    required: z.boolean().optional(),
    default: scalar.optional(),
    choices: z.array(scalar).min(1).optional(),
    description: z.string().optional(),
  })
  .strict();

const duration = z.union([z.number().int().min(0), z.string().regex(/^\d+(ms|s|m)?$/, 'must be a duration like 30s, 500ms or 2m')]);

const step = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, - or _'),
    action: z.string().min(1),
    name: z.string().optional(),
    host: z.string().min(1).optional(),
    with: z.record(z.string(), z.unknown()).optional(),
    when: z.record(z.string(), scalar).optional(),
    optional: z.boolean().optional(),
    ignore_errors: z.boolean().optional(),
    timeout: duration.optional(),
    retries: z.number().int().min(0).max(20).optional(),
  })
  .strict();

export const playbookSchema = z
  .object({
    name: z.string().min(1),
    summary: z.string().min(1),
    description: z.string().optional(),
    params: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'parameter names are lower-case'), param.nullable()).optional(),
    steps: z.array(step).min(1),
  })
  .strict();

export type PlaybookDocument = z.infer<typeof playbookSchema>;
export type StepDocument = z.infer<typeof step>;
export type ParamDocument = z.infer<typeof param>;

/** A step as the engine sees it: templates still unrendered (rendered per phase). */
export interface StepSpec {
  id: string;
  action: string;
  name: string | null;
  /** Host template or name, null when the action names its hosts in `with`. */
  host: string | null;
  with: Record<string, unknown>;
  when: Record<string, string | number | boolean>;
  optional: boolean;
  /** A blocked check or a failure of this step is a warning; the run goes on (spec 7). */
  ignoreErrors: boolean;
  timeoutMs: number;
  retries: number;
  /** Ids of earlier steps whose outputs this step uses (in host, with or when). */
  uses: string[];
  /** Line of the step in its file, for messages. */
  line: number | null;
}

/** A loaded, validated playbook with its parameters resolved. */
export interface Playbook {
  file: string;
  name: string;
  summary: string;
  params: Record<string, string | number | boolean | null>;
  steps: StepSpec[];
}

export const DEFAULT_STEP_TIMEOUT_MS = 60_000;
