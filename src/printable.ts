/**
 * Text a host sent (a file's content, a log line, a program's error output, a keyword of its configuration) made
 * safe for a terminal: every C0 control character but the tab (newline, carriage return, ESC, backspace, BEL...),
 * DEL and the C1 controls (U+0080..U+009F, among them the 8-bit CSI) are shown as a visible \xNN. A host cannot
 * move the cursor, recolour, retitle or clear the operator's terminal, nor forge a line of ha-setup's own output.
 * Applied to the remote strings where they are printed, never to the whole output (ha-setup's own colours stay).
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** the last non-empty lines of a program's output on a host, on one line (" | " between them), made printable */
export function lastLines(text: string, n = 4): string {
  return printable(
    text
      .split('\n')
      .filter((l) => !/^\s*$/.test(l))
      .slice(-n)
      .join(' | ')
      .trim(),
  );
}
