import type { InventorySection } from '../inventory/schema.js';

/** What the loader needs to know about an action to validate steps that use it. */
export interface ActionInfo {
  outputs: readonly string[];
  needsHost: boolean;
  /** Keys `with` accepts; null when the action accepts any. */
  paramKeys: readonly string[] | null;
  needs: readonly InventorySection[];
}
