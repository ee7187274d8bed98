/**
 * Colour for people at a terminal, none for pipes and files: on when the stream is a TTY,
 * off when NO_COLOR is set (no-color.org) or TERM is dumb; FORCE_COLOR turns it on anyway.
 */
import pc from 'picocolors';

export type Colours = ReturnType<typeof pc.createColors>;

export function colourEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export function colourFor(stream: { isTTY?: boolean }): Colours {
  return pc.createColors(colourEnabled(stream));
}
