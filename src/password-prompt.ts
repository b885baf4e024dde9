/**
 * The SSH / sudo password, asked on the terminal when a command needs it. Outside src/wizard/ because the commands
 * that reach the hosts (init, status, rollback, switchover, maintenance) and verify-failover (src/failover/) all ask
 * it, and src/wizard/ imports from src/failover/ (the review's failover bounds): no folder cycle.
 */

/** the SSH / sudo password, asked on the terminal (stderr) when there is one; never echoed */
export function passwordPrompt(io: { stdinIsTTY: boolean }): ((message: string) => Promise<string>) | undefined {
  if (!io.stdinIsTTY) return undefined;
  return async (message) => {
    const { password } = await import('@inquirer/prompts');
    return password({ message, mask: '*' }, { input: process.stdin, output: process.stderr });
  };
}
