/**
 * The shape of an external device's names (issue 5): the device name an
 * operator gives and the NBD export name, which together make its LU's id
 * `DEVICE:EXPORT`. The controller checks device names and the device checks
 * export names (it probes the server, the controller does not), so both
 * share this one definition; a `:` in either would make `DEVICE:LU` on the
 * command line ambiguous.
 */

/** A name is at most this long: it appears in every table and every error line. */
export const externalNameBytesMax = 64;

const externalNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Letters, digits, '.', '_' and '-', starting with a letter or digit, at most externalNameBytesMax long. */
export function isExternalName(name: string): boolean {
  return name.length <= externalNameBytesMax && externalNamePattern.test(name);
}

/** The rule in words, for refusals. */
export const externalNameRule = `1 to ${externalNameBytesMax} letters, digits, '.', '_' or '-', starting with a letter or digit`;
