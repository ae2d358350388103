/** Options every command accepts after its name (spec section 2). */
export interface CommonOptions {
  config?: string;
  stateDir?: string;
  json?: boolean;
  yes?: boolean;
  verbose?: boolean;
  color?: boolean;
}

/** Options of commands that run a playbook. */
export interface RunOptions extends CommonOptions {
  dryRun?: boolean;
  junit?: string;
  step?: boolean;
  fromStep?: string;
  set?: string[];
  /** Measure what users see through the portable IP during the run (spec 10). */
  probe?: boolean;
  /** Write report.json, report.svg and report.html there (implies --probe). */
  report?: string;
}

/** -c FILE, else $MIRRORCTL_CONFIG, else ./mirrorctl.yaml; as given, so messages name the file the way the operator did. */
export function inventoryPath(options: CommonOptions): string {
  return options.config ?? process.env.MIRRORCTL_CONFIG ?? 'mirrorctl.yaml';
}

/** Colour only on a terminal, never with --no-color or NO_COLOR. */
export function wantsColor(options: CommonOptions, fd: number): boolean {
  if (options.color === false || 'NO_COLOR' in process.env) return false;
  return fd === 1 ? Boolean(process.stdout.isTTY) : Boolean(process.stderr.isTTY);
}
