/**
 * Progress of a long operation on stderr: at a terminal, one line redrawn in place; elsewhere
 * (a log, CI), a plain line at each tenth, so a log is not flooded.
 */
export interface Progress {
  advance(done: number): void;
  finish(): void;
}

export function progressBar(write: (text: string) => void, isTTY: boolean, label: string, total: number): Progress {
  let done = 0;
  let lastTenth = 0;
  const WIDTH = 30;
  const draw = () => {
    const fraction = total === 0 ? 1 : done / total;
    const filled = Math.round(fraction * WIDTH);
    write(
      `\r${label} [${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${Math.floor(fraction * 100)}% ${done}/${total}`,
    );
  };
  return {
    advance(count) {
      done = Math.min(total, done + count);
      if (isTTY) return draw();
      const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        write(`${label}: ${done}/${total}\n`);
      }
    },
    finish() {
      if (isTTY && total > 0) write("\n");
    },
  };
}
