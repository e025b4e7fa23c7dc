/**
 * Whether the CLI shows live progress. Kept apart from progress.ts so that deciding
 * does not load listr2: plain runs (CI, pipes) never import it.
 */
/** Whether the CLI should show live progress: a TTY, human output, not CI, not -vv, not --no-progress, not TERM=dumb. */
export function shouldUseProgress(o: {
  isTTY: boolean | undefined;
  output?: string;
  verbosity: number;
  progress?: boolean;
  env: Record<string, string | undefined>;
  /** terminal width when known: a terminal without a usable size (0 columns) gets plain lines */
  columns?: number;
}): boolean {
  if (o.progress === false || o.output === 'json' || !o.isTTY || o.verbosity >= 2) return false;
  if (o.columns !== undefined && o.columns < 20) return false;
  const ci = (o.env.CI ?? '').trim().toLowerCase();
  if (ci && ci !== 'false' && ci !== '0') return false;
  if (o.env.TERM === 'dumb') return false;
  return true;
}
