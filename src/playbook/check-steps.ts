import { closest, type Problem } from '../inventory/problems.js';
import type { KeyPath, YamlSource } from '../inventory/positions.js';
import type { Inventory } from '../inventory/schema.js';
import { COMMAND_KEYS, commandTemplateProblems } from './command-templates.js';
import type { ActionInfo } from './action-info.js';
import { HOST_KEYS } from './host-keys.js';
import type { ParamValue } from './params.js';
import type { PlaybookDocument, StepDocument } from './schema.js';
import { parseTemplate, referencesIn, render, splitReference, TemplateSyntaxError, valueAtPath } from './templates.js';

// The checks a playbook gets before any host is contacted: ids, actions, hosts, `with` keys, templates.

interface StepCheckContext {
  source: YamlSource;
  params: Record<string, ParamValue>;
  declaredParams: PlaybookDocument['params'];
  inventory: Inventory;
  actions: ReadonlyMap<string, ActionInfo>;
}

// Problems in the steps, and for each step the ids of earlier steps it uses.
export function checkSteps(steps: readonly StepDocument[], ctx: StepCheckContext): { problems: Problem[]; uses: string[][] } {
  const problems: Problem[] = [];
  const firstIndex = new Map<string, number>();
  const uses = steps.map((step, i) => {
    const at = (...rest: Array<string | number>): KeyPath => ['steps', i, ...rest];
    const first = firstIndex.get(step.id);
    if (first !== undefined) {
      problems.push({ path: at('id'), problem: `duplicate id "${step.id}" (first at line ${ctx.source.lineOf(['steps', first, 'id'])})`, hint: 'give every step its own id' });
    } else firstIndex.set(step.id, i);
    const action = ctx.actions.get(step.action);
    if (!action) {
      const known = [...ctx.actions.keys()].sort();
      const guess = closest(step.action, known);
      problems.push({ path: at('action'), problem: `unknown action "${step.action}"`, hint: `${guess ? `did you mean ${guess}? ` : ''}known actions: ${known.join(', ')}` });
    } else {
      if (action.needsHost && step.host === undefined) {
        problems.push({ path: at('host'), problem: `required (action ${step.action} runs on a host)`, hint: 'add host: NAME or host: "{{ params.NAME }}"' });
      }
      for (const key of Object.keys(step.with ?? {})) {
        if (action.paramKeys && !action.paramKeys.includes(key)) {
          const guess = closest(key, action.paramKeys);
          const takes = action.paramKeys.length > 0 ? `${step.action} takes: ${action.paramKeys.join(', ')}` : `${step.action} takes no parameters`;
          problems.push({ path: at('with', key), problem: 'unknown key', hint: guess ? `did you mean \`${guess}\`? ${takes}` : takes });
        }
      }
    }
    return checkReferences(steps, i, ctx, problems);
  });
  return { problems, uses };
}

// Checks every template and `when` reference of step i; returns the earlier step ids it uses.
function checkReferences(steps: readonly StepDocument[], i: number, ctx: StepCheckContext, problems: Problem[]): string[] {
  const step = steps[i]!;
  const used = new Set<string>();
  const checkOne = (ref: string, path: KeyPath, shown: string) => {
    const problem = referenceProblem(ref, steps, i, ctx);
    if (problem) problems.push({ path, problem: `${shown} ${problem.problem}`, hint: problem.hint });
    else if (ref.startsWith('steps.')) used.add(String(splitReference(ref)[1]));
  };
  const checkText = (text: string, path: KeyPath) => {
    try {
      for (const part of parseTemplate(text)) if ('ref' in part) checkOne(part.ref, path, `{{ ${part.ref} }}`);
    } catch (error) {
      if (!(error instanceof TemplateSyntaxError)) throw error;
      problems.push({ path, problem: error.message, hint: 'write templates as {{ params.NAME }}, {{ steps.ID.NAME }} or {{ inventory.PATH }}' });
    }
  };
  if (step.host !== undefined) checkText(step.host, ['steps', i, 'host']);
  walkWithPath(step.with ?? {}, ['steps', i, 'with'], checkText);
  for (const key of COMMAND_KEYS) {
    const command = step.with?.[key];
    if (typeof command === 'string' && wellFormed(command)) problems.push(...commandTemplateProblems(command, ['steps', i, 'with', key]));
  }
  for (const [ref, expected] of Object.entries(step.when ?? {})) {
    const path: KeyPath = ['steps', i, 'when', ref];
    try {
      splitReference(ref);
    } catch (error) {
      if (!(error instanceof TemplateSyntaxError)) throw error;
      problems.push({ path, problem: error.message, hint: 'when: keys are references without braces, e.g. params.mode: promote' });
      continue;
    }
    checkOne(ref, path, ref);
    const choices = ref.startsWith('params.') ? ctx.declaredParams?.[ref.slice(7)]?.choices : undefined;
    if (choices && !choices.some((c) => String(c) === String(expected))) {
      problems.push({ path, problem: `"${expected}" is not one of ${choices.join(', ')}, so this step would never run` });
    }
  }
  return [...used];
}

// Why a reference made by step i is wrong, or null when it is fine.
function referenceProblem(ref: string, steps: readonly StepDocument[], i: number, ctx: StepCheckContext): { problem: string; hint?: string } | null {
  const [root, ...path] = splitReference(ref);
  if (root === 'params') {
    const names = Object.keys(ctx.declaredParams ?? {});
    if (path.length === 1 && names.includes(String(path[0]))) return null;
    return { problem: `refers to unknown parameter "${path.join('.')}"`, hint: names.length > 0 ? `declared parameters: ${names.join(', ')}` : 'declare it under params:' };
  }
  if (root === 'steps') {
    const [id, name] = path.map(String);
    if (path.length !== 2) return { problem: 'must be steps.ID.NAME' };
    const index = steps.findIndex((s) => s.id === id);
    if (index === -1) return { problem: `refers to step ${id} which does not exist`, hint: `step ids: ${steps.map((s) => s.id).join(', ')}` };
    if (index >= i) return { problem: `refers to step ${id} which does not run before it`, hint: 'a step can only use outputs of the steps listed before it' };
    const action = steps[index]!.action;
    const outputs = ctx.actions.get(action)?.outputs;
    if (outputs && !outputs.includes(name!)) {
      return { problem: `names output "${name}", which step ${id} (${action}) does not produce`, hint: outputs.length > 0 ? `its outputs: ${outputs.join(', ')}` : `${action} has no outputs` };
    }
    return null;
  }
  if (valueAtPath(ctx.inventory.doc, path) !== undefined) return null;
  return { problem: `is not set in ${ctx.inventory.file}`, hint: 'inventory paths follow the inventory keys, e.g. inventory.database.port' };
}

// A host named literally (or through params/inventory templates) must be defined in the inventory.
export function checkLiteralHosts(steps: readonly StepDocument[], ctx: StepCheckContext): Problem[] {
  const problems: Problem[] = [];
  const scope = { params: ctx.params, inventory: ctx.inventory.doc, stepOutput: () => undefined };
  const defined = [...ctx.inventory.hosts.keys()];
  const checkHost = (value: unknown, path: KeyPath) => {
    if (typeof value !== 'string' || referencesIn(value).some((ref) => ref.startsWith('steps.'))) return;
    const host = render(value, scope);
    if (typeof host === 'string' && host !== '' && !ctx.inventory.hosts.has(host)) {
      problems.push({ path, problem: `host "${host}" is not defined in ${ctx.inventory.file}`, hint: `defined hosts: ${defined.join(', ')}` });
    }
  };
  steps.forEach((step, i) => {
    checkHost(step.host, ['steps', i, 'host']);
    for (const key of HOST_KEYS) checkHost(step.with?.[key], ['steps', i, 'with', key]);
  });
  return problems;
}

// True when every template in `text` parses (malformed ones are reported once, by checkText).
function wellFormed(text: string): boolean {
  try {
    parseTemplate(text);
    return true;
  } catch (error) {
    if (error instanceof TemplateSyntaxError) return false;
    throw error;
  }
}

// Calls `visit` for every string inside `value` with its key path.
function walkWithPath(value: unknown, path: KeyPath, visit: (text: string, path: KeyPath) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => walkWithPath(item, [...path, i], visit));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) walkWithPath(item, [...path, key], visit);
  }
}
