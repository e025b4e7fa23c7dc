import type { Pos } from '../errors.js';

/**
 * One layer of variables with its place in Ansible's precedence order
 * (see ../shared/reference/ansible-semantics.md: 1 lowest ... 22 extra vars).
 * Layers are merged lowest to highest; `herun --explain` prints them.
 */
export interface VarLayer {
  precedence: number;
  /** human label, e.g. "inventory group_vars/web", "role defaults (he_vm)" */
  label: string;
  /** where it came from: file path */
  source?: string;
  vars: Record<string, unknown>;
  /** optional per-variable positions (file:line:col where each key was set) */
  positions?: Record<string, Pos>;
}

export const PREC = {
  CLI: 1,
  ROLE_DEFAULTS: 2,
  INV_FILE_GROUP: 3,
  INV_GROUP_VARS_ALL: 4,
  PB_GROUP_VARS_ALL: 5,
  INV_GROUP_VARS: 6,
  PB_GROUP_VARS: 7,
  INV_FILE_HOST: 8,
  INV_HOST_VARS: 9,
  PB_HOST_VARS: 10,
  FACTS: 11,
  PLAY_VARS: 12,
  VARS_PROMPT: 13,
  VARS_FILES: 14,
  ROLE_VARS: 15,
  BLOCK_VARS: 16,
  TASK_VARS: 17,
  INCLUDE_VARS: 18,
  SET_FACT: 19,
  ROLE_PARAMS: 20,
  INCLUDE_PARAMS: 21,
  EXTRA_VARS: 22,
} as const;
