// Module resolution hook for ssh2-shim.mjs (see there).
export async function resolve(specifier, context, next) {
  if (specifier === 'ssh2') {
    return { url: new URL('./ssh2-esm.mjs', import.meta.url).href, shortCircuit: true };
  }
  return next(specifier, context);
}
