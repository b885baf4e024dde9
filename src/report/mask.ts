/**
 * Secrets in file text, found by the key that sets them rather than by their value: a host's old file holds the
 * password or URL of a run long gone, which no answers know. Every line that sets one is shown with its value
 * replaced by ********, whatever comes before the key (a diff's -, + or space; keepalived 2.x's one-line block
 * `authentication { auth_type PASS auth_pass x }`); the rest of such a line is masked too, so a quoted value with
 * spaces or a brace glued to it cannot show through. The values themselves are collected as well, for the
 * value-based redaction (redact) of everything else printed beside them.
 */

interface SecretSetting {
  /** group 1: what stays shown (the key and its separator); the rest of the line is the secret */
  line: RegExp;
  /** group 1, 2 or 3: the value */
  value: RegExp;
}

const SETTINGS: SecretSetting[] = [
  // keepalived: the VRRP password (a quoted word is one value in 1.x and 2.x)
  { line: /(\bauth_pass[ \t]+)\S.*$/, value: /\bauth_pass[ \t]+(?:"([^"]*)"|([^\s"{}]+))/ },
  // the notify hook ha-setup wrote before the URL moved to its root-only file: WEBHOOK_URL='https://...'
  { line: /(\bWEBHOOK_URL=)\S.*$/, value: /\bWEBHOOK_URL=(?:'([^']*)'|"([^"]*)"|(\S+))/ },
];

const MASK = '********';

/** one line with the value of every secret it sets replaced by ******** */
export function maskSecretLine(line: string): string {
  let out = line;
  for (const s of SETTINGS) out = out.replace(s.line, `$1${MASK}`);
  return out;
}

/** every line of `text` through maskSecretLine */
export function maskSecretLines(text: string): string {
  return text.split('\n').map(maskSecretLine).join('\n');
}

/**
 * the secret values `text` sets, of at least `min` characters (a shorter value is masked on its own line, but
 * replacing every occurrence of two letters would mangle the whole output)
 */
export function secretValuesIn(text: string, min = 4): string[] {
  const found = new Set<string>();
  for (const line of text.split('\n'))
    for (const s of SETTINGS) {
      const m = s.value.exec(line);
      const v = m?.[1] ?? m?.[2] ?? m?.[3];
      if (v !== undefined && v.length >= min) found.add(v);
    }
  return [...found];
}
