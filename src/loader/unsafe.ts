/** A string marked `!unsafe` in YAML (or data that came from a managed host): never templated. */
export class Unsafe {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
  toJSON(): string {
    return this.value;
  }
}
