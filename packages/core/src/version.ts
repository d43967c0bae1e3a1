/** The version every tool reports and writes into session manifests. */
export const SCOPE_VERSION = '0.1.0';
