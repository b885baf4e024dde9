import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { answersSchema } from '../answers/schema.js';
import type { IO } from '../io.js';

export function answersJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(answersSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { $id: 'https://ha-setup.invalid/answers.schema.json', title: 'ha-setup answers', ...schema };
}

export async function schemaCommand(io: IO, opts: { out?: string }): Promise<number> {
  const text = JSON.stringify(answersJsonSchema(), null, 2) + '\n';
  if (opts.out) {
    writeFileSync(opts.out, text);
    io.err(`wrote ${opts.out}`);
  } else io.out(text);
  return 0;
}
