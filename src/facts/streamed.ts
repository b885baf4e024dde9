/**
 * Streamed facts: where a fact of the table (table.ts) is read once, a streamed one is a loop on the host printing a
 * line per sample for as long as it runs. observe/ runs it over the SSH connection (observe/remote-loop.ts) and
 * reads each line as it comes. Each is a POSIX sh snippet, its inputs passed as positional parameters, and a line
 * parser.
 */

export interface StreamedFactDef<T> {
  /** POSIX sh, a sample every `periodMs`; its inputs are "$@" */
  sh(periodMs: number): string;
  parseLine(line: string): T;
}

/** one sample of the holder loop: the host's clock (ns since the epoch) and the VIPs it holds */
export interface HolderLine {
  ns: string;
  vips: string[];
}

/** which of the VIPs given as parameters the host holds, with the time: "NS[ VIP...]" */
export const HOLDER_LOOP: StreamedFactDef<HolderLine> = {
  sh: (periodMs) =>
    // a VIP on lo is ha-setup's short hand-over hold, not the node holding the VIP (observe/holders.ts)
    `while :; do a=$(ip -o addr show 2>/dev/null | grep -v '^[0-9]*: lo '); printf '%s' "$(date +%s%N)"; ` +
    `for v in "$@"; do case "$a" in *" inet $v/"*|*" inet6 $v/"*) printf ' %s' "$v";; esac; done; ` +
    `echo; sleep ${(periodMs / 1000).toFixed(3)}; done`,
  parseLine(line) {
    const [ns, ...held] = line.split(' ');
    return { ns, vips: held.filter(Boolean) };
  },
};
