/** Control characters a terminal would act on (all C0 but tab and newline, DEL, C1): none may reach the output raw. */
export function rawControls(text: string): string[] {
  return [...text].filter((c) => {
    const n = c.charCodeAt(0);
    return (n < 0x20 && n !== 0x09 && n !== 0x0a) || (n >= 0x7f && n <= 0x9f);
  });
}
